import SwarmCore
import SwarmProtocol
import Testing

/// Admission: what starts at once, what waits, in which order, and what is refused.
@Suite struct SchedulerBudgetTests {
    @Test func anArrivalThatFitsIsAcceptedThenStarted() throws {
        var h = Harness()
        let effects = h.arrive("a")
        #expect(effects.accepted == ["a"])
        #expect(effects.wake(of: "a") == ["start"])
        let accept = try #require(effects.firstIndex(of: .accept(id: "a")))
        let start = try #require(effects.firstIndex(of: .start(id: "a", wake: [.start])))
        #expect(accept < start)
        let a = try #require(h["a"])
        #expect(a.state == .running && a.active && a.attempts == 1 && a.runs == 1)
        #expect(a.startedAt == h.now && a.pid != nil)
        #expect(h.topUsed == 1 && h.scheduler.queue.isEmpty)
    }

    @Test func workWaitsWhenTheTopBudgetLessTheReserveIsFull() throws {
        var h = Harness(.test(maxSlots: 4, reserve: 1))
        for id in ["a", "b", "c"] { #expect(h.arrive(id).started == [id]) }
        let effects = h.arrive("d")
        #expect(effects.accepted == ["d"] && effects.started.isEmpty)
        #expect(h["d"]?.state == .queued && h["d"]?.active == false && h["d"]?.attempts == 0)
        #expect(h.scheduler.queue == ["d"] && h.topUsed == 3)
        #expect(h.scheduler.fits(try #require(h["d"])) == false)
    }

    @Test func queuedWorkStartsByPriorityThenArrival() {
        var h = Harness(.test(maxSlots: 4, reserve: 1))
        for id in ["a", "b", "c"] { h.arrive(id) }
        h.arrive("bg1", priority: .background)
        h.arrive("n1")
        h.arrive("bg2", priority: .background)
        h.arrive("n2")
        #expect(h.scheduler.queue == ["n1", "n2", "bg1", "bg2"])
        var order: [String] = []
        for id in ["a", "b", "c", "n1"] { order += h.exit(id).started }
        #expect(order == ["n1", "n2", "bg1", "bg2"])
        #expect(h.scheduler.queue.isEmpty && h.topUsed == 3)
    }

    /// With 3 of 4 slots in use and 1 reserved, only urgent work may take the last slot.
    @Test(arguments: [(Priority.urgent, true), (.normal, false), (.background, false)])
    func onlyUrgentWorkMayUseTheReserve(priority: Priority, starts: Bool) {
        var h = Harness(.test(maxSlots: 4, reserve: 1))
        for id in ["a", "b", "c"] { h.arrive(id) }
        let effects = h.arrive("x", priority: priority)
        #expect(effects.started == (starts ? ["x"] : []))
        #expect(h.topUsed == (starts ? 4 : 3))
    }

    @Test func urgentWorkNeverGoesPastMaxSlots() {
        var h = Harness(.test(maxSlots: 3, reserve: 2))
        #expect(h.arrive("n").started == ["n"])
        #expect(h.arrive("n2").started.isEmpty)
        #expect(h.arrive("u1", priority: .urgent).started == ["u1"])
        #expect(h.arrive("u2", priority: .urgent).started == ["u2"])
        #expect(h.arrive("u3", priority: .urgent).started.isEmpty)
        #expect(h.topUsed == 3)
        #expect(h.scheduler.queue == ["u3", "n2"])
        // A freed slot goes to the queued urgent task first; the normal one still may not use
        // the reserve.
        #expect(h.exit("n").started == ["u3"])
        #expect(h.exit("u1").started.isEmpty)
        #expect(h.exit("u2").started.isEmpty)
        #expect(h.exit("u3").started == ["n2"])
    }

    @Test func aTopLevelRequestLargerThanItsPriorityMayUseIsRefused() {
        var h = Harness(.test(maxSlots: 4, reserve: 1))
        let normal = h.arrive("big", kind: .orchestrator, slots: 3)
        #expect(normal.refused.map(\.id) == ["big"] && h["big"] == nil)
        let urgent = h.arrive("big2", kind: .orchestrator, slots: 3, priority: .urgent)
        #expect(urgent.refused.isEmpty && urgent.started == ["big2"] && h.topUsed == 4)
    }

    @Test func anOrchestratorHoldsOnePlusItsSlotsFromStartUntilItSettles() {
        var h = Harness(.test(maxSlots: 6, reserve: 0))
        h.arrive("o", kind: .orchestrator, slots: 2)
        #expect(h.topUsed == 3)
        h.exit("o", idleExit)
        #expect(h["o"]?.state == .running && h["o"]?.active == false)
        #expect(h.topUsed == 3, "an idle orchestrator keeps its budget")
        h.send(.asked(id: "o"))
        #expect(h.topUsed == 3, "so does a waiting one")
        #expect(h.send(.answered(id: "o")).wake(of: "o") == ["answered"])
        #expect(h.topUsed == 3)
        h.exit("o")
        #expect(h["o"]?.state == .done && h.topUsed == 0)
    }

    @Test func anOrchestratorWaitingForItsRetryHoldsNothing() {
        var h = Harness(.test(maxSlots: 6, reserve: 0))
        h.arrive("o", kind: .orchestrator, slots: 2)
        h.exit("o", crashExit)
        #expect(h["o"]?.state == .queued && h.topUsed == 0)
        #expect(h.arrive("w", kind: .orchestrator, slots: 4).started == ["w"])
        let due = h["o"]?.notBefore ?? 0
        h.now = due
        #expect(h.send(.tick).started.isEmpty, "the retry waits for the slots the other took")
        #expect(h.exit("w").started == ["o"])
        #expect(h.topUsed == 3 && h["o"]?.attempts == 2)
    }

    @Test func childrenCountAgainstTheirParentAtAnyDepth() {
        var h = Harness(.test(maxSlots: 10, reserve: 0, maxDepth: 3))
        h.arrive("o", kind: .orchestrator, slots: 3)
        #expect(h.spawn("mid", under: "o", kind: .orchestrator, slots: 1).started == ["mid"])
        #expect(h.spawn("w1", under: "o").started == ["w1"])
        #expect(h.spawn("w2", under: "o").started.isEmpty)
        #expect(h.used(by: "o") == 3)
        #expect(h.spawn("g1", under: "mid").started == ["g1"])
        #expect(h.spawn("g2", under: "mid").started.isEmpty)
        #expect(h.used(by: "mid") == 1 && h.topUsed == 4, "the subtree is paid for by o's footprint")
        #expect(h.scheduler.queue == ["w2", "g2"])
        #expect(h["g2"]?.depth == 3)
        #expect(h.exit("g1").started == ["g2"])
        #expect(h.exit("w1").started == ["w2"])
        #expect(h.used(by: "o") == 3 && h.used(by: "mid") == 1)
        // A child cannot take the slots that were freed at the top.
        h.arrive("t")
        #expect(h.topUsed == 5)
        #expect(h.spawn("w3", under: "o").started.isEmpty)
    }

    @Test func aChildOfAnIdleOrchestratorStillStartsInsideItsBudget() {
        var h = Harness(.test(maxSlots: 6, reserve: 0))
        h.arrive("o", kind: .orchestrator, slots: 1)
        h.exit("o", idleExit)
        #expect(h.spawn("c", under: "o").started == ["c"])
        #expect(h.spawn("d", under: "o").started.isEmpty)
    }

    /// A big request at the head of a pool keeps later, smaller ones of that pool from
    /// overtaking it (so it is not starved); other pools are not held up.
    @Test func aRequestThatDoesNotFitHoldsItsPoolButNotOthers() {
        var h = Harness(.test(maxSlots: 6, reserve: 0))
        h.arrive("o", kind: .orchestrator, slots: 2)
        h.arrive("a")
        h.arrive("b")
        #expect(h.arrive("big", kind: .orchestrator, slots: 2).started.isEmpty)
        #expect(h.arrive("small").started.isEmpty, "small would fit but waits behind big")
        #expect(h.spawn("c", under: "o").started == ["c"], "o's pool is not held up")
        #expect(h.exit("a").started.isEmpty)
        #expect(h.exit("b").started == ["big"])
        #expect(h.scheduler.queue == ["small"])
    }

    @Test func aRoleCapLimitsTopLevelAgentsOfThatRole() {
        var h = Harness(.test(maxSlots: 6, reserve: 0, roleSlots: ["scout": 2]))
        #expect(h.arrive("s1", role: "scout").started == ["s1"])
        #expect(h.arrive("s2", role: "scout").started == ["s2"])
        #expect(h.arrive("s3", role: "scout").started.isEmpty)
        #expect(h.arrive("w").started == ["w"], "other roles are not held up")
        #expect(h.scheduler.roleUsed["scout"] == 2)
        #expect(h.exit("s1").started == ["s3"])
        let refused = h.arrive("s4", kind: .orchestrator, slots: 2, role: "scout").refused
        #expect(refused.map(\.id) == ["s4"] && refused[0].reason.contains("roleSlots"))
    }

    @Test func aQueuedRequestLeavesTheQueueWhenItStarts() {
        var h = Harness(.test(maxSlots: 2, reserve: 0))
        h.arrive("a")
        h.arrive("b")
        h.arrive("c")
        h.arrive("d")
        #expect(h.scheduler.queue == ["c", "d"])
        h.exit("a")
        #expect(h.scheduler.queue == ["d"] && h["c"]?.state == .running)
    }
}

/// Budget bugs the simulation found, each with the smallest input that showed it, now fixed.
@Suite struct SchedulerBudgetBugTests {
    /// "Kill before spawn; never over budget": an orchestrator that settles keeps its slots
    /// (1 + its budget) at the top until the children it asked to stop have exited.
    @Test func slotsFreedBeforeChildrenExit() {
        var h = Harness(.test(maxSlots: 4, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 3)
        for id in ["c1", "c2", "c3"] { h.spawn(id, under: "boss") }
        let settled = h.exit("boss")
        #expect(settled.stopped == ["c1", "c2", "c3"])
        #expect(h["boss"]?.state == .done && h.topUsed == 4 && h.used(by: "boss") == 3)
        #expect(h.arrive("x").started.isEmpty && h.arrive("y").started.isEmpty, "x and y wait for c1-c3")
        #expect(h.scheduler.activeAgents.count == 3)
        #expect(h.exit("c1").started.isEmpty && h.exit("c2").started.isEmpty)
        #expect(h.topUsed == 4 && h.used(by: "boss") == 1, "boss holds all its slots while one child runs")
        #expect(h.exit("c3").started == ["x", "y"])
        #expect(h.topUsed == 2 && h.used(by: "boss") == 0 && h.scheduler.activeAgents.count == 2)
        #expect(["c1", "c2", "c3"].allSatisfy { h[$0]?.state == .killed })
    }

    /// The same below a settled orchestrator that is itself a child: the slots travel up, so
    /// the grandparent's budget and the top stay taken until the grandchild exits.
    @Test func slotsOfANestedOrchestratorComeBackWhenItsLastChildExits() {
        var h = Harness(.test(maxSlots: 6, reserve: 0))
        h.arrive("top", kind: .orchestrator, slots: 3)
        h.spawn("mid", under: "top", kind: .orchestrator, slots: 1)
        h.spawn("g", under: "mid")
        #expect(h.topUsed == 4 && h.used(by: "top") == 2 && h.used(by: "mid") == 1)
        #expect(h.exit("mid").stopped == ["g"])
        #expect(h["mid"]?.state == .done && h.used(by: "top") == 2, "mid still holds 1 + 1 for g")
        #expect(h.spawn("w1", under: "top").started == ["w1"])
        #expect(h.spawn("w2", under: "top").started.isEmpty, "top's budget of 3 is full")
        #expect(h.exit("g").started == ["w2"])
        #expect(h.used(by: "mid") == 0 && h.used(by: "top") == 2 && h.topUsed == 4)
    }

    /// An orchestrator queued for its retry holds its slots while a stopped child still runs
    /// (it gave them back before it had children only: see
    /// `anOrchestratorWaitingForItsRetryHoldsNothing`).
    @Test func anOrchestratorWaitingForItsRetryHoldsItsSlotsUntilItsChildrenExit() {
        var h = Harness(.test(maxSlots: 4, reserve: 0))
        h.arrive("o", kind: .orchestrator, slots: 2)
        h.spawn("c", under: "o")
        #expect(h.exit("o", crashExit).stopped == ["c"])
        #expect(h["o"]?.state == .queued && h.topUsed == 3)
        #expect(h.arrive("w", kind: .orchestrator, slots: 1).started.isEmpty)
        #expect(h.exit("c").started == ["w"])
        #expect(h["c"]?.state == .killed && h.topUsed == 2)
    }

    /// Admission repeats its pass when it started something: a child queued under an
    /// orchestrator that is itself queued starts with it, in the same event.
    @Test func childMissesItsParentsStart() {
        var h = Harness(.test(maxSlots: 2, reserve: 0))
        h.autoStart = false
        h.arrive("a")
        h.arrive("b")
        h.arrive("boss", kind: .orchestrator, slots: 1, priority: .background)
        h.spawn("c", under: "boss")
        #expect(h.scheduler.queue == ["c", "boss"])
        h.exit("a")
        #expect(h.exit("b").started == ["boss", "c"])
        #expect(h.scheduler.queue.isEmpty && h.send(.tick).started.isEmpty)
    }
}
