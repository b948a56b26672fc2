@preconcurrency import Glibc
import SwarmSystem
import Testing

@Suite("Crashes, restarts and adoption", .serialized, .timeLimit(.minutes(1)))
struct CrashTests {
    @Test("SIGKILL the daemon twice mid-run: all 20 tasks end done, each started exactly once")
    func killNine() async throws {
        try await withWorkspace { ws in
            // 2 at a time: ten waves of 1.5 s, so a test whose polling a loaded machine holds up
            // for seconds still finds the second crash's moment (5 at a time, CI once saw the
            // first condition only in the last wave)
            try ws.configure(["maxSlots": "2", "reserve": "0"])
            var daemon = try await ws.startDaemon(["--heartbeat", "1s"])
            for i in 1...20 {
                try ws.drop(
                    "t\(i).md",
                    TestWorkspace.task([
                        ("role", "worker"), ("template", "sim-worker"), ("sim.steps", "5"),
                        ("sim.interval", "300ms"),
                    ]))
            }
            // crash once while the first wave runs, once more after some have finished
            let conditions: [([AgentStatus]) -> Bool] = [
                { agents in agents.filter { $0.state == "running" }.count >= 2 },
                { agents in
                    agents.contains { $0.state == "done" } && agents.filter { $0.state != "done" }.count >= 5
                },
            ]
            for condition in conditions {
                let reached = try await eventually { condition(try await ws.agents()) }
                try #require(reached, "\(ws.diagnostics())")
                await daemon.crash()
                #expect(daemon.ended == .signaled(SIGKILL))
                daemon = try await ws.startDaemon(["--heartbeat", "1s"])
            }
            let finished = try await eventually(timeout: 30) {
                let agents = try await ws.agents()
                return agents.count == 20 && agents.allSatisfy { $0.state == "done" }
            }
            let agents = try await ws.agents()
            #expect(finished, "\(agents.map { ($0.id, $0.state) })\n\(ws.diagnostics())")
            #expect(agents.count == 20)
            // A kill that lands between meta.json's write and posix_spawn costs a phantom attempt
            // (see crashBeforeSpawn); its mark is the reason "exit status unknown" in meta.json.
            let twice = agents.filter { $0.attempts != 1 || ($0.runs ?? 1) != 1 }
            let phantom = twice.allSatisfy {
                $0.attempts == 2
                    && ws.text("swarm/agents/\($0.id)/meta.json")?.contains("exit status unknown") == true
            }
            withKnownIssue(
                "a crash between writing meta.json and posix_spawn counts a failed attempt",
                isIntermittent: true
            ) {
                #expect(twice.isEmpty, "started twice: \(twice.map { ($0.id, $0.attempts) })")
            } when: {
                !twice.isEmpty && phantom
            }
            #expect(ws.entries("swarm/inbox").allSatisfy { $0.hasPrefix(".") })
            #expect(ws.entries("swarm/claimed/_inbox").isEmpty)
            // exactly one progress run per agent: 5 steps each
            for agent in agents {
                let lines = (ws.text("swarm/agents/\(agent.id)/progress.md") ?? "").split(separator: "\n")
                #expect(lines.count == 5, "\(agent.id) wrote \(lines.count) progress lines")
            }
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == .exited(0))
        }
    }

    @Test("SIGTERM stops the daemon with 0 and leaves the agent running; the next daemon adopts it")
    func adoption() async throws {
        try await withWorkspace { ws in
            let first = try await ws.startDaemon()
            try ws.drop(
                "long.md", TestWorkspace.simTask("long", [("sim.steps", "40"), ("sim.interval", "100ms")]))
            #expect(try await ws.waitForState("long", ["running"]))
            // meta.json says running just before the spawn, and names the pid just after it
            #expect(try await eventually { try await ws.agent("long")?.pid != nil })
            let pid = try #require(try await ws.agent("long")?.pid)
            first.signal(SIGTERM)
            #expect(await first.waitForExit() == .exited(0), "\(first.logText)")
            #expect(Processes.isAlive(pid), "the agent keeps running without a daemon")
            #expect(!ws.agentProcesses("long").isEmpty)
            #expect(try await ws.state("long") == "running")

            let second = try await ws.startDaemon()
            #expect(try await ws.waitForState("long", ["done"]), "\(ws.diagnostics())")
            let agent = try #require(try await ws.agent("long"))
            #expect(agent.attempts == 1, "adopted, not started again")
            #expect((ws.text("swarm/agents/long/progress.md") ?? "").split(separator: "\n").count == 40)
            #expect(second.logText.contains("adopted long"), "\(second.logText)")
            second.signal(SIGTERM)
            #expect(await second.waitForExit() == .exited(0))
        }
    }

    @Test("an agent that ends while no daemon runs is judged by its results.json at the next start")
    func endedWhileDown() async throws {
        try await withWorkspace { ws in
            let first = try await ws.startDaemon()
            // 1.5 s, so that a loaded machine still stops the daemon before the agent ends
            try ws.drop(
                "short.md", TestWorkspace.simTask("short", [("sim.steps", "15"), ("sim.interval", "100ms")]))
            #expect(try await ws.waitForState("short", ["running"]))
            first.signal(SIGTERM)
            #expect(await first.waitForExit() == .exited(0))
            #expect(
                await eventually {
                    ws.agentProcesses("short").isEmpty && ws.exists("swarm/agents/short/results.json")
                })
            #expect(try await ws.state("short") == "running", "nobody watched it end")
            let output = try await ws.runUntilIdle()
            #expect(output.status == 0, "\(output)")
            #expect(try await ws.agent("short")?.state == "done")
            #expect(try await ws.agent("short")?.attempts == 1)
        }
    }

    @Test("swarm kill while no daemon runs waits in swarm/control/ and happens at the next start")
    func controlWaits() async throws {
        try await withWorkspace { ws in
            let first = try await ws.startDaemon()
            try ws.drop(
                "long.md",
                TestWorkspace.simTask("sleeper", [("sim.steps", "100"), ("sim.interval", "100ms")]))
            #expect(try await ws.waitForState("sleeper", ["running"]))
            first.signal(SIGTERM)
            #expect(await first.waitForExit() == .exited(0))
            let kill = try await ws.swarm("kill", "sleeper")
            #expect(kill.status == 0, "\(kill)")
            #expect(kill.stdout.contains("no daemon runs now"), "\(kill)")
            try await ws.startDaemon()
            #expect(try await ws.waitForState("sleeper", ["killed"]), "\(ws.diagnostics())")
            #expect(await eventually(timeout: 5) { ws.agentProcesses("sleeper").isEmpty })
        }
    }

    @Test("SIGHUP reloads swarm.json; a broken swarm.json keeps the old one and the daemon runs on")
    func reload() async throws {
        try await withWorkspace { ws in
            let daemon = try await ws.startDaemon()
            try ws.configure(["maxSlots": "\"many\""])
            daemon.signal(SIGHUP)
            #expect(await eventually { daemon.logText.contains("reload refused") }, "\(daemon.logText)")
            try ws.drop("a.md", goodTask("a"))
            #expect(try await ws.waitForState("a", ["done"]))
            #expect(await daemon.waitForExit(timeout: 0) == nil)
            // a broken swarm.json is refused at start, with the problem named
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == .exited(0))
            let start = try await ws.runUntilIdle()
            #expect(start.status == 1, "\(start)")
            #expect(start.stderr.hasPrefix("swarm: ") && start.stderr.contains("maxSlots"), "\(start)")
        }
    }

    @Test("a crash after meta.json marks the run started but before the process exists costs no attempt")
    func crashBeforeSpawn() async throws {
        try await withWorkspace { ws in
            try ws.drop("once.md", TestWorkspace.simTask("once", [("sim.steps", "1")]))
            #expect(try await ws.runUntilIdle().status == 0)
            // Put back what the daemon writes just before posix_spawn (state running, active,
            // attempts 1, no pid yet), as a SIGKILL at that moment leaves it, and nothing the
            // process would have written.
            let meta = try #require(ws.text("swarm/agents/once/meta.json"))
            var lines: [String] = []
            for line in meta.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
                let key = line.trimmingSpaces()
                if key.hasPrefix("\"pid\"") || key.hasPrefix("\"finishedAt\"")
                    || key.hasPrefix("\"deliveredAt\"")
                {
                    continue
                }
                if key.hasPrefix("\"state\"") { lines.append("  \"state\" : \"running\","); continue }
                if key.hasPrefix("\"active\"") { lines.append("  \"active\" : true,"); continue }
                lines.append(line)
            }
            try ws.write("swarm/agents/once/meta.json", lines.joined(separator: "\n"))
            for file in ["results.json", "progress.md", "stdout.log", "stderr.log"] {
                try FileSystem.remove(ws.path("swarm/agents/once/" + file))
            }
            #expect(try await ws.state("once") == "running")
            #expect(try await ws.runUntilIdle().status == 0)
            let agent = try #require(try await ws.agent("once"))
            #expect(agent.state == "done")
            // the lock is free and no stdout.log exists (the spawn creates it before the command
            // runs): the run never started, and its start is undone without counting an attempt
            #expect(agent.attempts == 1, "\(agent.reason ?? "")")
            #expect(agent.runs == 1)
        }
    }

    /// A crash right after a first run's spawn leaves meta.json with the record written just
    /// before it (running, no pid) or, for an agent that waited in the queue, its queued record.
    @Test(
        "a task waiting for a slot keeps no record of its own; a kill -9 meanwhile loses and repeats nothing")
    func waitingWithoutRecord() async throws {
        try await withWorkspace(config: ["maxSlots": "3", "reserve": "2"]) { ws in
            var daemon = try await ws.startDaemon()
            try ws.drop(
                "a.md", TestWorkspace.simTask("first", [("sim.steps", "300"), ("sim.interval", "100ms")]))
            #expect(try await ws.waitForState("first", ["running"]))
            try ws.drop(
                "b.md",
                TestWorkspace.task([
                    ("role", "worker"), ("template", "sim-worker"), ("id", "second"),
                    ("priority", "background"),
                    ("sim.steps", "2"),
                ]))
            #expect(try await ws.waitForState("second", ["queued"]), "\(ws.diagnostics())")
            // its folder holds the task and its brief; swarm status makes its record from them
            #expect(ws.text("swarm/agents/second/meta.json") == nil)
            #expect(ws.text("swarm/agents/second/task.md") != nil)
            let waiting = try #require(try await ws.agent("second"))
            #expect(waiting.role == "worker" && waiting.template == "sim-worker" && waiting.attempts == 0)
            #expect(try await ws.swarm("status", "second").stdout.contains("queued"))
            await daemon.crash()
            daemon = try await ws.startDaemon()
            #expect(try await ws.state("second") == "queued")
            #expect(try await ws.swarm("kill", "first").status == 0)
            #expect(try await ws.waitForState("second", ["done"]), "\(ws.diagnostics())")
            let ran = try #require(try await ws.agent("second"))
            #expect(ran.attempts == 1 && ran.runs == 1)
            #expect((ws.text("swarm/agents/second/progress.md") ?? "").split(separator: "\n").count == 2)
            #expect(
                ws.text("swarm/agents/second/meta.json")?.contains("\"priority\": \"background\"") == true)
            #expect(ws.entries("swarm/agents") == ["first", "second"])
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == .exited(0))
        }
    }

    @Test(
        "a crash before a first run's start was recorded in full: the run that ended is judged by what it left, once",
        arguments: [Rewind.running, .queued, .noRecord])
    func crashBeforeStartRecorded(rewind: Rewind) async throws {
        try await withWorkspace { ws in
            try ws.drop("quick.md", TestWorkspace.simTask("quick", [("sim.steps", "2")]))
            #expect(try await ws.runUntilIdle().status == 0)
            let progress = try #require(ws.text("swarm/agents/quick/progress.md"))
            try Self.rewindToStart(ws, "quick", to: rewind)
            let meta = ws.text("swarm/agents/quick/meta.json")
            switch rewind {
            case .running: #expect(meta?.contains("\"running\"") == true)
            case .queued: #expect(meta?.contains("\"queued\"") == true)
            case .noRecord: #expect(meta == nil)
            }
            // swarm status reads a queued record (on disk, or made from the folder of a task
            // that waits without one) beside its first run's stdout.log as that run
            #expect(try await ws.state("quick") == "running")
            let output = try await ws.runUntilIdle()
            #expect(output.status == 0, "\(output)")
            if rewind != .running {
                #expect(output.stderr.contains("quick had started its first run"), "\(output)")
            }
            let agent = try #require(try await ws.agent("quick"))
            #expect(agent.state == "done")
            #expect(agent.attempts == 1, "\(agent.reason ?? "")")
            #expect(ws.text("swarm/agents/quick/progress.md") == progress, "not run again")
        }
    }

    @Test(
        "a running first run whose start was not recorded in full is adopted with the pid its process shows",
        arguments: [Rewind.running, .queued, .noRecord])
    func adoptionOfAnUnrecordedStart(rewind: Rewind) async throws {
        try await withWorkspace { ws in
            let first = try await ws.startDaemon()
            try ws.drop(
                "long.md", TestWorkspace.simTask("long", [("sim.steps", "40"), ("sim.interval", "100ms")]))
            #expect(try await eventually { try await ws.agent("long")?.pid != nil })
            let pid = try #require(try await ws.agent("long")?.pid)
            first.signal(SIGTERM)
            #expect(await first.waitForExit() == .exited(0), "\(first.logText)")
            try Self.rewindToStart(ws, "long", to: rewind)
            #expect(try await ws.agent("long")?.pid == nil)
            #expect(try await ws.state("long") == "running")

            let second = try await ws.startDaemon()
            #expect(
                await eventually { second.logText.contains("adopted long, still running (pid \(pid))") },
                "\(second.logText)")
            #expect(try await ws.waitForState("long", ["done"]), "\(ws.diagnostics())")
            let agent = try #require(try await ws.agent("long"))
            #expect(agent.attempts == 1, "adopted, not started again")
            #expect((ws.text("swarm/agents/long/progress.md") ?? "").split(separator: "\n").count == 40)
            second.signal(SIGTERM)
            #expect(await second.waitForExit() == .exited(0))
        }
    }

    /// An orchestrator read its children.json, wrote its result and ended, and so did its
    /// child; the daemon died before writing either end. The next daemon judges the child's
    /// end first (it came first): both end done, the child not killed for an orchestrator
    /// that "ended first".
    @Test("ends seen after a restart are judged children first: a finished tree stays done")
    func endsAfterARestartAreJudgedChildrenFirst() async throws {
        try await withWorkspace { ws in
            try ws.drop(
                "boss.md",
                TestWorkspace.simTask(
                    "boss", [("slots", "2"), ("sim.children", "1"), ("sim.child-steps", "2")],
                    kind: "orchestrator"))
            #expect(try await ws.runUntilIdle().status == 0)
            let child = try #require(try await ws.agents().first { $0.parent == "boss" })
            #expect(try await ws.agents().allSatisfy { $0.state == "done" })
            try Self.rewindToStart(ws, "boss", to: .running)
            try Self.rewindToStart(ws, child.id, to: .running)
            #expect(try await ws.state(child.id) == "running")
            let run = try await ws.runUntilIdle()
            #expect(run.status == 0, "\(run)")
            let agents = try await ws.agents()
            #expect(
                agents.map(\.state) == ["done", "done"],
                "\(agents.map { ($0.id, $0.state, $0.reason ?? "") })\n\(run)")
            #expect(agents.allSatisfy { $0.attempts == 1 })
        }
    }

    /// Rewrites an agent's meta.json to the record a crash at its first start can leave:
    /// the one written just before the spawn (running, active, no pid and no end) or, with
    /// `queued`, the queued record a waiting agent keeps until its run has lasted a moment.
    /// What a crash leaves of a first run's start: the running record without its pid, the
    /// queued record (rule 2's exception), or no record (a worker from the inbox, whose
    /// folder gives its queued record).
    enum Rewind: Sendable, CustomTestStringConvertible {
        case running, queued, noRecord
        var testDescription: String {
            switch self {
            case .running: "the running record without a pid"
            case .queued: "the queued record"
            case .noRecord: "no record"
            }
        }
    }

    private static func rewindToStart(_ ws: TestWorkspace, _ id: String, to rewind: Rewind) throws {
        if rewind == .noRecord {
            try FileSystem.remove(ws.path("swarm/agents/\(id)/meta.json"))
            return
        }
        let queued = rewind == .queued
        let meta = try #require(ws.text("swarm/agents/\(id)/meta.json"))
        var dropped = ["pid", "finishedAt", "deliveredAt"]
        if queued { dropped += ["startedAt", "confinement"] }
        let replaced =
            queued
            ? ["state": "\"queued\"", "active": "false", "attempts": "0", "runs": "0"]
            : ["state": "\"running\"", "active": "true"]
        var lines: [String] = []
        for line in meta.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let key = line.trimmingSpaces()
            if dropped.contains(where: { key.hasPrefix("\"\($0)\"") }) { continue }
            if let (name, value) = replaced.first(where: { key.hasPrefix("\"\($0.key)\"") }) {
                lines.append("  \"\(name)\": \(value),")
                continue
            }
            lines.append(line)
        }
        try ws.write("swarm/agents/\(id)/meta.json", lines.joined(separator: "\n"))
    }
}
