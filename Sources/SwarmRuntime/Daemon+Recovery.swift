import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Coming back after a crash, a kill -9 or a clean stop: the tree is the state.
extension Daemon {
    /// Rebuilds the scheduler from the meta.json files, adopts agents that still run, notices
    /// those that ended while no daemon watched, and finishes half-done intake.
    func recover() {
        let (loaded, unreadable) = MetaStore.loadAll(workspace)
        var records = loaded
        var endedWhileDown: [(id: String, status: ExitStatus?, problem: String?)] = []
        var adopted: [(String, Int32?)] = []
        var adoptedJobs: [(String, String)] = []
        for index in records.indices where startedWhileQueued(records[index]) {
            markFirstRunStarted(&records[index])
        }
        let known = records.contains { $0.active && runsAsBatchJob($0) } ? slurm.jobs() : nil
        for index in records.indices where records[index].active {
            let id = records[index].id
            if runsAsBatchJob(records[index]), let job = recoveredJob(records[index], known: known) {
                records[index].job = job
                switch known?[job]?.phase {
                case .ended(let problem)?:
                    let info = known![job]!
                    let status = slurm.recordedExit(id) ?? (info.signal != 0 ? .signaled(info.signal) : .exited(info.exitCode))
                    endedWhileDown.append((id, status, problem.map { "Slurm job \(job) \($0)" }))
                case nil where known != nil:
                    let recorded = slurm.recordedExit(id)
                    let problem = recorded == nil ? "Slurm job \(job) is no longer known to Slurm and left no exit status" : nil
                    endedWhileDown.append((id, recorded, problem))
                default:
                    adoptedJobs.append((id, job))
                }
            } else if launcher.isRunning(id) {
                // a first run's pid reaches meta.json a moment after its start; a crash in
                // between leaves it out, and the process itself tells it
                if records[index].pid == nil, !runsAsBatchJob(records[index]), let pid = launcher.leader(of: id) {
                    records[index].pid = pid
                    dirtyMeta.insert(id)
                }
                adopted.append((id, records[index].pid))
            } else if neverStarted(records[index]) {
                log.info("\(id) was about to start when the daemon stopped; it starts again (same attempt)")
                records[index].active = false
                records[index].state = records[index].runs > 1 && records[index].kind == .orchestrator ? .running : .queued
                if records[index].state == .queued { records[index].attempts = max(0, records[index].attempts - 1) }
                records[index].runs = max(0, records[index].runs - 1)
            } else {
                endedWhileDown.append((id, nil, nil))
            }
        }
        scheduler = Scheduler(limits: scheduler.limits, records: records)
        records.removeAll()
        for (id, pid) in adopted {
            watchAgent(id)
            if let record = scheduler.agents[id], launcherKind(of: record) == .slurmSrun { srunAgents.insert(id) }
            if let pid, Processes.isAlive(pid) {
                watchProcess(id: id, pid: pid, ownChild: false)
            }
            log.info("adopted \(id), still running (pid \(pid.map(String.init) ?? "unknown"))")
        }
        for (id, job) in adoptedJobs {
            watchAgent(id)
            slurmJobs[id] = job
            if case .held? = known?[job]?.phase { heldJobs.insert(id) }
            pollForSlurm()
            log.info("adopted \(id), still a Slurm job (\(job))")
        }
        for ended in endedWhileDown {
            log.info("\(ended.id) ended while no daemon watched; reading what it left")
            finishRun(ended.id, status: ended.status, launcherProblem: ended.problem)
        }
        for record in scheduler.agents.values where !record.state.isSettled {
            watchAgent(record.id)
        }
        for name in unreadable { finishMaterializing(name) }
        for leftover in claimedLeftovers() {
            log.info("finishing the intake of \(leftover.name), claimed before a restart")
            process(claimedPath: leftover.path, fileName: leftover.name, parent: leftover.parent)
        }
        for record in scheduler.agents.values.sorted(by: { $0.sequence < $1.sequence })
        where record.kind == .orchestrator && record.state == .running && !record.active {
            feed(.tick)
            break
        }
        if !loaded.isEmpty {
            log.info("recovered \(loaded.count) agent(s) from the tree: \(adopted.count) adopted, "
                + "\(endedWhileDown.count) ended while down")
        }
        feed(.tick)
    }

    /// The launcher `record`'s template names now (swarm.json's when it cannot be read).
    func launcherKind(of record: AgentRecord) -> LauncherKind {
        guard let template = try? intake.catalog.template(record.template) else { return launcherOverride ?? config.launcher }
        return launcherKind(for: template)
    }

    /// True when `record`'s current run is (or was about to be) a Slurm batch job.
    private func runsAsBatchJob(_ record: AgentRecord) -> Bool {
        record.job != nil || record.pid == nil && launcherKind(of: record) == .slurm
    }

    /// True for a record that never ran (queued, no run counted) whose folder holds a
    /// stdout.log: only the spawn of its first run creates that file, so the run started
    /// after the queued record was written and before its start was.
    private func startedWhileQueued(_ record: AgentRecord) -> Bool {
        !record.active && record.state == .queued && record.runs == 0
            && FileSystem.exists(workspace.agentFiles(record.id).stdout)
    }

    /// Turns a queued record into the one its first run's start would have written: running,
    /// active, one attempt and one run, started when stdout.log was created.
    private func markFirstRunStarted(_ record: inout AgentRecord) {
        let created = FileSystem.status(workspace.agentFiles(record.id).stdout).map { $0.modifiedNanos / 1_000_000 }
        record.active = true
        record.state = .running
        record.attempts += 1
        record.runs = 1
        record.startedAt = created ?? now
        record.notBefore = nil
        record.stopping = nil
        record.pendingWakes = []
        log.info("\(record.id) had started its first run when the daemon stopped")
    }

    /// True when a run was recorded as starting but left no trace: no pid was recorded, no
    /// result exists and stdout.log (created by the spawn itself) is missing or clearly older
    /// than the start. Such a run is started again without counting a new attempt.
    private func neverStarted(_ record: AgentRecord) -> Bool {
        guard record.pid == nil, let started = record.startedAt else { return false }
        let files = workspace.agentFiles(record.id)
        if FileSystem.exists(files.results) || FileSystem.exists(files.progress) && record.attempts <= 1 { return false }
        guard let output = FileSystem.status(files.stdout) else { return true }
        // File times come from the kernel's coarse clock: only a clearly older stdout.log (an
        // earlier attempt's) proves that this run never opened it.
        return output.modifiedNanos / 1_000_000 < started - 50
    }

    /// An agent folder without a readable meta.json: intake crashed after moving the task in.
    /// The task goes back to the claimed folder and through intake again; anything else is
    /// left alone for a person to look at.
    private func finishMaterializing(_ id: String) {
        let files = workspace.agentFiles(id)
        let entries = (try? FileSystem.entries(of: files.directory)) ?? []
        guard let source = entries.first(where: { $0.name.hasPrefix("source.") }),
            !FileSystem.exists(files.meta)
        else {
            if FileSystem.exists(files.meta) {
                log.warning("agents/\(id)/meta.json cannot be read; that agent is left alone")
            }
            return
        }
        let claimedFolder = workspace.claimedDirectory(parent: nil)
        try? FileSystem.makeDirectory(claimedFolder)
        let name = id + (source.name.hasSuffix(".json") ? ".json" : ".md")
        do {
            try FileSystem.rename(files.directory + "/" + source.name, to: claimedFolder + "/" + name, replace: false)
            log.info("intake of \(id) was cut short; taking it in again")
        } catch {
            log.warning("cannot take agents/\(id)/\(source.name) in again: \(error)")
        }
    }
}
