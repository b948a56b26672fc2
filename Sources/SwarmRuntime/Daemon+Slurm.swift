import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Agents as Slurm jobs: which launcher an agent uses, learning how batch jobs stand, and
/// stopping them. See docs/SCALING.md.
extension Daemon {
    /// The poll interval used with a Slurm launcher when `--poll` does not set one.
    static let slurmPoll: Millis = 1_000

    /// The launcher for agents of `template`: the template's `launcher:`, else
    /// SWARM_LAUNCHER of the daemon's environment, else swarm.json's `launcher`.
    func launcherKind(for template: Template) -> LauncherKind {
        template.launcher ?? launcherOverride ?? config.launcher
    }

    /// True when agents without a `launcher:` of their own run through Slurm.
    var slurmByDefault: Bool { (launcherOverride ?? config.launcher).isSlurm }

    /// With a Slurm launcher, agents write from other machines, which inotify never sees:
    /// from the first Slurm agent on, the daemon also polls the tree.
    func pollForSlurm() {
        guard pollInterval == nil else { return }
        pollInterval = Self.slurmPoll
        nextPoll = now + Self.slurmPoll
        log.info(
            "Slurm launcher: inotify sees nothing written on other nodes, so the tree is also polled every "
                + "\(DurationText.format(Self.slurmPoll)) (set it with --poll)")
    }

    /// At the start of a daemon whose agents run through Slurm: refuses to run without Slurm's
    /// commands (no agent could start), and warns when the controller does not answer.
    func checkSlurm() throws(SwarmError) {
        let kind = (launcherOverride ?? config.launcher).rawValue
        let missing = ["sbatch", "srun", "scancel", "scontrol"].filter {
            Processes.locateProgram($0, environment: slurm.environment, workingDirectory: nil) == nil
        }
        if !missing.isEmpty {
            throw SwarmError(
                "the launcher is \(kind), but \(missing.joined(separator: ", ")) cannot be found on PATH; "
                    + "install Slurm's client commands (Debian: slurm-client), or set \"launcher\": \"local\"")
        }
        let ping = try? CommandRunner.run(
            "scontrol", ["ping"], environment: slurm.environment, timeoutMilliseconds: 5_000)
        if let ping, ping.succeeded {
            log.info("launcher: \(kind); agents run as Slurm jobs (\(ping.text.trimmingTrailingNewlines()))")
        } else {
            log.warning(
                "launcher: \(kind), but `scontrol ping` failed (\(ping?.complaint ?? "no answer")); "
                    + "agents are submitted anyway and fail with sbatch's message while Slurm is unreachable")
        }
    }

    /// The launcher that starts runs of `kind`.
    func launcher(for kind: LauncherKind) -> any AgentLauncher {
        switch kind {
        case .local: launcher
        case .slurm: SlurmBatchLauncher(slurm: slurm, local: launcher)
        case .slurmSrun: SlurmStepLauncher(local: launcher, slurm: slurm)
        }
    }

    /// The first wait after Slurm's controller stopped answering, and the longest.
    static let outageWait: Millis = 5_000
    static let outageWaitCap: Millis = 300_000

    /// Slurm's controller did not take a submission: batch starts wait (without spending an
    /// attempt) for a while that doubles at each failure in a row, with one alert per outage.
    func slurmUnavailable(_ id: String, reason: String) -> Event {
        let delay = min(max(Self.outageWait, (slurmOutage?.delay ?? 0) * 2), Self.outageWaitCap)
        let until = now + delay
        if slurmOutage == nil {
            raise(
                "slurm-unavailable",
                "Slurm's controller does not answer (\(reason)); batch jobs wait in the queue without "
                    + "spending attempts and are tried again from \(Timestamp.iso8601(milliseconds: until))")
        }
        slurmOutage = (until, delay)
        return .startDeferred(id: id, until: until, reason: reason)
    }

    /// During an outage: the deferral for a batch start, or nil to try `sbatch` (the wait is
    /// over and the controller answers `scontrol ping`, which, unlike `sbatch`, fails at once).
    func waitWhileSlurmIsDown(_ id: String) -> Event? {
        guard let outage = slurmOutage else { return nil }
        if now < outage.until {
            return .startDeferred(
                id: id, until: outage.until,
                reason: "Slurm's controller does not answer; next try at \(Timestamp.iso8601(milliseconds: outage.until))")
        }
        if slurm.controllerAnswers() { return nil }
        return slurmUnavailable(id, reason: "`scontrol ping` says the controller is down")
    }

    /// An srun step that failed before Slurm gave it a node (it never wrote `slurm-job`)
    /// because the controller did not answer: srun's complaint, else nil. Nothing of the
    /// agent ran, so this is an outage, not a failed attempt.
    func stepNeverAllocated(_ id: String, status: ExitStatus?) -> String? {
        let files = workspace.agentFiles(id)
        guard srunAgents.contains(id), status != .exited(0), !FileSystem.exists(files.slurmJob),
            let tail = try? FileSystem.readTail(files.stderr, maxBytes: 4_096)
        else { return nil }
        let complaint = String(decoding: tail, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        return SlurmLauncher.isOutage(complaint) ? complaint : nil
    }

    /// A submission went through (a batch job was taken, an srun step got its node): an
    /// outage is over.
    func slurmAnswers() {
        guard slurmOutage != nil else { return }
        slurmOutage = nil
        raise("slurm-recovered", "Slurm's controller answers again")
    }

    /// Looks up every watched batch job with one `scontrol` call: notes which Slurm holds
    /// back, and finishes the runs of those that ended (or that Slurm forgot).
    func lookAtJobs() {
        guard !slurmJobs.isEmpty else { return }
        for (id, job) in slurmJobs where FileSystem.exists(workspace.agentFiles(id).exitStatus) {
            endJob(id, job: job, status: slurm.recordedExit(id), problem: nil)
        }
        guard !slurmJobs.isEmpty, let known = slurm.jobs() else { return }
        for (id, job) in slurmJobs.sorted(by: { $0.key < $1.key }) {
            guard let info = known[job] else {
                let recorded = slurm.recordedExit(id)
                endJob(
                    id, job: job, status: recorded,
                    problem: recorded == nil ? "is no longer known to Slurm and left no exit status" : nil)
                continue
            }
            switch info.phase {
            case .held:
                heldJobs.insert(id)
                reportJobState(id, "\(info.state) (\(info.reason))")
            case .running:
                heldJobs.remove(id)
                reportJobState(id, "\(info.state) on \(info.nodes)")
            case .ended(let problem):
                let status: ExitStatus =
                    slurm.recordedExit(id) ?? (info.signal != 0 ? .signaled(info.signal) : .exited(info.exitCode))
                endJob(id, job: job, status: status, problem: problem)
            }
        }
    }

    /// Tells the scheduler (and so meta.json and `swarm status`) what Slurm says of a job,
    /// when that changed.
    private func reportJobState(_ id: String, _ state: String) {
        guard scheduler.agents[id]?.jobState != state else { return }
        log.debug("\(id): Slurm job \(slurmJobs[id] ?? "?") \(state)")
        feed(.jobState(id: id, state: state))
    }

    /// Batch job `job` of agent `id` ended: stop watching it and finish the run. Nothing
    /// happens when the agent has moved on to another job (a retry started meanwhile).
    func endJob(_ id: String, job: String, status: ExitStatus?, problem: String?) {
        guard slurmJobs[id] == job else { return }
        slurmJobs[id] = nil
        heldJobs.remove(id)
        log.debug("\(id): Slurm job \(job) ended (\(status.map { "\($0)" } ?? "status unknown"))")
        finishRun(id, status: status, launcherProblem: problem.map { "Slurm job \(job) \($0)" })
    }

    /// Whether the launcher holds `record`'s command back: a batch job Slurm has not started
    /// (or suspended), or an srun step that has not written its job id yet.
    func isHeld(_ record: AgentRecord) -> Bool {
        if slurmJobs[record.id] != nil { return heldJobs.contains(record.id) }
        guard srunAgents.contains(record.id) else { return false }
        return !FileSystem.exists(workspace.agentFiles(record.id).slurmJob)
    }

    /// The job a recovered batch run belongs to: the one it recorded, or (when the daemon
    /// stopped between `sbatch` and writing meta.json) a job with the agent's name and log.
    func recoveredJob(_ record: AgentRecord, known: [String: SlurmJob]?) -> String? {
        if let job = record.job { return job }
        guard record.pid == nil, let known else { return nil }
        let stdout = workspace.agentFiles(record.id).stdout
        return known.values.filter { job in
            guard job.name == record.id, job.stdout == stdout else { return false }
            if case .ended = job.phase { return false }
            return true
        }
            .max { (Int($0.id) ?? 0) < (Int($1.id) ?? 0) }?.id
    }
}
