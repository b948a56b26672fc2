import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Coming back after a crash, a kill -9 or a clean stop: the tree is the state.
extension Daemon {
    /// Rebuilds the scheduler from the meta.json files (and the folders of agents that wait
    /// without one), adopts agents that still run, notices
    /// those that ended while no daemon watched, and finishes half-done intake. What each
    /// record means is the inverse of the crash contract (`RecordWriter`, `RecordWriter.judge`;
    /// `SlurmLauncher.recover` for batch jobs); the hierarchy is derived from the children's
    /// records and every fan-in written again from it (`.recovered`).
    func recover() {
        let (recorded, folders) = MetaStore.loadAll(workspace)
        // agents waiting for their first run keep no record on disk (rule 1): made again here
        let (waiting, unreadable) = intake.waitingRecords(in: folders, besides: recorded)
        let loaded = recorded + waiting
        var records = loaded
        var endedWhileDown: [(id: String, status: ExitStatus?, problem: String?)] = []
        var adopted: [(id: String, run: Run?)] = []
        let known = knownJobs(records.filter { $0.active && runsAsBatchJob($0) })
        for index in records.indices {
            let id = records[index].id
            if records[index].active, runsAsBatchJob(records[index]) {
                switch slurm.recover(records[index], known: known) {
                case .adopt(let job):
                    records[index].job = job
                    adopted.append((id, Run(launcher: .slurm, handle: .job(job))))
                    continue
                case .ended(let job, let status, let problem):
                    records[index].job = job
                    endedWhileDown.append((id, status, problem))
                    continue
                case .unknown:
                    break
                }
            }
            // only a run recorded as going on, or a queued first run, can need repair: a
            // settled tree of thousands of agents is read back without a look at their files
            guard records[index].active || records[index].state == .queued && records[index].runs == 0 else {
                continue
            }
            let files = workspace.agentFiles(id)
            if !records[index].active {
                let trace = RunTrace.read(files, lockHeld: nil)
                guard RecordWriter.judge(records[index], trace) == .startedWhileQueued else { continue }
                log.info("\(id) had started its first run when the daemon stopped")
                RecordWriter.markFirstRunStarted(&records[index], at: trace.outputModified ?? now)
            }
            switch RecordWriter.judge(
                records[index],
                RunTrace.read(files, lockHeld: local.isRunning(id, session: records[index].pid)))
            {
            case .asRecorded, .startedWhileQueued:
                break
            case .running:
                // a first run's pid reaches meta.json a moment after its start (rule 3); a
                // crash in between leaves it out, and the process itself tells it
                if records[index].pid == nil, let pid = local.leader(of: id) {
                    records[index].pid = pid
                    self.records.persist(id)
                }
                let kind = launcherKind(of: records[index])
                adopted.append(
                    (
                        id,
                        records[index].pid.map {
                            Run(launcher: kind == .slurm ? .local : kind, handle: .process($0))
                        }
                    ))
            case .neverStarted:
                log.info("\(id) was about to start when the daemon stopped; it starts again (same attempt)")
                RecordWriter.undoStart(&records[index])
                self.records.persist(id)
            case .endedWhileDown:
                endedWhileDown.append((id, nil, nil))
            }
        }
        scheduler = Scheduler(limits: scheduler.limits, records: records)
        records.removeAll()
        for (id, run) in adopted {
            watchAgent(id)
            guard let run else {
                log.info("adopted \(id), still running (pid unknown)")
                continue
            }
            if let job = run.job {
                track(id, run, ownChild: false)
                pollForSlurm()
                log.info("adopted \(id), still a Slurm job (\(job))")
            } else if let pid = run.pid, Processes.isAlive(pid) {
                track(id, run, ownChild: false)
                log.info("adopted \(id), still running (pid \(pid))")
            }
        }
        // deepest first: a child's end came before its orchestrator could read of it
        let depth = { (id: String) in self.scheduler.agents[id]?.depth ?? 0 }
        for ended in endedWhileDown.sorted(by: { depth($0.id) > depth($1.id) }) {
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
        feed(.recovered)
        if !loaded.isEmpty {
            log.info(
                "recovered \(loaded.count) agent(s) from the tree: \(adopted.count) adopted, "
                    + "\(endedWhileDown.count) ended while down")
        }
        feed(.tick)
    }

    /// What Slurm knows of the batch runs of `records` (nil when there are none, or Slurm
    /// cannot be asked).
    private func knownJobs(_ records: [AgentRecord]) -> [String: SlurmJob]? {
        guard !records.isEmpty else { return nil }
        let (known, leftovers) = slurm.knownJobs(for: records)
        if leftovers > 0 {
            log.info("waited for \(leftovers) sbatch command(s) the previous daemon left running")
        }
        return known
    }

    /// True when `record`'s current run is (or was about to be) a Slurm batch job.
    private func runsAsBatchJob(_ record: AgentRecord) -> Bool {
        record.job != nil || record.pid == nil && launcherKind(of: record) == .slurm
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
            } else if FileSystem.exists(files.task) {
                log.warning(
                    "agents/\(id)/ holds a task.md but neither meta.json nor its source file, so it "
                        + "cannot be run again; that folder is left alone (submit the task again to run it)")
            }
            return
        }
        let parent = requester(of: id)
        let claimedFolder = workspace.claimedDirectory(parent: parent)
        try? FileSystem.makeDirectory(claimedFolder)
        let name = id + (source.name.hasSuffix(".json") ? ".json" : ".md")
        do {
            try FileSystem.rename(
                files.directory + "/" + source.name, to: claimedFolder + "/" + name, replace: false)
            log.info(
                "intake of \(id) was cut short; taking it in again"
                    + (parent.map { " (requested by \($0))" } ?? ""))
        } catch {
            log.warning("cannot take agents/\(id)/\(source.name) in again: \(error)")
        }
    }

    /// The orchestrator whose children/ folder links to `id`: intake makes that link before the
    /// agent's folder, so it names the requester of a folder a crash left without meta.json.
    private func requester(of id: String) -> String? {
        scheduler.agents.values.filter { $0.kind == .orchestrator }.map(\.id).sorted().first { parent in
            FileSystem.exists(workspace.agentFiles(parent).children + "/" + id)
        }
    }
}
