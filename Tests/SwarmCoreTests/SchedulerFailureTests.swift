import SwarmCore
import SwarmProtocol
import Testing

/// The failure policy, operator kills and retries.
@Suite struct SchedulerFailureTests {
    @Test func aFailureIsRetriedWithBackoffThenDeadLettered() throws {
        var h = Harness()
        let policy = FailurePolicy(
            actions: [.exit: .retry(2)], backoffBaseMilliseconds: 1_000, backoffCapMilliseconds: 1_500)
        h.arrive("a", policy: policy)
        for attempt in 1...2 {
            let failedAt = h.now
            let effects = h.exit("a", crashExit)
            #expect(effects.started.isEmpty && effects.deadLettered.isEmpty)
            let a = try #require(h["a"])
            #expect(a.state == .queued && !a.active && a.attempts == attempt && a.lastFailureKind == .exit)
            #expect(h.scheduler.queue == ["a"] && h.topUsed == 0)
            let due = try #require(a.notBefore)
            #expect(due >= failedAt + 1_000 && due <= failedAt + 1_500)
            #expect(h.scheduler.nextDeadline(after: h.now) == due)
            #expect(h.advance(due - h.now - 1).started.isEmpty, "not before the backoff ends")
            #expect(h.advance(1).started == ["a"])
            #expect(h["a"]?.attempts == attempt + 1 && h["a"]?.notBefore == nil)
        }
        let last = h.exit("a", crashExit)
        let a = try #require(h["a"])
        #expect(a.state == .deadLetter && a.attempts == 3 && a.finishedAt == h.now)
        #expect(last.deadLettered == ["a"])
        let alert = try #require(last.alerts("dead-letter").first)
        #expect(alert.agent == "a" && alert.message.contains("after 3 attempts"))
        #expect(h.scheduler.queue.isEmpty && h.topUsed == 0)
    }

    /// Every retry waits at least the base and at most min(cap, base * 2^(n-1)).
    @Test(arguments: [1, 2, 3, 0x5EED, 0xDEADBEEF] as [UInt64])
    func backoffStaysBetweenTheBaseAndTheCap(seed: UInt64) throws {
        var h = Harness(seed: seed)
        let policy = FailurePolicy(
            actions: [.exit: .retry(8)], backoffBaseMilliseconds: 100, backoffCapMilliseconds: 1_000)
        h.arrive("a", policy: policy)
        for retry in 1...8 {
            let failedAt = h.now
            h.exit("a", crashExit)
            let due = try #require(h["a"]?.notBefore)
            let ceiling = policy.backoffCeiling(attempt: retry)
            #expect(due - failedAt >= 100 && due - failedAt <= Millis(ceiling), "retry \(retry)")
            h.now = due
            #expect(h.send(.tick).started == ["a"])
        }
    }

    @Test(arguments: [
        (FailureAction.skip, AgentState.skipped), (.fail, .failed), (.deadLetter, .deadLetter),
        (.retry(0), .deadLetter),
    ])
    func thePolicyDecidesHowAFailedTaskEnds(action: FailureAction, state: AgentState) throws {
        var h = Harness()
        h.arrive("a", policy: .always(action))
        let effects = h.exit("a", .failed(.error, reason: "bad input"))
        let a = try #require(h["a"])
        #expect(
            a.state == state && a.lastFailureKind == .error && a.lastFailure?.contains("bad input") == true)
        #expect(effects.deadLettered == (state == .deadLetter ? ["a"] : []))
        #expect(effects.alerts("dead-letter").count == (state == .deadLetter ? 1 : 0))
        #expect(h.topUsed == 0 && h.scheduler.queue.isEmpty)
    }

    /// How each way of ending maps to a failure kind (policy `fail` everywhere, to read it).
    @Test(arguments: [
        (AgentKind.worker, crashExit, FailureKind.exit),
        (.worker, idleExit, .exit),
        (.orchestrator, crashExit, .exit),
        (.worker, .failed(.error, reason: "r"), .error),
        (.worker, .failed(.budget, reason: "r"), .budget),
        (.worker, .upstreamFailed(.overloaded, reason: "529", retryAfter: nil), .upstream),
        (.worker, .upstreamFailed(.auth, reason: "401", retryAfter: nil), .error),
    ])
    func outcomesMapToFailureKinds(kind: AgentKind, outcome: Outcome, expected: FailureKind) {
        var h = Harness()
        h.arrive("a", kind: kind, policy: .always(.fail))
        h.exit("a", outcome)
        #expect(h["a"]?.state == .failed && h["a"]?.lastFailureKind == expected)
    }

    @Test func aContractViolationRaisesAnAlertAndFollowsThePolicy() throws {
        var h = Harness()
        h.arrive("a")
        let effects = h.exit("a", .failed(.contract, reason: "$.summary: missing"))
        let alert = try #require(effects.alerts("contract-violation").first)
        #expect(alert.agent == "a" && alert.message == "$.summary: missing")
        #expect(h["a"]?.state == .queued && h["a"]?.lastFailureKind == .contract, "standard: retry 2")
    }

    @Test func aCommandThatCannotStartCountsAsAnExitFailure() throws {
        var h = Harness()
        h.autoStart = false
        #expect(h.arrive("a", policy: .always(.fail)).started == ["a"])
        #expect(h["a"]?.active == true && h.topUsed == 1)
        h.send(.startFailed(id: "a", reason: "no such file: claude"))
        let a = try #require(h["a"])
        #expect(a.state == .failed && !a.active && a.lastFailureKind == .exit && h.topUsed == 0)
        #expect(a.lastFailure?.contains("no such file: claude") == true)
    }

    @Test func killingARunningAgentStopsItAndItEndsKilledWhenItExits() throws {
        var h = Harness(.test(maxSlots: 1, reserve: 0))
        h.arrive("a")
        h.arrive("b")
        let kill = h.send(.killRequested(id: "a"))
        #expect(kill.stopped == ["a"] && kill.started.isEmpty)
        #expect(h["a"]?.state == .running && h["a"]?.active == true && h["a"]?.stopping == .operatorKill)
        #expect(h.topUsed == 1, "the slot stays taken until the process tree is gone")
        #expect(h.send(.killRequested(id: "a")).stopped.isEmpty, "one stop is enough")
        let exit = h.exit("a")
        let a = try #require(h["a"])
        #expect(a.state == .killed && !a.active, "killed, even though it exited 0")
        #expect(a.lastFailure?.contains("swarm kill") == true)
        #expect(exit.started == ["b"])
    }

    @Test func killingAQueuedAgentEndsItAtOnce() throws {
        var h = Harness(.test(maxSlots: 1, reserve: 0))
        h.arrive("a")
        h.arrive("b")
        let effects = h.send(.killRequested(id: "b"))
        #expect(effects.stopped.isEmpty && effects.started.isEmpty)
        let b = try #require(h["b"])
        #expect(b.state == .killed && b.finishedAt == h.now && b.attempts == 0)
        #expect(h.scheduler.queue.isEmpty)
        #expect(h.send(.killRequested(id: "b")).isEmpty, "a settled agent cannot be killed again")
    }

    /// The killed orchestrator keeps its slots (1 + 2) at the top until its stopped child has
    /// exited.
    @Test func killingAnIdleOrchestratorEndsItAndItsChildren() {
        var h = Harness(.test(maxSlots: 10, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 2)
        h.spawn("c", under: "boss")
        h.exit("boss", idleExit)
        let effects = h.send(.killRequested(id: "boss"))
        #expect(h["boss"]?.state == .killed && effects.stopped == ["c"])
        #expect(h["c"]?.stopping == .parentEnded && h.topUsed == 3 && h.used(by: "boss") == 1)
        h.exit("c")
        #expect(h["c"]?.state == .killed && h.topUsed == 0 && h.used(by: "boss") == 0)
        #expect(h.scheduler.isIdle)
    }

    @Test func retryingADeadLetteredTaskRequeuesItAndAttemptsCountOn() throws {
        var h = Harness(.test(maxSlots: 1, reserve: 0))
        h.arrive("a", policy: FailurePolicy(actions: [.exit: .retry(1)], backoffBaseMilliseconds: 10))
        h.exit("a", crashExit)
        h.advance(20)
        h.exit("a", crashExit)
        #expect(h["a"]?.state == .deadLetter && h["a"]?.attempts == 2)
        h.arrive("b")
        let retry = h.send(.retryRequested(id: "a"))
        #expect(retry.started.isEmpty && h["a"]?.state == .queued && h["a"]?.notBefore == nil)
        #expect(h["a"]?.finishedAt == nil)
        #expect(h.exit("b").started == ["a"])
        #expect(h["a"]?.attempts == 3)
        let again = h.exit("a", crashExit)
        #expect(again.deadLettered == ["a"], "its retries were used up before")
        #expect(h["a"]?.attempts == 3)
    }

    @Test(arguments: [AgentState.killed, .failed, .skipped])
    func everyUnsuccessfulEndCanBeRetried(state: AgentState) {
        var h = Harness()
        let action: FailureAction = state == .failed ? .fail : .skip
        h.arrive("a", policy: .always(action))
        if state == .killed {
            h.send(.killRequested(id: "a"))
        }
        h.exit("a", .failed(.error, reason: "x"))
        #expect(h["a"]?.state == state)
        #expect(h.send(.retryRequested(id: "a")).started == ["a"])
        #expect(h["a"]?.state == .running && h["a"]?.attempts == 2)
    }

    @Test func retryIsIgnoredForDoneRunningAndOrphanedTasks() {
        var h = Harness(.test(maxSlots: 10, reserve: 0))
        h.arrive("done")
        h.exit("done")
        h.arrive("running")
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.spawn("child", under: "boss", policy: .always(.fail))
        h.exit("child", crashExit)
        h.exit("boss")
        for id in ["done", "running", "child", "nobody"] {
            #expect(h.send(.retryRequested(id: id)).isEmpty, "\(id)")
        }
        #expect(h["child"]?.state == .failed, "its orchestrator has ended")
    }
}
