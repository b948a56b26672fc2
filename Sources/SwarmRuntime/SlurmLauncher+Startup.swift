import SwarmCore
import SwarmProtocol
import SwarmSystem

/// The Slurm launcher at a daemon's start: whether Slurm's commands are there, and what Slurm
/// knows of the batch runs the records name.
extension SlurmLauncher {
    /// At the start of a daemon whose agents run through Slurm (`kind`): refuses to run
    /// without Slurm's commands (no agent could start); returns what to log, and whether it is
    /// a warning (the controller does not answer).
    func check(kind: LauncherKind) throws(SwarmError) -> (message: String, warning: Bool) {
        let missing = ["sbatch", "srun", "scancel", "scontrol", "squeue"].filter {
            Processes.locateProgram($0, environment: client.environment, workingDirectory: nil) == nil
        }
        if !missing.isEmpty {
            throw SwarmError(
                "the launcher is \(kind.rawValue), but \(missing.joined(separator: ", ")) cannot be found on PATH; "
                    + "install Slurm's client commands (Debian: slurm-client), or set \"launcher\": \"local\""
            )
        }
        let ping = try? CommandRunner.run(
            "scontrol", ["ping"], environment: client.environment, timeoutMilliseconds: 5_000)
        if let ping, ping.succeeded {
            return (
                "launcher: \(kind.rawValue); agents run as Slurm jobs (\(ping.text.trimmingTrailingNewlines()))",
                false
            )
        }
        return (
            "launcher: \(kind.rawValue), but `scontrol ping` failed (\(ping?.complaint ?? "no answer")); "
                + "agents are submitted anyway and fail with sbatch's message while Slurm is unreachable",
            true
        )
    }

    /// What Slurm knows of the batch runs of `records` (active runs as batch jobs), for
    /// recovery: the jobs they recorded, by id, and, for records that name none (the daemon
    /// stopped between `sbatch` and meta.json), the jobs with their names, once every `sbatch`
    /// a previous daemon left running has ended. Only this user's jobs, and only these, are
    /// asked for. `jobs` is nil when Slurm cannot be asked; `leftovers` counts the `sbatch`
    /// commands waited for.
    func knownJobs(for records: [AgentRecord]) -> (jobs: [String: SlurmJob]?, leftovers: Int) {
        var known: [String: SlurmJob] = [:]
        let jobs = records.compactMap(\.job)
        if !jobs.isEmpty {
            guard let found = client.jobs(jobs) else { return (nil, 0) }
            known.merge(found) { $1 }
        }
        let unnamed = records.filter { $0.job == nil && $0.pid == nil }.map(\.id)
        var leftovers = 0
        if !unnamed.isEmpty {
            leftovers = awaitLeftoverSubmissions(of: unnamed)
            guard let found = client.jobs(named: unnamed) else { return (nil, leftovers) }
            known.merge(found) { $1 }
        }
        return (known, leftovers)
    }

    /// Waits (at most one command timeout) for the `sbatch` commands of agents `ids` that a
    /// previous daemon of this tree started and did not see end: they run on in sessions of
    /// their own, and a job one of them submits after the look by name would run the agent
    /// twice. Found by the agent's job name among their arguments and the tree in their
    /// environment. Returns how many there were.
    func awaitLeftoverSubmissions(of ids: [String]) -> Int {
        let names = Set(ids.map { "--job-name=" + $0 })
        let tree = "SWARM_ROOT=" + client.workspace.root
        let pids = ProcFS.snapshot().map(\.pid).filter { pid in
            guard pid != Processes.currentID, let arguments = ProcFS.arguments(of: pid),
                arguments.contains(where: names.contains)
            else { return false }
            return ProcFS.environment(of: pid)?.contains(tree) == true
        }
        guard !pids.isEmpty else { return 0 }
        _ = Processes.awaitExit(pids, timeoutMilliseconds: SlurmClient.commandTimeout)
        return pids.count
    }
}
