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
            if case .log(let id)? = watches.target(of: event.wd) {
                logChecks.wrote(id, now: now)
                continue
            }
            guard let target = watches.target(of: event.wd), !event.name.isEmpty else { continue }
            switch target {
            case .inbox:
                if Intake.isIgnored(event.name) { continue }
                if let raw = event.rawName {
                    // renamed once written (anything but a regular file at once); the new
                    // name's own event takes it in
                    if !event.mask.contains(.create) || entryKind(raw, in: workspace.inbox) != .regular {
                        repairName(raw, in: workspace.inbox, shown: event.name)
                    }
                    continue
                }
                if event.mask.contains(.create) && !event.mask.contains(.isDirectory) {
                    // A regular file is taken once written (close or rename); anything else
                    // (symlink, FIFO) is taken, and rejected, as soon as it appears.
                    if FileSystem.status(workspace.inbox + "/" + event.name)?.kind == .regular { continue }
                }
                intakeFromInbox(event.name)
            case .spawnRequests(let parent):
                if Intake.isIgnored(event.name) { continue }
                if let raw = event.rawName {
                    repairName(raw, in: workspace.agentFiles(parent).spawn, shown: event.name)
                } else {
                    intakeFromSpawn(parent, name: event.name)
                }
            case .agent(let id):
                agentFileChanged(id, name: event.name)
            case .messages(let id):
                if Message.isMessage(event.name) { feed(.messaged(id: id)) }
            case .control:
                if !event.name.hasPrefix(".") { controlRequest(event.name) }
            case .schedules:
                scheduleFileChanged(event.name)
            case .log:
                break
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
        case "messages":
            watchMessages(id)
        case "slurm-job":
            if runs[id]?.launcher == .slurmSrun {
                slurm.answered()
                raiseSlurmNotes()
            }
        case "exit-status":
            if let job = runs[id]?.job { report(slurm.exitRecorded(id, job: job)) }
        default:
            break
        }
    }

    /// Starts watching an agent's folder (and its spawn/ folder) while it is unsettled.
    func watchAgent(_ id: String) {
        guard !watches.watchesFolder(of: id) else { return }
        let files = workspace.agentFiles(id)
        do {
            let wd = try inotify.add(
                files.directory, mask: [.closeWrite, .movedTo, .create, .onlyDirectory, .dontFollow])
            watches.add(wd, .agent(id))
        } catch {
            degradeToPolling(because: "cannot watch \(files.directory): \(error)")
        }
        if FileSystem.status(files.spawn)?.kind == .directory { watchSpawnFolder(id) }
        if FileSystem.status(files.messages)?.kind == .directory { watchMessages(id) }
    }

    /// Watches an agent's messages/ folder, then looks once for a message that came first.
    func watchMessages(_ id: String) {
        guard !watches.watchesMessages(of: id), scheduler.agents[id] != nil else { return }
        let folder = workspace.agentFiles(id).messages
        do {
            let wd = try inotify.add(folder, mask: [.closeWrite, .movedTo, .onlyDirectory, .dontFollow])
            watches.add(wd, .messages(id))
        } catch {
            degradeToPolling(because: "cannot watch \(folder): \(error)")
            return
        }
        scanMessages(id)
    }

    /// An idle orchestrator with an unread message (sent at `since` or later) is woken;
    /// nothing happens for any other agent.
    func scanMessages(_ id: String, since: Millis = 0) {
        guard let record = scheduler.agents[id], record.kind == .orchestrator, !record.active,
            Mailbox(workspace.agentFiles(id)).unread().contains(where: { $0.sent >= since })
        else { return }
        feed(.messaged(id: id))
    }

    func watchSpawnFolder(_ id: String) {
        guard !watches.watchesSpawnFolder(of: id), scheduler.agents[id] != nil else { return }
        let folder = workspace.agentFiles(id).spawn
        do {
            let wd = try inotify.add(folder, mask: [.closeWrite, .movedTo, .onlyDirectory, .dontFollow])
            watches.add(wd, .spawnRequests(id))
        } catch {
            degradeToPolling(because: "cannot watch \(folder): \(error)")
            return
        }
        scanSpawnFolder(id)
    }

    func unwatchAgent(_ id: String) {
        for wd in watches.removeAgent(id) { inotify.remove(wd) }
        progressOffsets[id] = nil
        contracts[id] = nil
    }

    private func forget(watch wd: Int32) {
        guard let target = watches.dropped(wd) else { return }
        switch target {
        case .agent, .spawnRequests, .messages, .log: break
        case .inbox: log.error("the inbox stopped being watched (was it removed?)")
        case .control: log.error("swarm/control stopped being watched (was it removed?)")
        case .schedules: log.error("swarm/schedules stopped being watched (was it removed?)")
        }
    }

    /// Looks at everything inotify would report: the inbox, the control folder, the schedule
    /// files (one `stat` each), and each
    /// unsettled agent's spawn/ folder, question and answer, and each idle orchestrator's
    /// messages. Run after an inotify overflow, and at every poll in poll mode (`--poll`, a
    /// Slurm launcher, or when the kernel runs out of watches). It costs three metadata
    /// operations per unsettled agent, four for one with a spawn/ folder, and a listing of
    /// messages/ per idle orchestrator (`lookAtJobs` adds one per batch job).
    func rescan() {
        scanInbox()
        scanControl()
        scanSchedules()
        for record in scheduler.agents.values.sorted(by: { $0.sequence < $1.sequence })
        where !record.state.isSettled {
            let files = workspace.agentFiles(record.id)
            if FileSystem.status(files.spawn)?.kind == .directory { scanSpawnFolder(record.id) }
            if record.kind == .orchestrator && !record.active { scanMessages(record.id) }
            let asked = FileSystem.exists(files.question)
            let answered = FileSystem.exists(files.answer)
            if record.state == .running && record.active && asked && !answered { feed(.asked(id: record.id)) }
            if record.state == .waiting && answered { feed(.answered(id: record.id)) }
        }
    }

    /// Switches to polling the tree every `interval` (or keeps the shorter interval already in
    /// force), with one alert: inotify cannot see everything any more.
    func degradeToPolling(because reason: String) {
        let interval = min(deadlines.pollInterval ?? Self.degradedPoll, Self.degradedPoll)
        if deadlines.pollInterval == nil {
            raise(
                .watchDegraded,
                "\(reason); the daemon now polls the tree every \(DurationText.format(interval)) "
                    + "(raise fs.inotify.max_user_watches to get events back)")
            deadlines.poll(every: interval, from: now)
        } else if interval != deadlines.pollInterval {
            deadlines.poll(every: interval, from: now)
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
        for entry in entries where !Intake.isIgnored(entry.name) {
            if let raw = entry.rawName {
                if let name = repairName(raw, in: workspace.inbox, shown: entry.name) { queue.enqueue(name) }
            } else {
                queue.enqueue(entry.name)
            }
        }
    }

    /// The kind of the entry of `folder` whose name is the bytes `raw`; nil when it is gone.
    private func entryKind(_ raw: [UInt8], in folder: String) -> FileKind? {
        ((try? FileSystem.entries(of: folder)) ?? []).first { $0.rawName == raw }?.kind
    }

    /// Renames a task file whose name is not UTF-8 (`raw`, shown as `shown`) in `folder` to
    /// its repaired name (`RepairedName`), so that intake can claim it by a name; the content
    /// is untouched. Returns the new name, or nil when the file is gone or cannot be renamed
    /// (said in the log: it stays where it is).
    @discardableResult
    func repairName(_ raw: [UInt8], in folder: String, shown: String) -> String? {
        let repaired = RepairedName.of(raw)
        for attempt in 1...1_000 {
            let name = RepairedName.candidate(repaired, attempt: attempt)
            do {
                try FileSystem.renameEntry(raw, in: folder, to: name)
                log.warning(
                    "\(folder)/\(shown): the name is not UTF-8; renamed the file to \(name) to take it in")
                return name
            } catch .fileExists {
                continue
            } catch .noSuchFile {
                return nil
            } catch {
                log.error(
                    "\(folder)/\(shown): the name is not UTF-8 and the file cannot be renamed (\(error)); "
                        + "rename it to a UTF-8 name to have it taken in")
                return nil
            }
        }
        log.error(
            "\(folder)/\(shown): the name is not UTF-8 and \(repaired) and its numbered variants are taken")
        return nil
    }

    /// Takes up to `limit` queued inbox files; returns how many are left to take now (none
    /// while the tree takes no writes: they wait in the inbox, unclaimed).
    @discardableResult
    func drainBacklog(limit: Int) -> Int {
        guard !writer.isStalled else { return 0 }
        // a name whose file is gone by now fails its claim, which costs no more than a look
        for name in queue.take(limit: limit) { intakeFromInbox(name) }
        return queue.waiting
    }

    func scanSpawnFolder(_ parent: String) {
        let folder = workspace.agentFiles(parent).spawn
        let entries = (try? FileSystem.entries(of: folder)) ?? []
        for entry in entries.sorted(by: { $0.name < $1.name }) where !Intake.isIgnored(entry.name) {
            if let raw = entry.rawName {
                if let name = repairName(raw, in: folder, shown: entry.name) {
                    intakeFromSpawn(parent, name: name)
                }
            } else {
                intakeFromSpawn(parent, name: entry.name)
            }
        }
    }

    func intakeFromInbox(_ name: String) {
        guard !writer.isStalled else {
            queue.enqueue(name)
            return
        }
        guard let claimed = intake.claim(name, from: workspace.inbox, parent: nil) else { return }
        process(claimedPath: claimed, fileName: name, parent: nil)
    }

    func intakeFromSpawn(_ parent: String, name: String) {
        guard !writer.isStalled else {
            queue.hold(spawnFolderOf: parent)
            return
        }
        let folder = workspace.agentFiles(parent).spawn
        guard let claimed = intake.claim(name, from: folder, parent: parent) else { return }
        process(claimedPath: claimed, fileName: name, parent: parent)
    }

    /// Checks one claimed task and hands it to the scheduler, or rejects it with its reason.
    func process(claimedPath: String, fileName: String, parent: String?, checksFolders: Bool = false) {
        let parentRecord = parent.flatMap { scheduler.agents[$0] }
        if let parent, parentRecord == nil {
            _ = intake.reject(
                claimedPath: claimedPath, fileName: fileName, parent: nil,
                reason: "it was requested by \(parent), which the runtime does not know")
            return
        }
        // a child's folder is made at once, so that its request is taken before its parent's
        // end is judged; so is a top-level task's while the loop is free (a lane would only
        // add two thread wake-ups to its start). Otherwise it is made off the loop: ext4
        // spends a good part of a millisecond placing it, and holds agents/ locked meanwhile,
        // so the lane also does the look for a foreign folder of the chosen name that a
        // lookup on the loop would wait for (`Intake.folderOutcome`).
        let offLoop = parent == nil && !(loopIsFree && queue.undecided == 0)
        let result = intake.prepare(
            claimedPath: claimedPath, fileName: fileName, parent: parentRecord,
            taken: { [scheduler, queue] id in scheduler.agents[id] != nil || queue.isPending(id) },
            checksFolders: !offLoop || checksFolders, now: now)
        switch result {
        case .success(let task):
            queue.prepared(task)
            guard offLoop else {
                arrive(task, folderMade: false)
                return
            }
            let folder = workspace.agentFiles(task.record.id).directory
            background.submit(lane: "folders") { _ in
                Intake.folderOutcome(folder)
            } then: { [weak self] outcome in
                self?.folderFinished(task, outcome)
            }
        case .failure(let error):
            let kept = intake.reject(
                claimedPath: claimedPath, fileName: fileName, parent: parent, reason: error.message)
            feed(.rejected(parent: parent ?? "", name: fileName, reason: error.message))
            raise(
                .rejectedTask, agent: parent, "\(fileName) was rejected: \(error.message) (kept as \(kept))")
        }
    }

    /// A folder made off the loop: the task arrives, or, where a folder that is not intake's
    /// holds its name, is taken in again under another id (found by looking into agents/ on
    /// the loop this once).
    private func folderFinished(_ task: PreparedTask, _ outcome: Intake.FolderOutcome) {
        switch outcome {
        case .made: arrive(task, folderMade: true)
        case .notMade: arrive(task, folderMade: false)
        case .foreign:
            _ = queue.decided(task.record.id)
            process(
                claimedPath: task.claimedPath, fileName: task.fileName, parent: nil, checksFolders: true)
        }
    }

    /// True while no agent runs, no start is under way and no inbox file waits: the work at
    /// hand (a task's folder, a start) is then done on the loop's own thread. Handing it to a
    /// lane and back would only add thread wake-ups to the time between a drop and the agent's
    /// first instruction, and nothing else would use the time the lane saves.
    var loopIsFree: Bool { runs.hasNoProcesses && spawns.starting.isEmpty && queue.waiting == 0 }

    /// Hands a task that passed intake to the scheduler once its folder exists. The folder
    /// comes first: on a disk that filled before any write failed, the task waits in
    /// claimed/ (taken up once the tree takes writes) instead of half-made.
    private func arrive(_ task: PreparedTask, folderMade: Bool) {
        let folder = workspace.agentFiles(task.record.id).directory
        guard !writer.isStalled, folderMade || writer.makeDirectory(folder, now: now) else {
            _ = queue.decided(task.record.id)
            log.info("\(task.fileName) waits in claimed/ until the tree takes writes")
            reportWrites()
            return
        }
        feed(.arrived(task.record))
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
