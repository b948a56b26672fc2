import SwarmSystem
import Testing

/// Budgets per branch, end to end: an agent that reports more tokens than its budget allows is
/// stopped with that reason; an orchestrator's budget covers its children.
@Suite("Budgets per branch", .serialized, .timeLimit(.minutes(1)))
struct BudgetTests {
    @Test("an over-budget agent is stopped with that reason")
    func overBudgetWorker() async throws {
        try await withWorkspace { ws in
            try ws.drop(
                "spender.md",
                TestWorkspace.simTask(
                    "spender",
                    [
                        ("budget.tokens", "100"), ("sim.tokens-per-step", "60"), ("sim.steps", "20"),
                        ("sim.interval", "100ms"),
                    ]))
            #expect(try await ws.runUntilIdle().status == 0)
            let agent = try #require(try await ws.agent("spender"))
            #expect(agent.state == "dead-letter", "\(ws.diagnostics())")
            #expect(agent.reason?.contains("tokens of its budget of 100") == true, "\(agent.reason ?? "")")
            #expect(try await ws.alerts("over-budget", agent: "spender").count == 1)
            let steps = (ws.text("swarm/agents/spender/progress.md") ?? "").split(separator: "\n").count
            #expect(steps < 20, "stopped before it finished (\(steps) steps)")
        }
    }

    @Test("children's usage counts against their orchestrator's budget")
    func subtreeBudget() async throws {
        try await withWorkspace { ws in
            // three children report 50 more tokens per step each: together they pass boss's
            // 500 long before any one of them has used 500
            try ws.drop(
                "boss.md",
                TestWorkspace.simTask(
                    "boss",
                    [
                        ("slots", "3"), ("budget.tokens", "500"), ("sim.children", "3"),
                        ("sim.child-steps", "20"),
                        ("sim.interval", "100ms"), ("sim.tokens-per-step", "50"),
                    ],
                    kind: "orchestrator"))
            let run = try await ws.runUntilIdle()
            #expect(run.status == 0)
            let agents = try await ws.agents()
            let boss = try #require(agents.first { $0.id == "boss" })
            #expect(boss.state == "dead-letter", "\(ws.diagnostics())")
            #expect(boss.reason?.contains("budget of 500") == true, "\(boss.reason ?? "")")
            let children = agents.filter { $0.parent == "boss" }
            #expect(children.count == 3)
            #expect(
                children.allSatisfy { $0.state == "killed" },
                "\(children.map { ($0.id, $0.state) })\n\(run)\n\(ws.diagnostics())")
            #expect(try await ws.alerts("over-budget", agent: "boss").count == 1)
        }
    }
}
