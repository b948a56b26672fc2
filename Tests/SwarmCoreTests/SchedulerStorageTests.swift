import SwarmCore
import SwarmProtocol
import Testing

/// A tree that takes no writes: a start whose record cannot be written is undone without
/// spending an attempt, and nothing starts until the tree takes writes again.
@Suite struct SchedulerStorageTests {
    @Test func aStartThatCouldNotBeRecordedIsUndoneAndNothingStartsUntilTheTreeIsWritable() {
        var h = Harness()
        h.arrive("a")
        #expect(h["a"]?.active == true && h["a"]?.attempts == 1)
        h.send(.notStarted(id: "a", wake: [.start], reason: "no space"))
        #expect(
            h["a"]?.state == .queued && h["a"]?.attempts == 0 && h["a"]?.runs == 0 && h["a"]?.active == false)
        #expect(h.scheduler.startsHeld)
        #expect(h.arrive("b").isEmpty == false)
        #expect(h["b"]?.state == .queued)
        #expect(h.send(.tick).started.isEmpty)
        let resumed = h.send(.storage(writable: true)).started
        #expect(resumed == ["a", "b"])
        #expect(h["a"]?.attempts == 1)
    }

    @Test func aKillThatCameWhileTheStartCouldNotBeRecordedEndsTheAgentKilled() {
        var h = Harness()
        h.arrive("a")
        h.send(.killRequested(id: "a"))
        #expect(h["a"]?.stopping == .operatorKill)
        h.send(.notStarted(id: "a", wake: [.start], reason: "no space"))
        #expect(h["a"]?.state == .killed && h["a"]?.active == false)
    }

    @Test func anOrchestratorsWakeThatCouldNotBeRecordedKeepsItsReasons() {
        var h = Harness()
        h.arrive("boss", kind: .orchestrator, slots: 2)
        h.spawn("c", under: "boss")
        h.exit("boss", idleExit)
        h.send(.storage(writable: false))
        h.exit("c", .succeeded)
        #expect(h["boss"]?.active == false && h["boss"]?.pendingWakes == [.childSettled("c")])
        let effects = h.send(.storage(writable: true))
        #expect(effects.contains(.start(id: "boss", wake: [.childSettled("c")])))
        h.send(.notStarted(id: "boss", wake: [.childSettled("c")], reason: "no space"))
        #expect(
            h["boss"]?.state == .running && h["boss"]?.runs == 1
                && h["boss"]?.pendingWakes == [.childSettled("c")])
        let again = h.send(.storage(writable: true))
        #expect(again.contains(.start(id: "boss", wake: [.childSettled("c")])))
    }
}
