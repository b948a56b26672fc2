import SwarmSystem
import Testing

@Suite("What an agent is given, and the alert command", .serialized, .timeLimit(.minutes(1)))
struct AgentEnvironmentTests {
    /// A shell agent that writes down its environment, its folder and its open descriptors.
    static let probe = """
        env > env.txt
        pwd > pwd.txt
        ls /proc/self/fd > fds.txt
        echo '{"status": "ok"}' > results.json
        """

    func environment(_ ws: TestWorkspace, _ id: String) throws -> [String: String] {
        let text = try #require(ws.text("swarm/agents/\(id)/env.txt"))
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            out[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return out
    }

    @Test("CLI.md's variables, the agent's folder as working directory, descriptors 0-3 only")
    func topLevelAgent() async throws {
        try await withWorkspace { ws in
            try ws.drop(
                "p.md",
                TestWorkspace.task([("role", "worker"), ("template", "shell"), ("id", "probe")], Self.probe))
            // a SWARM_ variable of the daemon's own is not handed down
            let output = try await Run.command(
                SwarmBinary.path, ["--root", ws.root, "run", "--until-idle", "--heartbeat", "200ms"],
                environment: SwarmBinary.environment + ["SWARM_LEAK=from-the-daemon"])
            #expect(output.status == 0, "\(output)")
            #expect(try await ws.state("probe") == "done")
            let env = try environment(ws, "probe")
            let folder = ws.path("swarm/agents/probe")
            #expect(env["SWARM_ROOT"] == ws.root)
            #expect(env["SWARM_AGENT_ID"] == "probe")
            #expect(env["SWARM_AGENT_DIR"] == folder)
            #expect(env["SWARM_PARENT_ID"] == "")
            #expect(env["SWARM_DEPTH"] == "1")
            #expect(env["SWARM_SLOTS"] == "0")
            #expect(env["SWARM_PROGRESS"] == folder + "/progress.md")
            #expect(env["SWARM_RESULTS"] == folder + "/results.json")
            #expect(env["SWARM_UPSTREAM"] == "")
            #expect(env["SWARM_LEAK"] == nil)
            #expect(env["PATH"]?.hasPrefix(SwarmBinary.parent(SwarmBinary.path) + ":") == true)
            #expect(ws.text("swarm/agents/probe/pwd.txt") == folder + "\n")
            // what a program the agent runs inherits: 0, 1, 2 and the agent.lock on 3 (ls lists
            // one more, the folder it reads /proc/self/fd through)
            let fds = (ws.text("swarm/agents/probe/fds.txt") ?? "").split(separator: "\n").compactMap {
                Int($0)
            }
            #expect(fds.count == 5 && Set(fds).isSuperset(of: [0, 1, 2, 3]), "\(fds)")
        }
    }

    @Test("a child sees its parent's id, its depth and its budget")
    func childAgent() async throws {
        let parent = #"""
            if [ -z "$SWARM_WAKE" ] || [ "$SWARM_WAKE" = start ]; then
              swarm spawn --template shell --id kid -m "env > env.txt; echo '{\"status\": \"ok\"}' > results.json"
              exit 0
            fi
            if [ -f children.json ]; then echo '{"status": "ok"}' > results.json; fi
            """#
        let template = "---\nkind: orchestrator\ncommand: /bin/sh task.md\nslots: 3\n---\n{{task}}\n"
        try await withWorkspace(files: ["templates/shell-orchestrator.md": template]) { ws in
            try ws.drop(
                "boss.md",
                TestWorkspace.task(
                    [("role", "meta"), ("template", "shell-orchestrator"), ("id", "boss")], parent))
            let output = try await ws.runUntilIdle()
            #expect(output.status == 0, "\(output)")
            let agents = try await ws.agents()
            #expect(agents.map(\.state) == ["done", "done"], "\(agents.map { ($0.id, $0.state) })")
            let env = try environment(ws, "kid")
            #expect(env["SWARM_PARENT_ID"] == "boss")
            #expect(env["SWARM_DEPTH"] == "2")
            #expect(env["SWARM_SLOTS"] == "0")
        }
    }

    @Test("alertCommand runs for every alert with the alert in its environment")
    func alertCommand() async throws {
        let command = #""echo \"$SWARM_ALERT_KIND|$SWARM_ALERT_AGENT|$SWARM_ROOT\" >> alert-hook.txt""#
        try await withWorkspace(config: ["alertCommand": command]) { ws in
            try ws.drop("bad.md", "---\nrole: nosuchrole\ntemplate: sim-worker\n---\nX\n")
            try ws.drop("dead.md", TestWorkspace.simTask("broken", [("sim.fail", "error")]))
            #expect(try await ws.runUntilIdle().status == 0)
            let seen = await eventually {
                (ws.text("alert-hook.txt") ?? "").split(separator: "\n").count >= 2
            }
            #expect(seen, "\(ws.text("alert-hook.txt") ?? "no alert-hook.txt")")
            let lines = Set((ws.text("alert-hook.txt") ?? "").split(separator: "\n").map(String.init))
            #expect(lines.contains("rejected-task||\(ws.root)"), "\(lines)")
            #expect(lines.contains("dead-letter|broken|\(ws.root)"), "\(lines)")
        }
    }
}
