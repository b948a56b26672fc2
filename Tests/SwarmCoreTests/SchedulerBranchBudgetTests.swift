import SwarmCore
import SwarmProtocol
import Testing

/// Token and cost budgets per branch: an agent's usage counts against its own budget and the
/// budget of every orchestrator above it; the one whose budget is overrun is stopped.
@Suite struct SchedulerBranchBudgetTests {
    /// A record with budgets, as intake makes it from `budget.tokens` / `budget.cost`.
    func budgeted(
        _ id: String, parent: String? = nil, depth: Int = 1, kind: AgentKind = .worker, slots: Int = 0,
        tokens: Int64? = nil, cost: Double? = nil
    ) -> AgentRecord {
        var r = task(id, parent: parent, depth: depth, kind: kind, slots: slots)
        r.tokenBudget = tokens
        r.costBudget = cost
        return r
    }

    @Test func anAgentOverItsTokenBudgetIsStoppedAndFailsAsBudget() {
        var h = Harness(.test(maxSlots: 4, reserve: 0))
        h.send(.arrived(budgeted("a", tokens: 1_000)))
        #expect(h.send(.usage(id: "a", tokens: 900, cost: nil)).stopped.isEmpty, "within budget")
        let effects = h.send(.usage(id: "a", tokens: 1_200, cost: nil))
        #expect(effects.stopped == ["a"])
        #expect(effects.alerts.contains { $0.kind == .overBudget && $0.agent == "a" })
        h.exit("a", crashExit)
        let a = h["a"]
        #expect(a?.state == .deadLetter, "the standard policy dead-letters a budget failure")
        #expect(a?.lastFailureKind == .budget)
        #expect(a?.lastFailure?.contains("1200 tokens") == true, "\(a?.lastFailure ?? "")")
    }

    /// The subtree's spending overran the budget: it stops at once with the orchestrator,
    /// not only once the orchestrator's own run has ended.
    @Test func anOrchestratorOverItsBudgetWhileItRunsIsStoppedWithItsChildrenAtOnce() {
        var h = Harness(.test(maxSlots: 8, reserve: 0))
        h.send(.arrived(budgeted("boss", kind: .orchestrator, slots: 3, tokens: 500)))
        for c in ["c1", "c2"] { h.send(.arrived(budgeted(c, parent: "boss", depth: 2))) }
        #expect(h["boss"]?.active == true && h["c1"]?.active == true && h["c2"]?.active == true)
        let effects = h.send(.usage(id: "c1", tokens: 600, cost: nil))
        #expect(Set(effects.stopped) == ["boss", "c1", "c2"])
        h.exit("c1", .succeeded)
        h.exit("c2", .succeeded)
        #expect(h["c1"]?.state == .killed && h["c2"]?.state == .killed)
        h.exit("boss", idleExit)
        #expect(h["boss"]?.state == .deadLetter && h["boss"]?.lastFailureKind == .budget)
    }

    @Test func progressLinesReportUsageAtTheHeartbeat() {
        var h = Harness(.test(maxSlots: 4, reserve: 0))
        h.send(.arrived(budgeted("a", cost: 0.5)))
        let spend = ProgressLine(timeMilliseconds: h.now, outputs: 1, status: "working", cost: 0.75)
        let effects = h.beat(["a": evidence(1, lines: [spend])])
        #expect(effects.stopped == ["a"], "cost 0.75 passes the budget of 0.5")
    }

    @Test func childrenUsageCountsAgainstTheOrchestratorsBudget() {
        var h = Harness(.test(maxSlots: 8, reserve: 0))
        h.send(.arrived(budgeted("boss", kind: .orchestrator, slots: 3, tokens: 1_000)))
        h.spawn("c1", under: "boss")
        h.spawn("c2", under: "boss")
        #expect(h.send(.usage(id: "c1", tokens: 600, cost: nil)).stopped.isEmpty)
        let effects = h.send(.usage(id: "c2", tokens: 500, cost: nil))
        #expect(effects.stopped.contains("boss"), "the subtree used 1,100 of boss's 1,000")
        #expect(h.scheduler.subtreeUsage("boss").tokens == 1_100)
    }

    @Test func aRestartInTheMiddleOfARunDoesNotCountTheRunTwice() throws {
        var h = Harness(.test(maxSlots: 4, reserve: 0))
        h.send(.arrived(budgeted("a", tokens: 1_000)))
        h.send(.usage(id: "a", tokens: 400, cost: 0.5))
        let records = try reloaded(h.scheduler.agents.values)
        var restarted = Harness(.test(maxSlots: 4, reserve: 0), records: records)
        #expect(restarted["a"]?.runTokens == 400 && restarted["a"]?.runCost == 0.5)
        let effects = restarted.send(.usage(id: "a", tokens: 700, cost: 0.75))
        #expect(effects.stopped.isEmpty, "the run's running total is 700, within 1,000")
        restarted.exit("a")
        #expect(restarted["a"]?.tokensUsed == 700 && restarted["a"]?.costUsed == 0.75)
    }

    @Test func progressLinesOfAWaitingAgentCount() {
        var h = Harness(.test(maxSlots: 4, reserve: 0))
        h.send(.arrived(budgeted("a", tokens: 1_000)))
        h.send(.asked(id: "a"))
        let spend = ProgressLine(timeMilliseconds: h.now, outputs: 1, status: "asking", tokens: 1_200)
        let effects = h.beat(["a": evidence(1, lines: [spend])])
        #expect(h["a"]?.runTokens == 1_200)
        #expect(effects.stopped == ["a"], "1,200 tokens pass the budget of 1,000")
    }

    @Test func progressLinesOfAnAgentBeingStoppedCount() {
        var h = Harness(.test(maxSlots: 4, reserve: 0))
        h.arrive("a")
        h.send(.killRequested(id: "a"))
        let spend = ProgressLine(
            timeMilliseconds: h.now, outputs: 1, status: "wrapping up", tokens: 300, cost: 0.25)
        h.beat(["a": evidence(1, lines: [spend])])
        h.exit("a")
        #expect(h["a"]?.state == .killed)
        #expect(h["a"]?.tokensUsed == 300 && h["a"]?.costUsed == 0.25)
    }

    @Test func usageOfEndedRunsAddsUp() {
        var h = Harness(.test(maxSlots: 4, reserve: 0))
        h.send(.arrived(budgeted("a", tokens: 1_000)))
        h.send(.usage(id: "a", tokens: 400, cost: 0.1))
        h.exit("a", crashExit)
        #expect(h["a"]?.totalTokens == 400)
        h.now = (h["a"]?.notBefore ?? h.now) + 1
        h.send(.tick)
        #expect(h["a"]?.active == true, "the retry runs")
        #expect(h.send(.usage(id: "a", tokens: 700, cost: nil)).stopped == ["a"], "400 + 700 passes 1,000")
    }
}
