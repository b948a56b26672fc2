import SwarmProtocol
import SwarmSystem

/// A local agent's reactions while Slurm's controller is slow (`--only slow-slurm`; needs a
/// Slurm cluster, e.g. the one of scripts/slurm-up, and SLURM_CONF): `sbatch`, `scancel`,
/// `scontrol` and `squeue` are wrappers that wait `delay` before running the real command,
/// Slurm jobs are submitted, polled and cancelled throughout, and local agents are measured
/// from drop to first instruction and from question.md to its alert.
extension Scenarios {
    /// How long each of Slurm's commands waits before it runs.
    static let slowSlurmDelay = 2

    func slowSlurm() throws -> [Figure] {
        let root = try Bench.workspace("slow-slurm", settings: ["maxSlots": .integer(Int64(slots + 200))])
        defer { try? FileSystem.removeTree(root) }
        let wrappers = root + "/slow-slurm-bin"
        try Self.slowSlurmWrappers(wrappers, delay: Self.slowSlurmDelay)
        try FileSystem.writeAtomically(
            root + "/templates/cluster.md",
            Array(
                "---\nkind: worker\nlauncher: slurm\ncommand: sleep 4; \(Self.resultBody)---\n{{task}}\n".utf8
            ))
        try FileSystem.writeAtomically(
            root + "/templates/cluster-sleeper.md",
            Array("---\nkind: worker\nlauncher: slurm\ncommand: sleep 300\n---\n{{task}}\n".utf8))
        let environment = env(root).map {
            $0.hasPrefix("PATH=") ? "PATH=" + wrappers + ":" + $0.dropFirst(5) : $0
        }
        let daemon = try Bench.start(
            Bench.swarm, ["run", "--heartbeat", "1s"], environment: environment, output: root + "/daemon.log")
        defer {
            _ = Processes.signal(daemon, Signal.terminate)
            _ = Bench.wait(daemon)
            Self.cancelJobs(of: root)
        }
        guard Bench.waitUntil(30, { FileSystem.exists(root + "/swarm/state.json") }) else {
            throw BenchError("the daemon did not come up; see \(root)/daemon.log")
        }
        var cluster = 0
        func dropClusterTasks(_ count: Int, template: String = "cluster") throws {
            for _ in 0..<count {
                try Bench.drop(
                    root, "c\(cluster).md",
                    "---\nid: c\(cluster)\nrole: worker\ntemplate: \(template)\n---\nWork.\n")
                cluster += 1
            }
        }
        try dropClusterTasks(12)
        try dropClusterTasks(4, template: "cluster-sleeper")
        let rounds = min(samples, 60)
        var start: [Double] = []
        for i in 0..<rounds {
            if i % 5 == 0 { try dropClusterTasks(2) }
            if i % 10 == 5 && i / 10 < 4 {
                // a kill the daemon cannot take yet (the task still in the inbox) is no failure here
                _ = Bench.wait(
                    try Bench.start(
                        Bench.swarm, ["kill", "c\(12 + i / 10)"], environment: env(root), output: "/dev/null")
                )
            }
            let marker = root + "/mark\(i)"
            let t0 = Bench.wallNanos()
            try Bench.drop(
                root, "l\(i).md",
                "---\nrole: worker\ntemplate: shell\n---\ndate +%s%N > \(marker)\n\(Self.resultBody)")
            if Bench.waitUntil(30, { (FileSystem.status(marker)?.size ?? 0) > 0 }),
                let t1 = Bench.readNumber(marker)
            {
                start.append(Double(t1 - t0) / 1e6)
            }
            Clock.sleep(milliseconds: 250)
        }
        var ask: [Double] = []
        for i in 0..<rounds {
            if i % 5 == 0 { try dropClusterTasks(2) }
            let id = "q\(i)"
            let asked = root + "/swarm/agents/\(id)/asked"
            try Bench.drop(
                root, "\(id).md",
                "---\nid: \(id)\nrole: worker\ntemplate: shell\n---\ndate +%s%N > asked; swarm ask 'which one?'\n\(Self.resultBody)"
            )
            _ = Bench.waitUntil(30) { (FileSystem.status(asked)?.size ?? 0) > 0 }
            let seen = Bench.waitUntil(30) {
                let text =
                    (try? FileSystem.readFile(root + "/swarm/alerts.jsonl", limit: 8 << 20)).map {
                        String(decoding: $0, as: UTF8.self)
                    } ?? ""
                return text.contains("\"waiting-for-human\",\"agent\":\"\(id)\"")
            }
            if seen, let t0 = Bench.readNumber(asked) {
                ask.append(Double(Bench.wallNanos() - t0) / 1e6)
            }
            Clock.sleep(milliseconds: 250)
        }
        let submitted = Self.clusterJobs(root)
        let startP99 = Bench.percentile(start, 0.99)
        let askP99 = Bench.percentile(ask, 0.99)
        let label = "slow Slurm (\(Self.slowSlurmDelay) s a command)"
        return [
            Figure(
                name: "\(label): local drop -> start p50", value: Bench.percentile(start, 0.5), unit: "ms",
                target: "-", met: nil),
            Figure(
                name: "\(label): local drop -> start p99", value: startP99, unit: "ms", target: "< 50",
                met: startP99 < 50),
            Figure(
                name: "\(label): local question.md -> alert p50", value: Bench.percentile(ask, 0.5),
                unit: "ms", target: "-", met: nil),
            Figure(
                name: "\(label): local question.md -> alert p99", value: askP99, unit: "ms", target: "< 50",
                met: askP99 < 50),
            Figure(
                name: "\(label): Slurm jobs submitted meanwhile", value: Double(submitted),
                unit: "of \(cluster)", target: "-", met: nil),
        ]
    }

    /// A folder of `sbatch`, `scancel`, `scontrol` and `squeue` that each wait `delay`
    /// seconds, then run the real command found on PATH: put it first on a daemon's PATH for
    /// a slow controller.
    static func slowSlurmWrappers(_ folder: String, delay: Int) throws {
        try FileSystem.makeDirectory(folder)
        for command in ["sbatch", "scancel", "scontrol", "squeue"] {
            guard
                let real = Processes.locateProgram(
                    command, environment: Bench.defaultEnvironment(), workingDirectory: nil)
            else {
                throw BenchError("\(command) is not on PATH; this scenario needs Slurm's client commands")
            }
            try FileSystem.writeAtomically(
                folder + "/" + command, Array("#!/bin/sh\nsleep \(delay)\nexec \(real) \"$@\"\n".utf8))
            try Bench.run("/bin/chmod", ["755", folder + "/" + command])
        }
    }

    /// How many of the cluster agents (`c*`) of the tree at `root` got a Slurm job: those that
    /// have one, and those that ended (done, or killed after their submission).
    static func clusterJobs(_ root: String) -> Int {
        guard let bytes = try? FileSystem.readFile(root + "/swarm/state.json", limit: 64 << 20),
            let agents = (try? JSON.parse(bytes))?.objectValue?["agents"]?.arrayValue
        else { return 0 }
        return agents.filter { agent in
            guard let object = agent.objectValue, case .string(let id)? = object["id"] else { return false }
            let ended = ["done", "killed", "failed"].contains(object["state"]?.stringValue ?? "")
            return id.hasPrefix("c") && (object["job"]?.stringValue != nil || ended)
        }.count
    }

    /// Cancels the jobs still alive whose output goes into the tree at `root`.
    static func cancelJobs(of root: String) {
        guard let agents = try? FileSystem.entries(of: root + "/swarm/agents") else { return }
        let names = agents.map(\.name).filter { $0.hasPrefix("c") }
        guard !names.isEmpty else { return }
        _ = try? CommandRunner.run(
            "scancel", ["--name=" + names.joined(separator: ",")], environment: Bench.defaultEnvironment())
    }
}
