import SwarmProtocol
import SwarmSystem

/// Slurm's commands, as the Slurm launcher calls them: `sbatch` for batch jobs, the `srun`
/// command line of a job step, `scancel`, `squeue` and `scontrol ping`, and the job scripts.
/// Each call blocks its thread until the command answers: the daemon calls them on lanes off its
/// loop (`SlurmLanes`). The tree must be on storage every node mounts at the same path, and
/// `swarm` must be at the same path on every node (agents call it).
struct SlurmClient: Sendable {
    let workspace: Workspace
    /// The `swarm` binary agents run (`swarm confine` wraps confined commands).
    let swarmExecutable: String
    /// Options added to every `sbatch` and `srun` (swarm.json's `slurm.arguments`).
    var arguments: [String]
    /// The environment `scancel`, `squeue` and `scontrol` run with (PATH, SLURM_CONF); `sbatch`
    /// runs with the agent's.
    let environment: [String]

    /// How long a Slurm command may take before it counts as failed.
    static let commandTimeout: Int64 = 30_000

    /// The shell script a job runs: the command (through `swarm confine` when confined),
    /// then, in a batch job, its exit status into the agent's folder, so that the end is
    /// known even after Slurm forgot the job.
    func script(for spec: LaunchSpec, batch: Bool) -> String {
        var command = "/bin/sh -c " + Shell.quote(spec.command)
        if let rules = spec.rules {
            let options = AccessPlanner.confineOptions(rules).map {
                $0.hasPrefix("--") ? $0 : Shell.quote($0)
            }
            .joined(separator: " ")
            command = Shell.quote(swarmExecutable) + " confine " + options + " -- " + command
        }
        var lines = [
            "#!/bin/sh",
            "# swarm agent \(spec.id): written by the swarm daemon; runs on the node Slurm picked",
        ]
        if batch {
            let status = Shell.quote(spec.files.exitStatus)
            let temporary = Shell.quote(spec.files.exitStatus + ".tmp")
            lines += [
                command,
                "status=$?",
                "printf '%s\\n' \"$status\" > \(temporary) && mv -f \(temporary) \(status)",
                "exit \"$status\"",
            ]
        } else {
            lines += [
                "printf '%s\\n' \"$SLURM_JOB_ID\" > \(Shell.quote(spec.files.slurmJob))",
                "exec " + command,
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The options common to `sbatch` and `srun` for one agent: its name and folder, one
    /// task, its whole environment (whatever a site's defaults say), then swarm.json's
    /// `slurm.arguments`, which may override any of them.
    private func jobOptions(_ spec: LaunchSpec) -> [String] {
        ["--job-name=" + spec.id, "--chdir=" + spec.workingDirectory, "--ntasks=1", "--export=ALL"]
            + arguments
    }

    /// Submits the agent as a batch job; returns its job id. The job's environment is the
    /// agent's (sbatch passes its own on); its output goes to the agent's log files.
    func submit(_ spec: LaunchSpec) throws(SwarmError) -> String {
        try? FileSystem.makeDirectory(spec.files.temporary)
        if let home = spec.privateHome { try? FileSystem.makeDirectory(home) }
        try? FileSystem.remove(spec.files.exitStatus)
        // --no-requeue: a job that lost its node ends, and the template's failure policy (not
        // Slurm) decides whether the agent runs again
        let options =
            [
                "--parsable", "--output=" + spec.files.stdout, "--error=" + spec.files.stderr,
                "--open-mode=append",
                "--no-requeue",
            ]
            + jobOptions(spec)
        let output: CommandOutput
        do {
            output = try CommandRunner.run(
                "sbatch", options, environment: spec.environment,
                input: Array(script(for: spec, batch: true).utf8), timeoutMilliseconds: Self.commandTimeout)
        } catch {
            throw SwarmError(
                "cannot run sbatch for \(spec.id): \(error); install Slurm's client commands (slurm-client) "
                    + "or set \"launcher\": \"local\"")
        }
        let job = output.text.split(separator: "\n").first.map { String($0.prefix { $0 != ";" }) } ?? ""
        guard output.succeeded, !job.isEmpty, job.allSatisfy(\.isNumber) else {
            if output.status == nil {
                throw SwarmError(
                    "sbatch for \(spec.id) got no answer within \(Self.commandTimeout / 1000) s",
                    transient: true)
            }
            let complaint = output.complaint.isEmpty ? "no job id printed" : output.complaint
            throw SwarmError("sbatch refused \(spec.id): \(complaint)", transient: Self.isOutage(complaint))
        }
        return job
    }

    /// True for what Slurm's commands print when the controller cannot be reached or is too
    /// busy to take a request, rather than refusing the request itself.
    static func isOutage(_ complaint: String) -> Bool {
        let signs = [
            "Unable to contact slurm controller", "Socket timed out", "temporarily unable to accept job",
            "Transport endpoint is not connected", "Connection refused", "Zero Bytes were transmitted",
        ]
        return signs.contains { complaint.lowercased().contains($0.lowercased()) }
    }

    /// True when the controller answers `scontrol ping` within a few seconds.
    func controllerAnswers() -> Bool {
        let ping = try? CommandRunner.run(
            "scontrol", ["ping"], environment: environment, timeoutMilliseconds: 5_000)
        return ping.map { $0.succeeded && $0.text.contains("is UP") } ?? false
    }

    /// The command the local launcher runs for a job step: `srun` with the agent's options,
    /// in the foreground, so that its exit status is the command's.
    func srunCommand(_ spec: LaunchSpec) -> String {
        let words =
            ["srun", "--quiet"] + jobOptions(spec) + ["/bin/sh", "-c", script(for: spec, batch: false)]
        return "exec " + words.map(Shell.quote).joined(separator: " ")
    }

    /// Sends `signal` (a name such as `TERM`) to every process of `jobs`, batch scripts
    /// included, or cancels them outright when `signal` is nil (Slurm then sends SIGTERM, and
    /// SIGKILL after its KillWait, to everything the jobs started on their nodes). One `scancel`
    /// for all of them; nil when it cannot be run.
    func cancel(jobs: [String], signal: String?) -> CommandOutput? {
        let options = signal.map { ["--signal=" + $0, "--full"] } ?? []
        return try? CommandRunner.run(
            "scancel", options + jobs, environment: environment, timeoutMilliseconds: Self.commandTimeout)
    }

    /// Ids per `squeue` call: 1,000 job ids make a 10 KB argument.
    static let idsPerQuery = 1_000

    /// The jobs among `ids` that Slurm knows (running, pending, or ended within its
    /// MinJobAge), by id: `squeue --me --jobs=…`, so that the controller sends only this user's
    /// jobs and the daemon reads only its own. Nil when `squeue` cannot be run or fails (then
    /// nothing is concluded from its silence).
    func jobs(_ ids: [String], cancellation: Cancellation? = nil) -> [String: SlurmJob]? {
        query(ids, as: "--jobs=", cancellation: cancellation)
    }

    /// The jobs whose name is one of `names` (agents' ids), by id; nil when `squeue` fails.
    func jobs(named names: [String]) -> [String: SlurmJob]? {
        query(names, as: "--name=", cancellation: nil)
    }

    private func query(_ words: [String], as option: String, cancellation: Cancellation?) -> [String:
        SlurmJob]?
    {
        var jobs: [String: SlurmJob] = [:]
        var start = 0
        while start < words.count {
            let chunk = words[start..<min(words.count, start + Self.idsPerQuery)]
            start += Self.idsPerQuery
            let arguments = [
                "--me", "--noheader", "--states=all", "--Format=" + SlurmJob.queueFormat,
                option + chunk.joined(separator: ","),
            ]
            guard
                let output = try? CommandRunner.run(
                    "squeue", arguments, environment: environment, timeoutMilliseconds: Self.commandTimeout,
                    cancellation: cancellation)
            else { return nil }
            // asked about one id, squeue fails when Slurm does not know it; about several, it
            // leaves the unknown ones out
            if !output.succeeded && !output.complaint.contains("Invalid job id specified") { return nil }
            for job in SlurmJob.parseList(output.text) { jobs[job.id] = job }
        }
        return jobs
    }

    /// The exit status a batch job's script recorded, if it got that far.
    func recordedExit(_ id: String) -> ExitStatus? {
        guard let bytes = try? FileSystem.readFile(workspace.agentFiles(id).exitStatus, limit: 64),
            let code = Int32(String(decoding: bytes, as: UTF8.self).trimmingTrailingNewlines())
        else { return nil }
        return code > 128 && code < 160 ? .signaled(code - 128) : .exited(code)
    }

    /// The job id an srun step wrote into the agent's folder.
    func stepJob(_ id: String) -> String? {
        guard let bytes = try? FileSystem.readFile(workspace.agentFiles(id).slurmJob, limit: 64) else {
            return nil
        }
        let text = String(decoding: bytes, as: UTF8.self).trimmingTrailingNewlines()
        return !text.isEmpty && text.allSatisfy(\.isNumber) ? text : nil
    }
}

/// Quoting for /bin/sh.
enum Shell {
    /// `word` as one word for /bin/sh: single-quoted, each `'` written as `'\''`.
    static func quote(_ word: String) -> String {
        var quoted = "'"
        for character in word {
            if character == "'" { quoted += "'\\''" } else { quoted.append(character) }
        }
        return quoted + "'"
    }
}
