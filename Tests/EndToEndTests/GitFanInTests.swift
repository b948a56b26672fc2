@preconcurrency import Glibc
import SwarmSystem
import Testing

/// A repository `app` in a test workspace: `main` with README and shared.txt.
struct WorkspaceRepo {
    let path: String
    let git = Git(environment: SwarmBinary.environment)

    init(_ ws: TestWorkspace) throws {
        path = ws.path("app")
        try FileSystem.makeDirectory(path)
        try git.check(["init", "-q", "-b", "main"], in: path)
        try ws.write("app/README", "base\n")
        try ws.write("app/shared.txt", "one\ntwo\nthree\n")
        try git.check(["add", "-A"], in: path)
        try git.check(["commit", "-q", "-m", "base"], in: path, identity: "t")
    }

    func rev(_ revision: String) throws -> String { try git.check(["rev-parse", revision], in: path) }
    func show(_ revision: String, _ file: String) throws -> String {
        try git.check(["show", revision + ":" + file], in: path)
    }
    func status() throws -> String { try git.check(["status", "--porcelain"], in: path) }
    /// Merge commits on `branch` made for agent `id`.
    func merges(of id: String, on branch: String) throws -> Int {
        Int(try git.check(["rev-list", "--count", "--merges", "--author=^swarm \(id) ", branch], in: path))
            ?? -1
    }
}

/// An orchestrator template whose task text is a shell script (run again at each wake-up).
let shellOrchestrator = """
    ---
    kind: orchestrator
    slots: 8
    command: /bin/sh "$SWARM_AGENT_DIR/task.md"
    on.exit: retry 1
    ---
    {{task}}
    """

/// The script of orchestrator `boss`: at its start it spawns one shell worker per entry of
/// `workers` (id, script); once children.json says every child settled, it finishes.
func bossScript(_ workers: [(String, String)]) -> String {
    var script = """
        if [ -f "$SWARM_AGENT_DIR/children.json" ]; then
          echo '{"status":"ok","summary":"all children merged"}' > "$SWARM_AGENT_DIR/results.json"; exit 0
        fi
        [ "$SWARM_WAKE" = start ] || exit 0

        """
    for (id, body) in workers {
        script += "cat > \"$TMPDIR/\(id).md\" <<'TASK'\n---\nrole: worker\ntemplate: shell\nid: \(id)\n---\n"
        script +=
            body
            + "\necho '{\"status\":\"ok\",\"summary\":\"\(id) did its part\"}' > \"$SWARM_RESULTS\"\nTASK\n"
        script += "swarm spawn \"$TMPDIR/\(id).md\"\n"
    }
    return script
}

@Suite(
    "Code fan-in through git: worktrees, branches of the hierarchy, the merge queue", .serialized,
    .timeLimit(.minutes(2)))
struct GitFanInTests {
    /// Drops orchestrator `boss` on repository `app` (with `extra` keys) running `workers`.
    func dropBoss(_ ws: TestWorkspace, _ workers: [(String, String)], extra: [(String, String)] = []) throws {
        try ws.write("templates/shell-orchestrator.md", shellOrchestrator)
        try ws.drop(
            "boss.md",
            TestWorkspace.task(
                [("role", "meta"), ("template", "shell-orchestrator"), ("id", "boss"), ("repo", "app")]
                    + extra,
                bossScript(workers)))
    }

    @Test(
        "three workers on different files: one root branch with three merges, the user's checkout untouched")
    func threeWorkers() async throws {
        try await withWorkspace { ws in
            let repo = try WorkspaceRepo(ws)
            let main = try repo.rev("main")
            // w3 commits by itself (confined, that needs the repository's object store and its
            // branch) and tries to write the user's checkout, which confinement forbids; the
            // workspace is under /tmp, so the shell template's `writes: /tmp` goes
            let shell = try #require(ws.text("templates/shell.md"))
            try ws.write("templates/shell.md", shell.replacing("writes: /tmp\n", with: ""))
            let own =
                "git add file3.txt && git -c user.name=a -c user.email=a@a commit -qm 'w3 commits itself'"
            let escape = "echo evil > \"$SWARM_ROOT/app/evil.txt\" 2>/dev/null || true"
            try dropBoss(
                ws,
                (1...2).map { ("w\($0)", "echo 'change \($0)' > file\($0).txt") } + [
                    ("w3", "echo 'change 3' > file3.txt && \(own) && \(escape)")
                ])
            let run = try await ws.runUntilIdle(timeout: 60)
            #expect(run.status == 0, "\(run)")
            let agents = try await ws.agents()
            #expect(agents.count == 4 && agents.allSatisfy { $0.state == "done" }, "\(ws.diagnostics())")
            for n in 1...3 {
                #expect(try repo.show("swarm/boss", "file\(n).txt") == "change \(n)")
                #expect(try repo.merges(of: "w\(n)", on: "swarm/boss") == 1)
                #expect(!ws.exists("app/file\(n).txt"))
                // merged and settled: the worktree is gone, the branch stays
                #expect(!ws.exists("swarm/agents/w\(n)/worktree"))
                #expect(try repo.rev("swarm/w\(n)").count == 40)
            }
            let ownLog = try repo.git.check(["log", "--format=%s", "swarm/w3"], in: repo.path)
            #expect(ownLog.contains("w3 commits itself"))
            if agents.first(where: { $0.id == "w3" })?.confinement?.hasPrefix("landlock") == true {
                #expect(!ws.exists("app/evil.txt"), "a confined agent wrote the user's checkout")
            }
            #expect(try repo.rev("main") == main)
            #expect(try repo.status().isEmpty)
            let children = try #require(ws.text("swarm/agents/boss/children.json"))
            #expect(children.components(separatedBy: "\"status\": \"merged\"").count == 4, "\(children)")
            let boss = try #require(agents.first { $0.id == "boss" })
            #expect(boss.branch == "swarm/boss")
            #expect(boss.head == (try repo.rev("swarm/boss")))

            // the commands on branches: diff, pr (with and without gh), gc
            let diff = try await ws.swarm("diff", "w2")
            #expect(
                diff.status == 0 && diff.stdout.contains("+change 2") && !diff.stdout.contains("file1"),
                "\(diff)")
            let noGh = try await ws.swarm(["--root", ws.root, "pr", "w2"])
            if Processes.locateProgram("gh", environment: SwarmBinary.environment, workingDirectory: nil)
                == nil
            {
                #expect(
                    noGh.status == 1 && noGh.stderr.contains("gh (the GitHub CLI) is not on PATH"), "\(noGh)")
            }
            try ws.write(
                "bin/gh",
                "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/gh-args\"\necho https://pr.invalid/1\n")
            _ = chmod(ws.path("bin/gh"), 0o755)
            let withGh = SwarmBinary.environment.map {
                $0.hasPrefix("PATH=") ? "PATH=\(ws.path("bin")):" + $0.dropFirst(5) : $0
            }
            let pr = try await Run.command(
                SwarmBinary.path, ["--root", ws.root, "pr", "w2"], environment: withGh)
            #expect(pr.status == 0 && pr.stdout.contains("https://pr.invalid/1"), "\(pr)")
            #expect(ws.text("bin/gh-args")?.contains("pr create --head swarm/w2") == true)
            #expect(ws.text("bin/gh-args")?.contains("--base swarm/boss") == true)
            let gc = try await ws.swarm("gc")
            #expect(gc.status == 0 && gc.stdout.contains("deleted merged branch swarm/w1"), "\(gc)")
            #expect(try repo.git.commit("refs/heads/swarm/w1", in: repo.path) == nil)
            #expect(try repo.show("swarm/boss", "file1.txt") == "change 1")
        }
    }

    @Test(
        "two workers on the same line: one merges, the other conflicts, retries on top with the conflict in its brief, merges"
    )
    func conflictRetried() async throws {
        try await withWorkspace { ws in
            let repo = try WorkspaceRepo(ws)
            try dropBoss(
                ws, [("w1", "sed -i '2s/$/ +w1/' shared.txt"), ("w2", "sed -i '2s/$/ +w2/' shared.txt")])
            let run = try await ws.runUntilIdle(timeout: 60)
            #expect(run.status == 0, "\(run)")
            let agents = try await ws.agents()
            #expect(agents.allSatisfy { $0.state == "done" }, "\(ws.diagnostics())")
            let workers = agents.filter { $0.parent == "boss" }.sorted { $0.attempts < $1.attempts }
            try #require(workers.count == 2)
            #expect(workers.map(\.attempts) == [1, 2])
            let (first, second) = (workers[0].id, workers[1].id)
            let brief = try #require(ws.text("swarm/agents/\(second)/task.md"))
            #expect(
                brief.contains("conflicts with swarm/boss in shared.txt (changed there by \(first))"),
                "\(brief)")
            let line = try repo.show("swarm/boss", "shared.txt").split(separator: "\n")[1]
            #expect(line == "two +\(first) +\(second)")
            #expect(try repo.merges(of: first, on: "swarm/boss") == 1)
            #expect(try repo.merges(of: second, on: "swarm/boss") == 1)
            #expect(try repo.status().isEmpty)
        }
    }

    @Test("a failing verify: sends the worker back with the check's log; its fixed attempt merges")
    func verifyFails() async throws {
        try await withWorkspace { ws in
            let repo = try WorkspaceRepo(ws)
            let fix = """
                if [ "$SWARM_ATTEMPT" = 1 ]; then echo bad >> shared.txt; else
                  grep -q 'found a bad line' "$SWARM_AGENT_DIR/task.md" && sed -i '/bad/d' shared.txt && echo good >> shared.txt; fi
                """
            try dropBoss(
                ws, [("w1", fix)],
                extra: [("verify", "! grep -q bad shared.txt || { echo 'found a bad line'; exit 3; }")])
            let run = try await ws.runUntilIdle(timeout: 60)
            #expect(run.status == 0, "\(run)")
            let worker = try #require(try await ws.agent("w1"))
            #expect(worker.state == "done" && worker.attempts == 2, "\(ws.diagnostics())")
            let brief = try #require(ws.text("swarm/agents/w1/task.md"))
            #expect(
                brief.contains("failed (exit status 3) on the merge of swarm/w1 into swarm/boss"), "\(brief)")
            #expect(try repo.show("swarm/boss", "shared.txt") == "one\ntwo\nthree\ngood")
            #expect(try repo.merges(of: "w1", on: "swarm/boss") == 1)
        }
    }

    @Test(
        "a long verify: runs off the daemon's loop: other agents start and end meanwhile, and the landing agent is not silent"
    )
    func longVerifyDoesNotBlock() async throws {
        try await withWorkspace { ws in
            let repo = try WorkspaceRepo(ws)
            let gate = ws.path("gate")
            // the check waits for a file that only another agent, started while it runs, writes;
            // it waits longer than the silence rule gives an agent at this heartbeat (the other
            // agent prints as it goes: it shows life)
            try dropBoss(
                ws, [("w1", "echo 'change 1' > file1.txt")],
                extra: [("verify", "while [ ! -f \(gate) ]; do sleep 0.05; done")])
            var daemon = try await ws.startDaemon(["--heartbeat", "200ms"])
            let verifying = try await eventually(timeout: 30) { ws.exists("swarm/agents/w1/verify") }
            try #require(verifying, "\(ws.diagnostics())")
            try ws.drop(
                "opener.md",
                TestWorkspace.task(
                    [("id", "opener"), ("role", "worker"), ("template", "shell")],
                    "i=0; while [ $i -lt 30 ]; do echo $i; i=$((i+1)); sleep 0.05; done\n"
                        + "touch \(gate); echo '{\"status\":\"ok\"}' > results.json"))
            #expect(try await ws.waitForState("opener", ["done"], timeout: 30), "\(ws.diagnostics())")
            #expect(try await ws.waitForState("w1", ["done"], timeout: 30), "\(ws.diagnostics())")
            let w1 = try #require(try await ws.agent("w1"))
            #expect(w1.attempts == 1, "the landing agent was judged silent: \(ws.diagnostics())")
            #expect(try repo.merges(of: "w1", on: "swarm/boss") == 1)
            #expect(try await ws.alerts("investigate", agent: "w1").isEmpty, "\(ws.diagnostics())")
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == .exited(0))
            daemon = try await ws.startDaemon(["--heartbeat", "200ms"])
            #expect(try await ws.waitForState("boss", ["done"], timeout: 30), "\(ws.diagnostics())")
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == .exited(0))
        }
    }

    @Test("swarm kill of an agent whose result is being verified stops the check; nothing lands")
    func killDuringVerify() async throws {
        try await withWorkspace { ws in
            let repo = try WorkspaceRepo(ws)
            try dropBoss(
                ws, [("w1", "echo 'change 1' > file1.txt")],
                extra: [("verify", "echo checking; exec sleep 601")])
            let daemon = try await ws.startDaemon(["--heartbeat", "200ms"])
            let verifying = try await eventually(timeout: 30) { ws.exists("swarm/agents/w1/verify") }
            try #require(verifying, "\(ws.diagnostics())")
            let before = try repo.rev("swarm/boss")
            #expect(try await ws.swarm("kill", "w1").status == 0)
            #expect(try await ws.waitForState("w1", ["killed"], timeout: 15), "\(ws.diagnostics())")
            #expect(try repo.rev("swarm/boss") == before)
            #expect(try repo.merges(of: "w1", on: "swarm/boss") == 0)
            let checkGone = try await eventually(timeout: 15) {
                !ProcFS.snapshot().contains { entry in
                    let line = try? FileSystem.readFile("/proc/\(entry.pid)/cmdline", limit: 4096)
                    return line.map { String(decoding: $0, as: UTF8.self) } == "sleep\u{0}601\u{0}"
                }
            }
            #expect(checkGone, "the verify command outlived the kill")
            #expect(try await ws.waitForState("boss", ["done"], timeout: 30), "\(ws.diagnostics())")
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == .exited(0))
        }
    }

    @Test("kill -9 of the daemon during the merge queue: every change lands once")
    func killNineDuringMerges() async throws {
        try await withWorkspace { ws in
            let repo = try WorkspaceRepo(ws)
            let count = 8
            // a slow check holds each merge open, so that the kills land inside the queue
            try dropBoss(
                ws, (1...count).map { ("w\($0)", "echo 'change \($0)' > file\($0).txt") },
                extra: [("verify", "sleep 0.2; test -f README")])
            var daemon = try await ws.startDaemon(["--heartbeat", "200ms"])
            for wanted in [2, 5] {
                let reached = try await eventually(timeout: 60, every: 5) {
                    // swarm/boss appears at the orchestrator's start
                    let merged = try? repo.git.check(
                        ["rev-list", "--count", "--merges", "swarm/boss"], in: repo.path)
                    return (merged.flatMap { Int($0) } ?? 0) >= wanted
                }
                try #require(reached, "\(ws.diagnostics())")
                await daemon.crash()
                daemon = try await ws.startDaemon(["--heartbeat", "200ms"])
            }
            let finished = try await eventually(timeout: 60) {
                let agents = try await ws.agents()
                return agents.count == count + 1 && agents.allSatisfy { $0.state == "done" }
            }
            #expect(finished, "\(ws.diagnostics())")
            for n in 1...count {
                #expect(try repo.show("swarm/boss", "file\(n).txt") == "change \(n)")
                #expect(
                    try repo.merges(of: "w\(n)", on: "swarm/boss") == 1,
                    "w\(n) merged more than once or never")
            }
            #expect(try repo.status().isEmpty)
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == .exited(0))
        }
    }

    @Test(
        "a repo: that is not a git repository, or a base: that does not exist, is refused and nothing changes"
    )
    func badRepositories() async throws {
        try await withWorkspace { ws in
            let repo = try WorkspaceRepo(ws)
            try FileSystem.makeDirectory(ws.path("plain"))
            try ws.drop(
                "a.md",
                TestWorkspace.task([("role", "worker"), ("template", "shell"), ("repo", "plain")], "true"))
            try ws.drop(
                "b.md",
                TestWorkspace.task(
                    [("role", "worker"), ("template", "shell"), ("repo", "app"), ("base", "nope")], "true"))
            let run = try await ws.runUntilIdle()
            #expect(run.status == 0, "\(run)")
            #expect(ws.text("swarm/rejected/a.md.error")?.contains("is not a git repository") == true)
            #expect(
                ws.text("swarm/rejected/b.md.error")?.contains("base: nope names no branch or commit") == true
            )
            #expect(try repo.status().isEmpty)
            #expect(try repo.git.check(["branch", "--list", "swarm/*"], in: repo.path).isEmpty)
        }
    }
}
