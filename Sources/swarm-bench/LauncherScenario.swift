import SwarmProtocol
import SwarmSystem

/// The launchers side by side (`--only launchers`; needs a Slurm cluster, e.g. the one of
/// scripts/slurm-up, and SLURM_CONF): for `local`, `slurm` (batch jobs) and `slurm-srun` (job
/// steps), the same tiny tasks through the full protocol, and the time from a task's drop
/// into the inbox to its command's first instruction.
extension Scenarios {
    func launchers() throws -> [Figure] {
        var figures: [Figure] = []
        for kind in LauncherKind.allCases where launcher == nil || launcher == kind {
            let root = try Bench.workspace(
                "launcher-\(kind.rawValue)",
                settings: ["launcher": .string(kind.rawValue), "maxSlots": .integer(Int64(slots + 2))])
            defer { try? FileSystem.removeTree(root) }
            for i in 0..<tasks {
                try FileSystem.writeAtomically(
                    root + "/swarm/inbox/t\(i).md",
                    Array("---\nrole: worker\ntemplate: shell\n---\n\(Self.resultBody)".utf8))
            }
            let cpuBefore = Bench.childCPU()
            let t = Bench.now()
            try Bench.run(
                Bench.swarm, ["run", "--until-idle", "--heartbeat", "10s"], environment: environment(root),
                output: root + "/throughput.log")
            let seconds = Bench.now() - t
            let cpu = Bench.childCPU() - cpuBefore
            figures.append(
                Figure(
                    name: "\(kind.rawValue): \(tasks) tasks", value: seconds, unit: "s", target: "-", met: nil
                ))
            figures.append(
                Figure(
                    name: "\(kind.rawValue): throughput", value: Double(tasks) / seconds, unit: "tasks/s",
                    target: "-", met: nil))
            figures.append(
                Figure(
                    name: "\(kind.rawValue): CPU of the daemon and its commands", value: cpu, unit: "s",
                    target: "-",
                    met: nil))
            figures += try startLatency(kind, root: root)
        }
        return figures
    }

    /// Drop -> first instruction, one task at a time into a running daemon.
    private func startLatency(_ kind: LauncherKind, root: String) throws -> [Figure] {
        let daemon = try Bench.start(
            Bench.swarm, ["run", "--heartbeat", "10s"], environment: environment(root),
            output: root + "/latency.log")
        defer {
            _ = Processes.signal(daemon, Signal.terminate)
            _ = Bench.wait(daemon)
        }
        _ = Bench.waitUntil(5) { FileSystem.exists(root + "/swarm/state.json") }
        var latencies: [Double] = []
        for i in 0..<min(samples, 30) {
            let marker = root + "/mark\(i)"
            let t0 = Bench.wallNanos()
            try Bench.drop(
                root, "l\(i).md",
                "---\nrole: worker\ntemplate: shell\n---\ndate +%s%N > \(marker)\n\(Self.resultBody)")
            if Bench.waitUntil(20, { (FileSystem.status(marker)?.size ?? 0) > 0 }),
                let t1 = Bench.readNumber(marker)
            {
                latencies.append(Double(t1 - t0) / 1e6)
            }
        }
        return [
            Figure(
                name: "\(kind.rawValue): drop -> start p50", value: Bench.percentile(latencies, 0.5),
                unit: "ms",
                target: "-", met: nil),
            Figure(
                name: "\(kind.rawValue): drop -> start p99", value: Bench.percentile(latencies, 0.99),
                unit: "ms",
                target: "-", met: nil),
        ]
    }

    /// The bench's environment (SLURM_CONF included) with the workspace's root.
    private func environment(_ root: String) -> [String] {
        Bench.defaultEnvironment() + ["SWARM_ROOT=" + root]
    }
}
