import SwarmSystem
import Testing

/// Agents that write hostile output: a results.json that is a folder, a huge results.json, a
/// multi-megabyte progress line. Each gets a clear reason; the daemon keeps serving.
@Suite("Hostile agent output", .serialized, .timeLimit(.minutes(1)))
struct HostileAgentTests {
    static let template = "---\nkind: worker\ncommand: /bin/sh task.md\non.contract: dead-letter\non.exit: dead-letter\n---\n{{task}}\n"

    @Test(
        "each gets a clear reason and the daemon goes on",
        arguments: [
            ("folder", "mkdir results.json", "directory"),
            ("huge", "head -c 100000000 /dev/zero > results.json", "limit"),
            ("binary", "head -c 3000 /dev/urandom > results.json", "not valid JSON"),
        ])
    func badResults(_ name: String, _ script: String, _ reason: String) async throws {
        try await withWorkspace(files: ["templates/hostile.md": Self.template]) { ws in
            try ws.drop("\(name).md", TestWorkspace.task([("role", "worker"), ("template", "hostile"), ("id", name)], script))
            try ws.drop("good.md", TestWorkspace.simTask("good"))
            #expect(try await ws.runUntilIdle().status == 0)
            let agent = try #require(try await ws.agent(name))
            #expect(agent.state == "dead-letter")
            #expect(agent.reason?.contains(reason) == true, "\(agent.reason ?? "")")
            #expect(try await ws.state("good") == "done")
            #expect(try await ws.alerts("contract-violation", agent: name).count == 1)
        }
    }

    @Test("a multi-megabyte progress line is cut, not fatal")
    func hugeProgressLine() async throws {
        let script = """
            printf '2026-01-01T00:00:00Z outputs=1 ' >> progress.md
            head -c 5000000 /dev/zero | tr '\\0' a >> progress.md
            echo >> progress.md
            sleep 0.5
            echo '{"status": "ok"}' > results.json
            """
        try await withWorkspace(files: ["templates/hostile.md": Self.template]) { ws in
            try ws.drop("long.md", TestWorkspace.task([("role", "worker"), ("template", "hostile"), ("id", "long")], script))
            #expect(try await ws.runUntilIdle(heartbeat: "100ms").status == 0)
            let agent = try #require(try await ws.agent("long"))
            #expect(agent.state == "done", "\(ws.diagnostics())")
            let shown = try await ws.swarm("status", "long")
            #expect(shown.status == 0 && shown.stdout.count < 2_000, "the status shown is cut short")
        }
    }
}
