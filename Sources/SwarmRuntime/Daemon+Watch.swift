import SwarmCore
import SwarmProtocol
import SwarmSystem

/// inotify: the inbox, each live agent's folder and each orchestrator's spawn/ folder.
extension Daemon {
    func readInotify() {
        let events: [Inotify.Event]
        do {
            events = try inotify.read()
        } catch {
            log.error("reading inotify failed: \(error)")
            return
        }
        for event in events {
            if event.mask.contains(.queueOverflow) {
                log.warning("inotify queue overflowed; rescanning the tree")
                rescan()
                continue
            }
            if event.mask.contains(.ignored) {
                forget(watch: event.wd)
                continue
            }
            guard let target = watches[event.wd], !event.name.isEmpty else { continue }
            switch target {
            case .inbox:
                if !Intake.isIgnored(event.name) { intakeFromInbox(event.name) }
            case .spawnRequests(let parent):
                if !Intake.isIgnored(event.name) { intakeFromSpawn(parent, name: event.name) }
            case .agent(let id):
                agentFileChanged(id, name: event.name)
            case .control:
                if !event.name.hasPrefix(".") { controlRequest(event.name) }
            }
        }
    }

    private func agentFileChanged(_ id: String, name: String) {
        let files = workspace.agentFiles(id)
        switch name {
        case "question.md":
            if !FileSystem.exists(files.answer) { feed(.asked(id: id)) }
        case "answer.md":
            feed(.answered(id: id))
        case "spawn":
            watchSpawnFolder(id)
        default:
            break
        }
    }

    /// Starts watching an agent's folder (and its spawn/ folder) while it is unsettled.
    func watchAgent(_ id: String) {
        guard agentWatches[id] == nil else { return }
        let files = workspace.agentFiles(id)
        do {
            let wd = try inotify.add(
                files.directory, mask: [.closeWrite, .movedTo, .create, .onlyDirectory, .dontFollow])
            watches[wd] = .agent(id)
            agentWatches[id] = wd
        } catch {
            log.warning("cannot watch \(files.directory): \(error); questions are seen at the next heartbeat")
        }
        if FileSystem.status(files.spawn)?.kind == .directory { watchSpawnFolder(id) }
    }

    func watchSpawnFolder(_ id: String) {
        guard spawnWatches[id] == nil, scheduler.agents[id] != nil else { return }
        let folder = workspace.agentFiles(id).spawn
        do {
            let wd = try inotify.add(folder, mask: [.closeWrite, .movedTo, .onlyDirectory, .dontFollow])
            watches[wd] = .spawnRequests(id)
            spawnWatches[id] = wd
        } catch {
            log.warning("cannot watch \(folder): \(error)")
            return
        }
        scanSpawnFolder(id)
    }

    func unwatchAgent(_ id: String) {
        if let wd = agentWatches.removeValue(forKey: id) {
            inotify.remove(wd)
            watches[wd] = nil
        }
        if let wd = spawnWatches.removeValue(forKey: id) {
            inotify.remove(wd)
            watches[wd] = nil
        }
        progressOffsets[id] = nil
        contracts[id] = nil
    }

    private func forget(watch wd: Int32) {
        guard let target = watches.removeValue(forKey: wd) else { return }
        switch target {
        case .agent(let id): agentWatches[id] = nil
        case .spawnRequests(let id): spawnWatches[id] = nil
        case .inbox: log.error("the inbox stopped being watched (was it removed?)")
        case .control: log.error("swarm/control stopped being watched (was it removed?)")
        }
    }

    /// After an overflow: look at everything again, as at start.
    func rescan() {
        scanInbox()
        for id in spawnWatches.keys.sorted() { scanSpawnFolder(id) }
        for record in scheduler.agents.values where record.state == .running && record.active {
            if FileSystem.exists(workspace.agentFiles(record.id).question) {
                agentFileChanged(record.id, name: "question.md")
            }
        }
    }

    /// Carries out one request of the command line and removes it.
    func controlRequest(_ name: String) {
        let path = workspace.controlDirectory + "/" + name
        defer { try? FileSystem.remove(path) }
        guard let request = ControlRequest.read(path) else {
            log.warning("ignoring swarm/control/\(name): not a request swarm wrote")
            return
        }
        if request.verb == .resetUpstream {
            log.info("reset of upstream \(request.agent) requested")
            apply(scheduler.resetUpstream(request.agent, now: now))
            return
        }
        guard scheduler.agents[request.agent] != nil else {
            log.warning("\(request.verb.rawValue) \(request.agent): no such agent")
            return
        }
        log.info("\(request.verb.rawValue) \(request.agent) requested")
        switch request.verb {
        case .kill: feed(.killRequested(id: request.agent))
        case .retry: feed(.retryRequested(id: request.agent))
        case .ack: feed(.consumed(id: request.agent))
        case .resetUpstream: break
        }
    }

    func scanControl() {
        let entries = (try? FileSystem.entries(of: workspace.controlDirectory)) ?? []
        for entry in entries.sorted(by: { $0.name < $1.name }) where !entry.name.hasPrefix(".") {
            controlRequest(entry.name)
        }
    }

    /// Queues every task file in the inbox for intake. The loop takes them in batches, so a
    /// full inbox never keeps the daemon from starting agents and seeing them finish.
    func scanInbox() {
        let entries = (try? FileSystem.entries(of: workspace.inbox)) ?? []
        for entry in entries where !Intake.isIgnored(entry.name) { backlog.append(entry.name) }
    }

    /// Takes up to `limit` queued inbox files; returns how many are left.
    @discardableResult
    func drainBacklog(limit: Int) -> Int {
        var taken = 0
        while backlogIndex < backlog.count && taken < limit {
            let name = backlog[backlogIndex]
            backlogIndex += 1
            taken += 1
            if FileSystem.exists(workspace.inbox + "/" + name) { intakeFromInbox(name) }
        }
        if backlogIndex == backlog.count {
            backlog.removeAll(keepingCapacity: false)
            backlogIndex = 0
        }
        return backlog.count - backlogIndex
    }

    func scanSpawnFolder(_ parent: String) {
        let folder = workspace.agentFiles(parent).spawn
        let entries = (try? FileSystem.entries(of: folder)) ?? []
        for entry in entries.sorted(by: { $0.name < $1.name }) where !Intake.isIgnored(entry.name) {
            intakeFromSpawn(parent, name: entry.name)
        }
    }

    func intakeFromInbox(_ name: String) {
        guard let claimed = intake.claim(name, from: workspace.inbox, parent: nil) else { return }
        process(claimedPath: claimed, fileName: name, parent: nil)
    }

    func intakeFromSpawn(_ parent: String, name: String) {
        let folder = workspace.agentFiles(parent).spawn
        guard let claimed = intake.claim(name, from: folder, parent: parent) else { return }
        process(claimedPath: claimed, fileName: name, parent: parent)
    }

    /// Checks one claimed task and hands it to the scheduler, or rejects it with its reason.
    func process(claimedPath: String, fileName: String, parent: String?) {
        let parentRecord = parent.flatMap { scheduler.agents[$0] }
        if let parent, parentRecord == nil {
            _ = intake.reject(
                claimedPath: claimedPath, fileName: fileName, parent: nil,
                reason: "it was requested by \(parent), which the runtime does not know")
            return
        }
        let result = intake.prepare(
            claimedPath: claimedPath, fileName: fileName, parent: parentRecord,
            taken: { [scheduler, pending] id in scheduler.agents[id] != nil || pending[id] != nil },
            now: now)
        switch result {
        case .success(let task):
            pending[task.record.id] = task
            feed(.arrived(task.record))
        case .failure(let error):
            let kept = intake.reject(
                claimedPath: claimedPath, fileName: fileName, parent: parent, reason: error.message)
            feed(.rejected(parent: parent ?? "", name: fileName, reason: error.message))
            let alert = Alert(
                time: now, kind: "rejected-task", agent: parent,
                message: "\(fileName) was rejected: \(error.message) (kept as \(kept))")
            alerts.record(alert, log: log)
        }
    }

    /// Claimed tasks not yet turned into agents (left by a crash), oldest folder first.
    func claimedLeftovers() -> [(path: String, name: String, parent: String?)] {
        var out: [(String, String, String?)] = []
        let folders = (try? FileSystem.entries(of: workspace.claimed)) ?? []
        for folder in folders where folder.kind == .directory {
            let parent: String? = folder.name == "_inbox" ? nil : folder.name
            let directory = workspace.claimed + "/" + folder.name
            for entry in (try? FileSystem.entries(of: directory)) ?? [] where !entry.name.hasPrefix(".") {
                out.append((directory + "/" + entry.name, entry.name, parent))
            }
        }
        return out
    }
}
