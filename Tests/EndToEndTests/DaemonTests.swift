import SwarmSystem
import Testing

@Suite(
    "The daemon: many tasks, one daemon per tree, templates read at each spawn", .serialized,
    .timeLimit(.minutes(1)))
struct DaemonTests {
    @Test("20 submitted tasks all end done with results; state.json is never seen half-written")
    func twentyTasks() async throws {
        try await withWorkspace { ws in
            for i in 1...20 {
                let output = try await ws.swarm(
                    "submit", "--role", "worker", "--template", "sim-worker", "-m", "task \(i)")
                try #require(output.status == 0, "\(output)")
            }
            // a reader that parses state.json as fast as it can while the daemon runs
            let stop = ws.path("stop-reader")
            let reader = Task.detached { () -> (good: Int, bad: Int) in
                var good = 0
                var bad = 0
                func readOnce() {
                    guard let text = ws.text("swarm/state.json") else { return }
                    if (try? decode(StateDocument.self, text)) != nil { good += 1 } else { bad += 1 }
                }
                while !FileSystem.exists(stop) {
                    readOnce()
                    await Task.yield()
                }
                readOnce()
                return (good, bad)
            }
            let output = try await ws.runUntilIdle()
            try FileSystem.writeAtomically(stop, [])
            let (good, bad) = await reader.value
            #expect(output.status == 0, "\(output)")
            #expect(bad == 0, "state.json was read half-written \(bad) times")
            #expect(good > 0)
            let agents = try await ws.agents()
            #expect(agents.count == 20)
            #expect(
                agents.allSatisfy { $0.state == "done" && $0.attempts == 1 },
                "\(agents.map { ($0.id, $0.state) })")
            for agent in agents {
                let results = try #require(ws.text("swarm/agents/\(agent.id)/results.json"), "\(agent.id)")
                #expect(results.contains("\"summary\""))
            }
            #expect(ws.entries("swarm/inbox").allSatisfy { $0.hasPrefix(".") })
        }
    }

    @Test("the Slurm launcher without Slurm's commands, or an unknown SWARM_LAUNCHER, stops the daemon at start with what to do")
    func slurmLauncherNeedsSlurm() async throws {
        try await withWorkspace(config: ["launcher": "\"slurm\""]) { ws in
            let folder = SwarmBinary.parent(SwarmBinary.path)
            let bare = ["PATH=" + folder + ":/nonexistent", "HOME=/tmp", "LANG=C.UTF-8", "NO_COLOR=1"]
            let run = try await Run.command(SwarmBinary.path, ["--root", ws.root, "run", "--until-idle"], environment: bare)
            #expect(run.status == 1, "\(run)")
            #expect(run.stderr.contains("sbatch, srun, scancel, scontrol, squeue cannot be found on PATH"), "\(run.stderr)")
            #expect(run.stderr.contains("slurm-client") && run.stderr.contains("\"launcher\": \"local\""))
            let unknown = try await Run.command(
                SwarmBinary.path, ["--root", ws.root, "run", "--until-idle"], environment: bare + ["SWARM_LAUNCHER=pbs"])
            #expect(unknown.status == 1 && unknown.stderr.contains("SWARM_LAUNCHER is \"pbs\""), "\(unknown)")
        }
    }

    @Test("--until-idle still takes a task dropped just after the last agent ended")
    func untilIdleSettles() async throws {
        // launcher: local, also when SWARM_LAUNCHER=slurm (a Slurm job's leftovers end with it)
        let template = "---\nkind: worker\ncommand: /bin/sh task.md\nlauncher: local\n---\n{{task}}\n"
        try await withWorkspace(config: ["confinement": "\"off\""], files: ["templates/dropper.md": template]) { ws in
            let next = TestWorkspace.task([("id", "second"), ("role", "worker"), ("template", "shell")], "echo '{}' > results.json\n")
            try ws.write("next.md", next)
            // the first agent lets go of its folder's lock (so that nothing it leaves behind
            // counts as a leftover to stop), then leaves a process in a session of its own
            // that drops the next task 50 ms after the agent ended, and notes when
            let dropped = ws.path("dropped-at")
            let script =
                "exec 3>&-\nsetsid sh -c 'sleep 0.05; date +%s%N > \(dropped); mv \(ws.path("next.md")) \(ws.path("swarm/inbox/second.md"))'"
                + " >/dev/null 2>&1 &\necho '{}' > results.json\n"
            try ws.drop("first.md", TestWorkspace.task([("id", "first"), ("role", "worker"), ("template", "dropper")], script))
            let run = try await ws.runUntilIdle()
            #expect(run.status == 0, "\(run)")
            #expect(try await ws.state("first") == "done")
            // on a machine loaded enough to drop it later than 200 ms after the first agent
            // ended, the window (250 ms) cannot be judged: the task is then left for a later run
            let finished = ws.text("swarm/agents/first/meta.json").flatMap { text in
                text.split(separator: "\n").first { $0.contains("\"finishedAt\"") }
                    .flatMap { Int64($0.filter(\.isNumber)) }
            }
            _ = await eventually(timeout: 10) { ws.exists("dropped-at") && ws.exists("swarm/inbox/second.md") || ws.exists("swarm/agents/second") }
            let droppedAt = ws.text("dropped-at").flatMap { Int64($0.filter(\.isNumber)) }.map { $0 / 1_000_000 }
            let late = try #require(droppedAt) - (try #require(finished)) > 200
            if !late {
                #expect(try await ws.state("second") == "done", "\(ws.entries("swarm/inbox"))")
            }
        }
    }

    @Test("a second swarm run on the same tree exits 1 with a swarm: message while the first runs")
    func secondDaemon() async throws {
        try await withWorkspace { ws in
            let first = try await ws.startDaemon()
            for arguments in [["run"], ["run", "--until-idle"]] {
                let second = try await ws.swarm(arguments, timeout: 10)
                #expect(second.status == 1, "\(second)")
                #expect(second.stderr.hasPrefix("swarm: "), "\(second)")
                #expect(second.stderr.contains("another swarm daemon"), "\(second)")
                #expect(second.stderr.contains("\(first.pid)"), "the message names the running daemon")
            }
            #expect(await first.waitForExit(timeout: 0) == nil)
            try ws.drop("still.md", goodTask("still"))
            #expect(try await ws.waitForState("still", ["done"]))
        }
    }

    @Test("a template edit takes effect at the next spawn; a broken edit rejects that task only")
    func templateEdits() async throws {
        func template(_ version: String) -> String {
            "---\nkind: worker\ncommand: echo '{\"status\": \"ok\", \"version\": \"\(version)\"}' > results.json\n---\n{{task}}\n"
        }
        try await withWorkspace(files: ["templates/mine.md": template("one")]) { ws in
            let daemon = try await ws.startDaemon()
            let task = { (id: String) in
                TestWorkspace.task([("role", "worker"), ("template", "mine"), ("id", id)])
            }
            try ws.drop("a.md", task("a"))
            #expect(try await ws.waitForState("a", ["done"]))
            #expect(ws.text("swarm/agents/a/results.json")?.contains("\"one\"") == true)

            try ws.write("templates/mine.md", template("two"))
            try ws.drop("b.md", task("b"))
            #expect(try await ws.waitForState("b", ["done"]))
            #expect(ws.text("swarm/agents/b/results.json")?.contains("\"two\"") == true)

            try ws.write("templates/mine.md", "---\nkind: banana\ncommand: true\n---\n{{task}}\n")
            try ws.drop("c.md", task("c"))
            let rejected = await eventually { ws.exists("swarm/rejected/c.md.error") }
            try #require(rejected, "\(ws.diagnostics())")
            let reason = ws.text("swarm/rejected/c.md.error") ?? ""
            #expect(reason.contains("templates/mine.md"), "\(reason)")
            #expect(reason.contains("banana"), "\(reason)")
            #expect(try await ws.agent("c") == nil)

            try ws.drop("d.md", goodTask("d"))
            #expect(try await ws.waitForState("d", ["done"]), "the daemon keeps running")
            try ws.write("templates/mine.md", template("three"))
            try ws.drop("e.md", task("e"))
            #expect(try await ws.waitForState("e", ["done"]))
            #expect(ws.text("swarm/agents/e/results.json")?.contains("\"three\"") == true)
            #expect(await daemon.waitForExit(timeout: 0) == nil)
        }
    }

    @Test("a template whose brief names an unknown placeholder rejects the task with the placeholder named")
    func unknownPlaceholder() async throws {
        try await withWorkspace(files: [
            "templates/holes.md": "---\ncommand: true\n---\n{{task}} {{nosuch}}\n"
        ]) { ws in
            try ws.drop("h.md", TestWorkspace.task([("role", "worker"), ("template", "holes")]))
            #expect(try await ws.runUntilIdle().status == 0)
            let reason = try #require(ws.text("swarm/rejected/h.md.error"))
            #expect(reason.contains("nosuch"), "\(reason)")
        }
    }
}
