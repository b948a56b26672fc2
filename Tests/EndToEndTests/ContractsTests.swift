import SwarmSystem
import Testing

@Suite("Contracts and failure policy", .serialized, .timeLimit(.minutes(1)))
struct ContractsTests {
    @Test("a contract breach is retried; a crash ends in dead-letter with a reason; retry runs it again")
    func contractAndDeadLetter() async throws {
        try await withWorkspace { ws in
            try ws.drop(
                "c1.md", TestWorkspace.simTask("flaky", [("sim.fail", "contract"), ("sim.fail-times", "1")]))
            try ws.drop("c2.md", TestWorkspace.simTask("broken", [("sim.fail", "exit")]))
            let output = try await ws.runUntilIdle()
            #expect(output.status == 0, "\(output)")

            let flaky = try #require(try await ws.agent("flaky"))
            #expect(flaky.state == "done")
            #expect(flaky.attempts == 2)
            let violations = try await ws.alerts("contract-violation", agent: "flaky")
            #expect(violations.count == 1, "\(violations)")
            #expect(violations.first?.message.contains("$.summary") == true)
            // the breaking result is kept beside the good one
            #expect(ws.text("swarm/agents/flaky/results.attempt-1.json")?.contains("42") == true)
            #expect(ws.text("swarm/agents/flaky/results.json")?.contains("\"summary\"") == true)

            let broken = try #require(try await ws.agent("broken"))
            #expect(broken.state == "dead-letter")
            #expect(broken.attempts == 3, "on.exit: retry 2 means three attempts")
            let reason = try #require(ws.text("swarm/dead-letter/broken/reason.md"))
            #expect(reason.contains("exit"), "\(reason)")
            #expect(reason.contains("swarm retry broken"), "\(reason)")
            #expect(ws.exists("swarm/dead-letter/broken/source.md"))
            #expect(ws.exists("swarm/dead-letter/broken/meta.json"))
            #expect(try await ws.alerts("dead-letter", agent: "broken").count == 1)

            // retry requeues it: with no daemon running the request waits in swarm/control/
            let retry = try await ws.swarm("retry", "broken")
            #expect(retry.status == 0, "\(retry)")
            #expect(!ws.entries("swarm/control").isEmpty)
            #expect(try await ws.runUntilIdle().status == 0)
            let again = try #require(try await ws.agent("broken"))
            #expect(again.attempts == 4, "retry gives exactly one more attempt")
            #expect(again.state == "dead-letter")
            #expect(ws.entries("swarm/control").filter { !$0.hasPrefix(".") }.isEmpty)

            // nothing to retry or kill on a done agent
            let noRetry = try await ws.swarm("retry", "flaky")
            #expect(noRetry.status == 1 && noRetry.stderr.hasPrefix("swarm: "), "\(noRetry)")
            let noKill = try await ws.swarm("kill", "flaky")
            #expect(noKill.status == 1 && noKill.stderr.hasPrefix("swarm: "), "\(noKill)")
        }
    }

    @Test("retry while the daemon runs: a task that fails once more, then succeeds")
    func retryLive() async throws {
        // fails on attempts 1..3 (dead-letter after 3), succeeds on the 4th: the one retry gives
        try await withWorkspace { ws in
            try await ws.startDaemon()
            try ws.drop(
                "r.md", TestWorkspace.simTask("phoenix", [("sim.fail", "exit"), ("sim.fail-times", "3")]))
            #expect(try await ws.waitForState("phoenix", ["dead-letter"]), "\(ws.diagnostics())")
            let retry = try await ws.swarm("retry", "phoenix")
            #expect(retry.status == 0, "\(retry)")
            #expect(try await ws.waitForState("phoenix", ["done"]), "\(ws.diagnostics())")
            #expect(try await ws.agent("phoenix")?.attempts == 4)
        }
    }

    @Test("status error: dead-letter by default, with the agent's message as the reason")
    func errorResult() async throws {
        try await withWorkspace { ws in
            try ws.drop("e.md", TestWorkspace.simTask("erring", [("sim.fail", "error")]))
            #expect(try await ws.runUntilIdle().status == 0)
            let agent = try #require(try await ws.agent("erring"))
            #expect(agent.state == "dead-letter")
            #expect(agent.attempts == 1)
            #expect(agent.reason?.contains("could not be done") == true, "\(agent.reason ?? "")")
        }
    }

    /// A template whose failure policy is set by the row: what the agent ends as.
    @Test(
        "on.exit decides the end state",
        arguments: [
            ("fail", "failed"), ("skip", "skipped"), ("dead-letter", "dead-letter"),
            ("retry 1", "dead-letter"),
        ])
    func policies(_ policy: String, _ state: String) async throws {
        let template =
            "---\nkind: worker\ncommand: exit 3\non.exit: \(policy)\nbackoff: 10ms..20ms\n---\n{{task}}\n"
        try await withWorkspace(files: ["templates/failing.md": template]) { ws in
            try ws.drop(
                "f.md", TestWorkspace.task([("role", "worker"), ("template", "failing"), ("id", "f")]))
            #expect(try await ws.runUntilIdle().status == 0)
            let agent = try #require(try await ws.agent("f"))
            #expect(agent.state == state)
            #expect(agent.attempts == (policy == "retry 1" ? 2 : 1))
            #expect(agent.reason?.contains("exit status 3") == true, "\(agent.reason ?? "")")
            #expect(ws.exists("swarm/dead-letter/f") == (state == "dead-letter"))
        }
    }

    /// What an agent reports with `error_kind` decides the class, hence the policy: the
    /// template retries class upstream once and dead-letters everything else. A request too
    /// long for the model is not retried on any upstream.
    @Test(
        "error_kind picks the failure class",
        arguments: [
            ("auth", 1), ("bad-request", 1), ("budget", 1), ("something-else", 1), ("rate-limited", 2),
            ("overloaded", 2), ("server-error", 2), ("connection", 2), ("quota", 2), ("upstream", 2),
            ("context-too-long", 1),
        ])
    func errorKinds(_ kind: String, _ attempts: Int) async throws {
        let template =
            "---\nkind: worker\ncommand: /bin/sh task.md\non.upstream: retry 1\nbackoff: 10ms..20ms\n---\n{{task}}\n"
        let script =
            "echo '{\"status\": \"error\", \"error_kind\": \"\(kind)\", \"error\": \"boom\"}' > results.json"
        try await withWorkspace(files: ["templates/reporting.md": template]) { ws in
            try ws.drop(
                "k.md",
                TestWorkspace.task([("role", "worker"), ("template", "reporting"), ("id", "k")], script))
            #expect(try await ws.runUntilIdle().status == 0)
            let agent = try #require(try await ws.agent("k"))
            #expect(agent.state == "dead-letter")
            #expect(agent.reason?.contains("boom") == true, "\(agent.reason ?? "")")
            #expect(agent.attempts == attempts, "\(agent.reason ?? "")")
        }
    }

    @Test("retrying a child whose orchestrator has settled is refused, not silently dropped")
    func retryAfterParentSettled() async throws {
        let template = "---\nkind: worker\ncommand: exit 1\non.exit: dead-letter\n---\n{{task}}\n"
        try await withWorkspace(files: ["templates/crashing.md": template]) { ws in
            try ws.drop(
                "boss.md",
                TestWorkspace.simTask(
                    "boss", [("slots", "2"), ("sim.children", "1"), ("sim.child-template", "crashing")],
                    kind: "orchestrator"))
            #expect(try await ws.runUntilIdle().status == 0)
            #expect(try await ws.state("boss") == "done")
            #expect(try await ws.state("boss-1") == "dead-letter")
            let retry = try await ws.swarm("retry", "boss-1")
            #expect(try await ws.runUntilIdle().status == 0)
            let attempts = try await ws.agent("boss-1")?.attempts
            // PROTOCOL.md allows `swarm retry` only while the parent has not settled
            #expect(retry.status == 1 && retry.stderr.hasPrefix("swarm: "), "\(retry)")
            #expect(retry.stderr.contains("retry boss instead"), "says what to do: \(retry)")
            #expect(attempts == 1, "a refused retry runs nothing")
        }
    }
}
