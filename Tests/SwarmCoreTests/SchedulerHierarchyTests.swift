import SwarmCore
import SwarmProtocol
import Testing

/// Spawn requests that can never fit, in one table.
enum RefusalCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case tooDeep, largerThanParentBudget, workerParent, unknownParent, settledParent, idTaken

    var testDescription: String { rawValue }

    /// The request.
    var request: AgentRecord {
        switch self {
        case .tooDeep: task("deep", parent: "mid", depth: 3)
        case .largerThanParentBudget: task("big", parent: "boss", depth: 2, kind: .orchestrator, slots: 3)
        case .workerParent: task("kid", parent: "solo", depth: 2)
        case .unknownParent: task("lost", parent: "ghost", depth: 2)
        case .settledParent: task("late", parent: "gone", depth: 2)
        case .idTaken: task("mid", parent: "boss", depth: 2)
        }
    }

    /// The agent that records the refusal (nil when there is none to tell).
    var recordedBy: String? {
        switch self {
        case .tooDeep: "mid"
        case .largerThanParentBudget, .idTaken: "boss"
        case .workerParent: "solo"
        case .unknownParent, .settledParent: nil
        }
    }

    /// A fragment of the reason.
    var fragment: String {
        switch self {
        case .tooDeep: "maxDepth is 2"
        case .largerThanParentBudget: "budget of 3"
        case .workerParent: "is a worker"
        case .unknownParent: "unknown"
        case .settledParent: "already ended"
        case .idTaken: "taken"
        }
    }
}

/// Children, fan-in, wake-ups, and what happens below an orchestrator that ends.
@Suite struct SchedulerHierarchyTests {
    /// boss (orchestrator, 3 slots) running with mid (orchestrator, 1 slot) under it, solo (a
    /// worker) running, gone (an orchestrator) done; maxDepth 2.
    static func family() -> Harness {
        var h = Harness(.test(maxSlots: 10, reserve: 0, maxDepth: 2))
        h.arrive("boss", kind: .orchestrator, slots: 3)
        h.spawn("mid", under: "boss", kind: .orchestrator, slots: 1)
        h.arrive("solo")
        h.arrive("gone", kind: .orchestrator, slots: 1)
        h.exit("gone")
        return h
    }

    @Test(arguments: RefusalCase.allCases)
    func aRequestThatCanNeverFitIsRefused(_ refusal: RefusalCase) throws {
        var h = Self.family()
        let before = h.scheduler.agents
        let effects = h.send(.arrived(refusal.request))
        let refused = try #require(effects.refused.first)
        #expect(effects.refused.count == 1 && refused.id == refusal.request.id)
        #expect(refused.reason.contains(refusal.fragment), "\(refused.reason)")
        let alert = try #require(effects.alerts("budget-refused").first)
        #expect(alert.agent == refusal.request.parent && alert.message == refused.reason)
        #expect(effects.accepted.isEmpty && effects.started.isEmpty)
        for (id, record) in h.scheduler.agents where id != refusal.recordedBy {
            #expect(before[id] == record, "\(id) is untouched")
        }
        #expect(h.scheduler.agents.count == before.count)
        if let parent = refusal.recordedBy {
            let refusals = h[parent]?.refusals ?? []
            #expect(refusals == [Refusal(name: refusal.request.id, reason: refused.reason)])
            #expect(
                h[parent]?.pendingWakes == [.refused(refusal.request.id)],
                "the parent runs, so it is woken later")
        }
    }

    @Test func aTopLevelTaskDeeperThanMaxDepthIsRefused() {
        var h = Harness(.test(maxDepth: 0))
        let effects = h.arrive("a")
        #expect(effects.refused.map(\.id) == ["a"])
        let alert = effects.alerts("budget-refused").first
        #expect(alert != nil && (alert?.agent == nil || alert?.agent == "a"))
    }

    @Test func aRefusalWakesAnIdleOrchestrator() {
        var h = Harness(.test(maxSlots: 10, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.exit("boss", idleExit)
        let effects = h.spawn("big", under: "boss", kind: .orchestrator, slots: 1)
        #expect(effects.wake(of: "boss") == ["refused:big"])
        #expect(
            effects.fanIns.first?.children == [
                Settlement(
                    id: "big", status: .rejected, reason: effects.refused.first?.reason, state: "refused")
            ])
    }

    @Test func aRequestTheShellCouldNotReadIsRecordedAndWakesTheParent() {
        var h = Harness(.test(maxSlots: 10, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 2)
        h.exit("boss", idleExit)
        let effects = h.send(.rejected(parent: "boss", name: "broken", reason: "no front matter"))
        #expect(h["boss"]?.refusals == [Refusal(name: "broken", reason: "no front matter")])
        #expect(effects.wake(of: "boss") == ["refused:broken"])
    }

    @Test func theFanInComesOnceEveryChildSettledWithReasonsAndRefusals() throws {
        var h = Harness(.test(maxSlots: 10, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 3)
        h.spawn("a", under: "boss")
        h.spawn("b", under: "boss", policy: .always(.fail))
        h.spawn("c", under: "boss", policy: .always(.skip))
        let refusal = try #require(
            h.spawn("huge", under: "boss", kind: .orchestrator, slots: 5).refused.first)
        #expect(h.exit("a").fanIns.isEmpty)
        #expect(h.exit("b", .failed(.error, reason: "the tests do not build")).fanIns.isEmpty)
        let last = h.exit("c", .failed(.budget, reason: "over 2M tokens"))
        let fanIn = try #require(last.fanIns.first)
        #expect(last.fanIns.count == 1 && fanIn.parent == "boss")
        #expect(
            fanIn.children == [
                Settlement(id: "a", status: .fulfilled, reason: nil, state: "done"),
                Settlement(id: "b", status: .rejected, reason: "the tests do not build", state: "failed"),
                Settlement(id: "c", status: .skipped, reason: "over 2M tokens", state: "skipped"),
                Settlement(id: "huge", status: .rejected, reason: refusal.reason, state: "refused"),
            ])
    }

    @Test func anIdleParentIsWokenWhenAChildSettlesAndConsumesItsResult() {
        var h = Harness(.test(maxSlots: 10, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 2)
        h.spawn("a", under: "boss")
        h.spawn("b", under: "boss")
        h.exit("boss", idleExit)
        let effects = h.exit("a")
        #expect(effects.wake(of: "boss") == ["child-settled:a"])
        #expect(effects.fanIns.isEmpty, "b still runs")
        #expect(h["a"]?.consumed == true && h["boss"]?.runs == 2 && h["boss"]?.attempts == 1)
    }

    @Test func wakesDuringARunAreCoalescedIntoOneNextRun() {
        var h = Harness(.test(maxSlots: 10, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 3)
        h.spawn("a", under: "boss")
        h.spawn("b", under: "boss")
        #expect(h.exit("a").started.isEmpty)
        #expect(h.beat().started.isEmpty, "no heartbeat wake while it runs")
        #expect(h.exit("b").started.isEmpty)
        let refused = h.spawn("huge", under: "boss", kind: .orchestrator, slots: 9)
        #expect(refused.started.isEmpty)
        #expect(h["a"]?.consumed == false)
        let next = h.exit("boss", idleExit)
        #expect(next.started == ["boss"])
        #expect(next.wake(of: "boss") == ["child-settled:a", "child-settled:b", "refused:huge"])
        #expect(h["a"]?.consumed == true && h["b"]?.consumed == true)
        #expect(h.exit("boss", idleExit).started.isEmpty, "nothing new: it stays idle")
    }

    @Test func anIdleOrchestratorIsWokenOncePerHeartbeat() {
        var h = Harness(.test(maxSlots: 10, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.exit("boss", idleExit)
        #expect(h.beat().wake(of: "boss") == ["heartbeat"])
        #expect(h.beat().started.isEmpty, "its heartbeat run is still going")
        h.exit("boss", idleExit)
        #expect(h.beat().wake(of: "boss") == ["heartbeat"])
    }

    @Test func everythingBelowASettledOrchestratorIsStoppedOrKilled() {
        var h = Harness(.test(maxSlots: 10, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 3)
        h.spawn("mid", under: "boss", kind: .orchestrator, slots: 1)
        h.spawn("run", under: "boss")
        h.spawn("wait", under: "boss")
        h.spawn("g", under: "mid")
        h.exit("mid", idleExit)
        #expect(h["wait"]?.state == .queued)
        let effects = h.exit("boss")
        #expect(Set(effects.stopped) == ["run", "g"])
        #expect(h["wait"]?.state == .killed && h["mid"]?.state == .killed)
        #expect(h.scheduler.queue.isEmpty)
        #expect(h["run"]?.active == true && h["run"]?.stopping == .parentEnded)
        #expect(h["g"]?.stopping == .parentEnded)
        h.exit("run")
        h.exit("g", .failed(.error, reason: "x"))
        for id in ["run", "g"] {
            #expect(h[id]?.state == .killed && h[id]?.active == false)
            #expect(h[id]?.lastFailure?.contains("ended first") == true)
        }
        #expect(h.scheduler.isIdle)
        #expect(h.scheduler.used.values.allSatisfy { $0 == 0 })
    }

    @Test func anOrchestratorRetriedAfterAFailureStopsItsChildrenFirst() {
        var h = Harness(.test(maxSlots: 10, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.spawn("a", under: "boss")
        h.spawn("b", under: "boss")
        let effects = h.exit("boss", crashExit)
        #expect(effects.stopped == ["a"])
        #expect(h["b"]?.state == .killed && h["boss"]?.state == .queued)
    }
}

/// Hierarchy bugs the simulation found, each with the smallest input that showed it, now fixed.
@Suite struct SchedulerHierarchyBugTests {
    /// An idle orchestrator that asked a question keeps its reasons to run (a child settled)
    /// while it waits; the answer makes it `running` again and wakes it at once, with the
    /// answer as one more reason, instead of leaving it asleep until the next heartbeat.
    @Test func answeredOrchestratorNotWoken() {
        var h = Harness(.test(maxSlots: 6, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.spawn("c", under: "boss")
        h.send(.asked(id: "boss"))
        h.exit("boss", idleExit)
        #expect(h["boss"]?.state == .waiting)
        #expect(h.exit("c").started.isEmpty, "a waiting orchestrator is not woken")
        let answered = h.send(.answered(id: "boss"))
        #expect(answered.wake(of: "boss") == ["child-settled:c", "answered"])
        #expect(h["boss"]?.state == .running && h["boss"]?.active == true && h["boss"]?.pendingWakes == [])
        #expect(h["c"]?.consumed == true)
        #expect(h.beat().started.isEmpty, "its run is still going: no heartbeat wake")
    }

    /// The answer alone is a reason to run for an idle orchestrator; a running one (or a
    /// worker) reads it in the run it is in.
    @Test func anAnswerWakesAnIdleOrchestratorButNoRunningCommand() {
        var h = Harness(.test(maxSlots: 6, reserve: 0))
        h.arrive("idle", kind: .orchestrator, slots: 1)
        h.arrive("busy", kind: .orchestrator, slots: 1)
        h.arrive("w")
        h.exit("idle", idleExit)
        for id in ["idle", "busy", "w"] { h.send(.asked(id: id)) }
        #expect(h.send(.answered(id: "idle")).wake(of: "idle") == ["answered"])
        #expect(h.send(.answered(id: "busy")).started.isEmpty)
        #expect(h.send(.answered(id: "w")).started.isEmpty)
        #expect(h["busy"]?.pendingWakes == [] && h["w"]?.state == .running)
    }

    /// A child that the heartbeat is stopping as stuck keeps `stopping = stuck` when its
    /// orchestrator ends. Its stop becomes the parent's (it is not retried below an ended
    /// parent whose budget it can never get): it ends killed, and the ended
    /// orchestrator's slots come back when it has exited.
    @Test func requeuedUnderEndedParent() throws {
        var h = Harness(.test(maxSlots: 6, reserve: 0, investigateAfter: 2, killAfter: 3))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.spawn("c", under: "boss")
        for _ in 0..<4 { h.beat(["c": evidence(1)]) }
        #expect(h["c"]?.stopping == .stuck)
        #expect(h.exit("boss").stopped.isEmpty, "c's stop is already under way")
        #expect(h.topUsed == 2, "boss holds its slots while c runs")
        h.exit("c")
        let c = try #require(h["c"])
        #expect(c.state == .killed && !c.active && c.finishedAt == h.now)
        #expect(
            c.lastFailure?.contains("its orchestrator boss ended first") == true, "\(c.lastFailure ?? "")")
        #expect(h.scheduler.queue.isEmpty && h.topUsed == 0)
        h.advance(3_600_000)
        #expect(h.scheduler.isIdle)
    }

    /// A spawn request under an orchestrator that is being stopped (here by `swarm kill`) is
    /// refused, and the refusal recorded with it.
    @Test func childStartedUnderStoppingParent() throws {
        var h = Harness(.test(maxSlots: 6, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 2)
        #expect(h.send(.killRequested(id: "boss")).stopped == ["boss"])
        let spawn = h.spawn("c", under: "boss")
        let refused = try #require(spawn.refused.first)
        #expect(spawn.refused.count == 1 && refused.id == "c" && spawn.started.isEmpty)
        #expect(refused.reason.contains("boss is being stopped"), "\(refused.reason)")
        #expect(spawn.alerts("budget-refused").map(\.message) == [refused.reason])
        #expect(h["c"] == nil && h["boss"]?.refusals == [Refusal(name: "c", reason: refused.reason)])
        #expect(h.exit("boss").stopped.isEmpty)
        #expect(h["boss"]?.state == .killed && h.topUsed == 0 && h.scheduler.isIdle)
    }

    /// `.startFailed` honours a stop in progress: an agent killed by a person, or one whose
    /// orchestrator ended, before its start failed ends killed (it is not retried), and its
    /// slot comes back.
    @Test(arguments: ["operator", "parent-ended"])
    func stopForgottenOnFailedStart(_ how: String) throws {
        var h = Harness(.test(maxSlots: 6, reserve: 0))
        h.autoStart = false
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.spawn("c", under: "boss")
        let stop = how == "operator" ? h.send(.killRequested(id: "c")) : h.exit("boss")
        #expect(stop.stopped == ["c"])
        #expect(h.topUsed == 2)
        h.send(.startFailed(id: "c", reason: "fork failed"))
        let c = try #require(h["c"])
        #expect(c.state == .killed && !c.active && c.attempts == 1)
        #expect(c.lastFailure?.contains(how == "operator" ? "swarm kill" : "boss ended first") == true)
        #expect(h.scheduler.queue.isEmpty && h.used(by: "boss") == 0)
        #expect(h.topUsed == (how == "operator" ? 2 : 0), "a running boss keeps its own slots")
    }
}

/// A child already being stopped as stuck when its orchestrator is queued for a retry ends
/// `killed` like its siblings: it is not retried into the orchestrator's next attempt.
@Suite struct SchedulerHierarchyRetryTests {
    @Test func stuckChildOfARetryingParentEndsKilled() throws {
        var h = Harness(.test(maxSlots: 6, reserve: 0, investigateAfter: 2, killAfter: 3))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.spawn("c", under: "boss")
        for _ in 0..<4 { h.beat(["c": evidence(1)]) }
        #expect(h["c"]?.stopping == .stuck)
        h.exit("boss", crashExit)
        #expect(h["boss"]?.state == .queued, "standard policy: an exit failure is retried")
        h.exit("c")
        #expect(h["c"]?.state == .killed)
        let due = try #require(h["boss"]?.notBefore)
        h.now = due
        #expect(h.send(.tick).started == ["boss"], "only boss starts its next attempt")
    }
}
