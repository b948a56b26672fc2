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
            // the stopping daemon's last state.json lands after every one its helper wrote
            let state = try decode(StateDocument.self, try #require(ws.text("swarm/state.json")))
            #expect(state.agents.count == 20 && state.agents.allSatisfy { $0.state == "done" })
            #expect(state.budgets.first { $0.holder == "" }?.used == 0)
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

    @Test(
        "the Slurm launcher without Slurm's commands, or an unknown SWARM_LAUNCHER, stops the daemon at start with what to do"
    )
    func slurmLauncherNeedsSlurm() async throws {
        try await withWorkspace(config: ["launcher": "\"slurm\""]) { ws in
            let folder = SwarmBinary.parent(SwarmBinary.path)
            let bare = ["PATH=" + folder + ":/nonexistent", "HOME=/tmp", "LANG=C.UTF-8", "NO_COLOR=1"]
            let run = try await Run.command(
                SwarmBinary.path, ["--root", ws.root, "run", "--until-idle"], environment: bare)
            #expect(run.status == 1, "\(run)")
            #expect(
                run.stderr.contains("sbatch, srun, scancel, scontrol, squeue cannot be found on PATH"),
                "\(run.stderr)")
            #expect(run.stderr.contains("slurm-client") && run.stderr.contains("\"launcher\": \"local\""))
            let unknown = try await Run.command(
                SwarmBinary.path, ["--root", ws.root, "run", "--until-idle"],
                environment: bare + ["SWARM_LAUNCHER=pbs"])
            #expect(unknown.status == 1 && unknown.stderr.contains("SWARM_LAUNCHER is \"pbs\""), "\(unknown)")
        }
    }

    @Test(
        "a retry waits while the processes the last run left behind are being stopped, and spends no attempt on them"
    )
    func retryWaitsForLeftovers() async throws {
        // launcher: local, also when SWARM_LAUNCHER=slurm; a retry 20 ms after a failed run
        let template =
            "---\nkind: worker\ncommand: /bin/sh task.md\nlauncher: local\non.exit: retry 1\nbackoff: 20ms..20ms\n---\n{{task}}\n"
        try await withWorkspace(config: ["killGrace": "\"600ms\""], files: ["templates/leaver.md": template])
        { ws in
            // the first run leaves a process that ignores SIGTERM (and holds the folder's lock,
            // descriptor 3) and fails; the second one succeeds
            let body = """
                if [ ! -e first ]; then : > first; (trap '' TERM; exec sleep 30) & exit 1; fi
                echo '{"status": "ok"}' > results.json
                """
            try ws.drop(
                "leaver.md",
                TestWorkspace.task([("id", "leaver"), ("role", "worker"), ("template", "leaver")], body))
            let run = try await ws.runUntilIdle()
            #expect(run.status == 0, "\(run)")
            let agent = try #require(try await ws.agent("leaver"), "\(ws.diagnostics())")
            #expect(agent.state == "done" && agent.attempts == 2, "\(ws.diagnostics())")
            #expect(run.stderr.contains("left 1 process(es) behind"), "\(run.stderr)")
            #expect(run.stderr.contains("outlived its grace period"), "\(run.stderr)")
            #expect(run.stderr.contains("leaver starts once the processes its last run left behind are gone"))
            #expect(ws.agentProcesses("leaver").isEmpty, "the leftover was killed")
        }
    }

    @Test(
        "--until-idle takes a task the last agent dropped as its last act, with no wait; one dropped after it exited waits in the inbox"
    )
    func untilIdleSeesTheLastDrop() async throws {
        // launcher: local, also when SWARM_LAUNCHER=slurm
        let template = "---\nkind: worker\ncommand: /bin/sh task.md\nlauncher: local\n---\n{{task}}\n"
        try await withWorkspace(config: ["confinement": "\"off\""], files: ["templates/dropper.md": template])
        { ws in
            // a chain: each agent writes its result, then drops the next task and ends at once
            let length = 12
            for n in 1..<length {
                let body =
                    n + 1 < length
                    ? "mv \(ws.path("c\(n + 1).md")) \(ws.path("swarm/inbox/c\(n + 1).md"))\n" : "\n"
                try ws.write(
                    "c\(n).md",
                    TestWorkspace.task(
                        [("id", "c\(n)"), ("role", "worker"), ("template", "dropper")],
                        "echo '{}' > results.json\n" + body))
            }
            try FileSystem.rename(ws.path("c1.md"), to: ws.path("swarm/inbox/c1.md"))
            let run = try await ws.runUntilIdle()
            #expect(run.status == 0, "\(run)")
            for n in 1..<length {
                #expect(try await ws.state("c\(n)") == "done", "c\(n): \(ws.diagnostics())")
            }
            try ws.drop(
                "later.md",
                TestWorkspace.task(
                    [("id", "later"), ("role", "worker"), ("template", "shell")], "echo '{}' > results.json\n"
                ))
            #expect(ws.exists("swarm/inbox/later.md"), "a task dropped after the run is left where it is")
            #expect(try await ws.runUntilIdle().status == 0)
            #expect(try await ws.state("later") == "done")
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
