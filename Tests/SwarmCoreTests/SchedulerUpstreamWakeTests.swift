import SwarmCore
import SwarmProtocol
import Testing

/// An idle orchestrator's wake-up that finds no usable upstream waits for one, and runs as
/// soon as one is usable again, not only at the next heartbeat.
@Suite struct SchedulerUpstreamWakeTests {
    /// One upstream whose breaker opens at the first outage, for about a second.
    func limits() -> Limits {
        var limits = Limits.test(maxSlots: 4, reserve: 0)
        limits.upstreams = [UpstreamSpec(name: "only")]
        limits.breaker.consecutiveFailures = 1
        limits.breaker.openFor = 1_000
        return limits
    }

    let outage = Outcome.upstreamFailed(.overloaded, reason: "529 overloaded", retryAfter: nil)

    /// An idle orchestrator with a reason to run while the only upstream's breaker is open.
    func idleBossWithAWakeWaiting() -> Harness {
        var h = Harness(limits())
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.exit("boss", idleExit)
        h.arrive("w")
        h.exit("w", outage)
        h.send(.rejected(parent: "boss", name: "bad", reason: "unreadable front matter"))
        return h
    }

    @Test func aWakeUpWaitsWhileNoUpstreamIsUsable() {
        let h = idleBossWithAWakeWaiting()
        #expect(h["boss"]?.active == false)
        #expect(h["boss"]?.pendingWakes == [.refused("bad")])
    }

    @Test func aWakeUpRunsWhenTheBreakerTurnsHalfOpen() {
        var h = idleBossWithAWakeWaiting()
        let effects = h.advance(2_000)
        #expect(effects.wake(of: "boss") == ["refused:bad"], "the orchestrator's run is the probe")
        #expect(h["boss"]?.active == true)
    }

    @Test func aWakeUpRunsWhenAPersonResetsTheUpstream() {
        var h = idleBossWithAWakeWaiting()
        let effects = h.scheduler.resetUpstream("only", now: h.now)
        #expect(effects.wake(of: "boss") == ["refused:bad"])
    }

    @Test func aWakeUpWaitingAcrossARestartRunsAtTheFirstChance() throws {
        let h = idleBossWithAWakeWaiting()
        var restarted = Harness(limits(), records: try reloaded(h.scheduler.agents.values))
        restarted.now = h.now
        #expect(restarted.send(.tick).wake(of: "boss") == ["refused:bad"], "the rebuilt router is closed")
    }
}
