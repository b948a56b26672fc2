@preconcurrency import Glibc
import SwarmSystem
import Testing

@Suite("Liveness with a 200 ms heartbeat", .serialized, .timeLimit(.minutes(1)))
struct LivenessTests {
    @Test(
        "a hung agent gets investigate, then killed with its process; its retry hangs too and ends dead-letter"
    )
    func hang() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon()
            try ws.drop("hang.md", TestWorkspace.simTask("hanger", [("sim.fail", "hang")]))
            #expect(try await ws.waitForAlert("killed", agent: "hanger"), "\(ws.diagnostics())")
            let alerts = try await ws.alerts().filter { $0.agent == "hanger" }.map(\.kind)
            let investigate = try #require(alerts.firstIndex(of: "investigate"), "\(alerts)")
            let killed = try #require(alerts.firstIndex(of: "killed"))
            #expect(investigate < killed, "investigate comes first: \(alerts)")
            // on.killed: retry 1, so the second hang ends it for good
            #expect(try await ws.waitForState("hanger", ["dead-letter"]), "\(ws.diagnostics())")
            #expect(try await ws.agent("hanger")?.attempts == 2)
            #expect(await eventually(timeout: 5) { ws.agentProcesses("hanger").isEmpty })
        }
    }

    @Test("an agent that prints a line every 100 ms for 2 s, with no progress lines, is never killed")
    func slowButAlive() async throws {
        let script =
            #"for i in $(seq 20); do echo working $i; sleep 0.1; done; echo '{"status": "ok"}' > results.json"#
        try await withWorkspace { ws in
            try ws.drop(
                "slow.md",
                TestWorkspace.task([("role", "worker"), ("template", "shell"), ("id", "slowpoke")], script))
            let output = try await ws.runUntilIdle()
            #expect(output.status == 0, "\(output)")
            let agent = try #require(try await ws.agent("slowpoke"))
            #expect(agent.state == "done")
            #expect(agent.attempts == 1)
            let about = try await ws.alerts().filter { $0.agent == "slowpoke" }.map(\.kind)
            #expect(!about.contains("killed") && !about.contains("investigate"), "\(about)")
            #expect(ws.text("swarm/agents/slowpoke/stdout.log")?.contains("working 20") == true)
        }
    }

    @Test("a question raises waiting-for-human at once; swarm answer lets the agent finish")
    func question() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon()
            try ws.drop("ask.md", TestWorkspace.simTask("asker", [("sim.ask", "Which database?")]))
            #expect(
                try await ws.waitForAlert("waiting-for-human", agent: "asker", timeout: 5),
                "\(ws.diagnostics())")
            #expect(try await ws.waitForState("asker", ["waiting"], timeout: 5))
            #expect(ws.text("swarm/agents/asker/question.md")?.contains("Which database?") == true)
            let answer = try await ws.swarm("answer", "asker", "Use", "Postgres")
            #expect(answer.status == 0, "\(answer)")
            #expect(try await ws.waitForState("asker", ["done"]), "\(ws.diagnostics())")
            #expect(ws.text("swarm/agents/asker/results.json")?.contains("Use Postgres") == true)
            #expect(try await ws.agent("asker")?.attempts == 1)
        }
    }

    @Test("answering an agent that asked nothing is an error")
    func answerWithoutQuestion() async throws {
        try await withWorkspace { ws in
            try ws.drop("q.md", TestWorkspace.simTask("quiet", [("sim.steps", "1")]))
            #expect(try await ws.runUntilIdle().status == 0)
            let answer = try await ws.swarm("answer", "quiet", "yes")
            #expect(answer.status == 1 && answer.stderr.contains("has not asked"), "\(answer)")
        }
    }

    @Test("a spinner (same line, outputs never grow) raises spinning and looping")
    func spin() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon()
            try ws.drop("spin.md", TestWorkspace.simTask("spinner", [("sim.fail", "spin")]))
            #expect(try await ws.waitForAlert("spinning", agent: "spinner"), "\(ws.diagnostics())")
            #expect(try await ws.waitForAlert("looping", agent: "spinner"), "\(ws.diagnostics())")
            #expect(
                try await ws.alerts("spinning", agent: "spinner").count == 1, "raised once, not every beat")
            #expect(try await ws.state("spinner") == "running", "spinning is flagged, not killed")
            #expect(try await ws.swarm("kill", "spinner").status == 0)
            #expect(try await ws.waitForState("spinner", ["killed"]))
        }
    }

    @Test("swarm kill ends a running agent killed, with every process it started, detached ones too")
    func kill() async throws {
        let script = "( setsid sh -c 'sleep 300' & ); swarm progress started; sleep 300"
        try await withWorkspace { ws in
            try await ws.startDaemon()
            try ws.drop(
                "k.md",
                TestWorkspace.task([("role", "worker"), ("template", "shell"), ("id", "victim")], script))
            #expect(try await ws.waitForState("victim", ["running"]))
            #expect(
                await eventually { ws.agentProcesses("victim").count >= 3 },
                "sh, its sleep and the detached sleep")
            let kill = try await ws.swarm("kill", "victim")
            #expect(kill.status == 0, "\(kill)")
            #expect(kill.stdout.contains("requested"))
            #expect(try await ws.waitForState("victim", ["killed"]), "\(ws.diagnostics())")
            #expect(
                await eventually(timeout: 5) { ws.agentProcesses("victim").isEmpty },
                "left alive: \(ws.agentProcesses("victim"))")
            let agent = try #require(try await ws.agent("victim"))
            #expect(agent.pid == nil)
            #expect(agent.attempts == 1, "a killed agent is not retried")
        }
    }

    @Test("swarm kill of a queued agent: it never starts")
    func killQueued() async throws {
        try await withWorkspace(config: ["maxSlots": "3", "reserve": "2"]) { ws in
            try await ws.startDaemon()
            try ws.drop(
                // 30 s: it is killed below, long before, however slow the machine
                "a.md", TestWorkspace.simTask("first", [("sim.steps", "300"), ("sim.interval", "100ms")]))
            #expect(try await ws.waitForState("first", ["running"]))
            try ws.drop("b.md", TestWorkspace.simTask("second", [("sim.steps", "1")]))
            #expect(try await ws.waitForState("second", ["queued"]))
            #expect(try await ws.swarm("kill", "second").status == 0)
            #expect(try await ws.waitForState("second", ["killed"]))
            #expect(try await ws.agent("second")?.attempts == 0)
            #expect(try await ws.swarm("kill", "first").status == 0)
            #expect(try await ws.waitForState("first", ["killed"]))
        }
    }

    @Test("a top-level result nobody reads raises orphaned-result; swarm ack marks it read")
    func orphanedResult() async throws {
        // 10 beats of 200 ms: time enough for `swarm ack` to land first on a loaded machine
        try await withWorkspace(config: ["orphanAfter": "10"]) { ws in
            try await ws.startDaemon()
            try ws.drop("a.md", TestWorkspace.simTask("unread", [("sim.steps", "1")]))
            try ws.drop("b.md", TestWorkspace.simTask("read", [("sim.steps", "1")]))
            #expect(try await ws.waitForStates(["unread", "read"], ["done"]))
            #expect(try await ws.swarm("ack", "read").status == 0)
            #expect(try await ws.waitForAlert("orphaned-result", agent: "unread"), "\(ws.diagnostics())")
            // both finished together, so the acknowledged one would have been flagged in the
            // same heartbeat
            #expect(try await ws.alerts("orphaned-result", agent: "read").isEmpty)
            #expect(try await ws.alerts("orphaned-result", agent: "unread").count == 1, "raised once")
            let ack = try await ws.swarm("ack", "nobody")
            #expect(ack.status == 1 && ack.stderr.hasPrefix("swarm: "))
        }
    }

    @Test("swarm logs shows progress, stdout and stderr of an agent")
    func logs() async throws {
        let script =
            "swarm progress --outputs 1 one step; echo to-stdout; echo to-stderr >&2; echo '{}' > results.json"
        try await withWorkspace { ws in
            try ws.drop(
                "l.md",
                TestWorkspace.task([("role", "worker"), ("template", "shell"), ("id", "talker")], script))
            #expect(try await ws.runUntilIdle().status == 0)
            let logs = try await ws.swarm("logs", "talker")
            #expect(logs.status == 0, "\(logs)")
            for fragment in ["outputs=1 one step", "to-stdout", "to-stderr", "==> progress", "==> stderr"] {
                #expect(logs.stdout.contains(fragment), "\(logs)")
            }
        }
    }
}
