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
        var endedWhileDown: [String] = []
        var adopted: [(String, Int32?)] = []
        for index in records.indices where records[index].active {
            let id = records[index].id
            if launcher.isRunning(id) {
                adopted.append((id, records[index].pid))
            } else if neverStarted(records[index]) {
                log.info("\(id) was about to start when the daemon stopped; it starts again (same attempt)")
                records[index].active = false
                records[index].state = records[index].runs > 1 && records[index].kind == .orchestrator ? .running : .queued
                if records[index].state == .queued { records[index].attempts = max(0, records[index].attempts - 1) }
                records[index].runs = max(0, records[index].runs - 1)
            } else {
                endedWhileDown.append(id)
            }
        }
        scheduler = Scheduler(limits: scheduler.limits, records: records)
        records.removeAll()
        for (id, pid) in adopted {
            watchAgent(id)
            if let pid, Processes.isAlive(pid) {
                watchProcess(id: id, pid: pid, ownChild: false)
            }
            log.info("adopted \(id), still running (pid \(pid.map(String.init) ?? "unknown"))")
        }
        for id in endedWhileDown {
            log.info("\(id) ended while no daemon watched; reading what it left")
            finishRun(id, status: nil)
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
