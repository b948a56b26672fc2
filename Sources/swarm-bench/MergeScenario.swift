import SwarmProtocol
import SwarmSystem

/// Code fan-in: what a worktree and a merge add per agent (an orchestrator with `workers`
/// workers on a 200-file repository, each changing its own file, against the same run without
/// `repo:`), what landing one result takes, and how fast the daemon starts another agent while
/// a slow `verify:` runs (the landing is off its loop).
extension Scenarios {
    func merges() throws -> [Figure] {
        let workers = max(4, min(tasks / 50, 20))
        let plain = try fanInRun(workers: workers, repository: false)
        let onRepo = try fanInRun(workers: workers, repository: true)
        let added = (onRepo.seconds - plain.seconds) / Double(workers) * 1000
        let landing =
            onRepo.landings.isEmpty ? 0 : onRepo.landings.reduce(0, +) / Double(onRepo.landings.count)
        let duringVerify = try startsDuringVerify()
        return [
            Figure(
                name: "merges: run of \(workers) workers on a repository (4 slots)", value: onRepo.seconds,
                unit: "s", target: "-", met: nil),
            Figure(
                name: "merges: the same without repo:", value: plain.seconds, unit: "s", target: "-", met: nil
            ),
            Figure(
                name: "merges: time a worktree and a merge add per agent", value: added, unit: "ms",
                target: "< 250", met: added < 250),
            Figure(
                name: "merges: landing one result (commit, merge-tree, commit-tree, update-ref), mean",
                value: landing, unit: "ms", target: "< 150", met: landing < 150),
            Figure(
                name: "merges: drop -> start while a 3 s verify: runs, p99",
                value: Bench.percentile(duringVerify, 0.99), unit: "ms", target: "< 50",
                met: Bench.percentile(duringVerify, 0.99) < 50),
        ]
    }

    /// An orchestrator template whose task text is its script.
    private static let orchestrator = """
        ---
        kind: orchestrator
        slots: 4
        command: /bin/sh "$SWARM_AGENT_DIR/task.md"
        ---
        {{task}}

        """

    /// The script of an orchestrator that spawns `workers` shell workers, each writing its
    /// own file, and finishes once they all settled.
    private static func bossScript(workers: Int) -> String {
        var script = """
            if [ -f "$SWARM_AGENT_DIR/children.json" ]; then swarm result --json '{"summary":"all in"}'; exit 0; fi
            [ "$SWARM_WAKE" = start ] || exit 0

            """
        for n in 1...workers {
            script += "printf -- '---\\nrole: worker\\ntemplate: shell\\nid: w\(n)\\n---\\n"
            script +=
                "echo change > file\(n).txt\\necho {\\\\\"status\\\\\":\\\\\"ok\\\\\"} > \"$SWARM_RESULTS\"\\n'"
            script += " > \"$TMPDIR/w\(n).md\" && swarm spawn \"$TMPDIR/w\(n).md\"\n"
        }
        return script
    }

    /// A repository of 200 files under `root`.
    private func makeRepository(_ root: String) throws -> String {
        let repo = root + "/app"
        try FileSystem.makeDirectory(repo)
        let git = Git(environment: Bench.defaultEnvironment())
        try git.check(["init", "-q", "-b", "main"], in: repo)
        for n in 0..<200 {
            try FileSystem.writeAtomically(repo + "/src\(n).txt", Array("line \(n)\n".utf8))
        }
        try git.check(["add", "-A"], in: repo)
        try git.check(["commit", "-q", "-m", "base"], in: repo, identity: "bench")
        return repo
    }

    /// One run of the orchestrator to its end: seconds, and each landing's time from the log.
    private func fanInRun(workers: Int, repository: Bool) throws -> (seconds: Double, landings: [Double]) {
        let root = try Bench.workspace(repository ? "merges-repo" : "merges-plain")
        defer { try? FileSystem.removeTree(root) }
        try FileSystem.writeAtomically(root + "/templates/bench-boss.md", Array(Self.orchestrator.utf8))
        var keys = "---\nid: boss\nrole: meta\ntemplate: bench-boss\n"
        if repository {
            _ = try makeRepository(root)
            keys += "repo: app\n"
        }
        try Bench.drop(root, "boss.md", keys + "---\n" + Self.bossScript(workers: workers))
        let log = root + "/daemon.log"
        let started = Bench.now()
        try Bench.run(
            Bench.swarm, ["run", "--until-idle", "--heartbeat", "10s"], environment: env(root), output: log)
        let seconds = Bench.now() - started
        let text =
            (try? FileSystem.readFile(log, limit: 16 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let landings = text.split(separator: "\n").compactMap { line -> Double? in
            guard let range = line.firstRange(of: ": merged in ") else { return nil }
            return Double(String(line[range.upperBound...].split(separator: " ").first ?? ""))
        }
        if repository && landings.count < workers {
            throw BenchError("only \(landings.count) of \(workers) workers merged; see \(log)")
        }
        return (seconds, landings)
    }

    /// Drop -> first instruction of plain agents while one result's `verify:` takes 3 s.
    private func startsDuringVerify() throws -> [Double] {
        let root = try Bench.workspace("merges-verify")
        defer { try? FileSystem.removeTree(root) }
        try FileSystem.writeAtomically(root + "/templates/bench-boss.md", Array(Self.orchestrator.utf8))
        _ = try makeRepository(root)
        let daemon = try Bench.start(
            Bench.swarm, ["run", "--heartbeat", "10s"], environment: env(root), output: root + "/daemon.log")
        defer {
            _ = Processes.signal(daemon, Signal.terminate)
            _ = Bench.wait(daemon)
        }
        try Bench.drop(
            root, "boss.md",
            "---\nid: boss\nrole: meta\ntemplate: bench-boss\nrepo: app\nverify: sleep 3\n---\n"
                + Self.bossScript(workers: 1))
        guard Bench.waitUntil(30, { FileSystem.exists(root + "/swarm/agents/w1/verify") }) else {
            throw BenchError("the verify: of w1 never started; see \(root)/daemon.log")
        }
        var starts: [Double] = []
        for i in 0..<10 {
            let marker = root + "/mark\(i)"
            let t0 = Bench.wallNanos()
            try Bench.drop(
                root, "l\(i).md",
                "---\nrole: worker\ntemplate: shell\n---\ndate +%s%N > \(marker)\n\(Self.resultBody)")
            if Bench.waitUntil(10, { (FileSystem.status(marker)?.size ?? 0) > 0 }),
                let t1 = Bench.readNumber(marker)
            {
                starts.append(Double(t1 - t0) / 1e6)
            }
            Clock.sleep(milliseconds: 20)
        }
        guard FileSystem.exists(root + "/swarm/agents/w1/verify"), starts.count == 10 else {
            throw BenchError("the samples did not all fall inside the verify: run; see \(root)/daemon.log")
        }
        return starts
    }
}
