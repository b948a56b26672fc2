import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Schedules: the files of `swarm/schedules/`, read at start and whenever inotify reports a
/// change; each due slot decided by `SchedulePlanner` and, when it fires, one task file
/// `NAME-<n>.md` written into the inbox, which the normal intake takes in.
extension Daemon {
    /// Watches `swarm/schedules/`, takes in what `swarm/schedules.json` kept, and reads every
    /// schedule file. Called once at start, after recovery (the last firings are derived from
    /// the recovered tree).
    func startSchedules() {
        let folder = workspace.schedulesDirectory
        try? FileSystem.makeDirectory(folder)
        do {
            let wd = try inotify.add(
                folder, mask: [.closeWrite, .movedTo, .movedFrom, .delete, .onlyDirectory])
            watches.add(wd, .schedules)
        } catch {
            degradeToPolling(because: "cannot watch \(folder): \(error)")
        }
        removeStaleFiringTemporaries()
        let snapshot = (try? FileSystem.readFile(workspace.schedulesStatePath, limit: 1 << 20))
            .flatMap { try? JSON.parse($0) }
        schedules.restore(snapshot)
        scanSchedules()
        writeScheduleState()
        for name in schedules.names {
            if let last = schedules[name]?.last {
                firingEnded(ScheduleParser.firingID(name, number: last.number))
            }
        }
    }

    /// A firing that ended done needs no reader: nobody waits for its result (`swarm schedules`
    /// shows it), so it counts as read at once and raises no `orphaned-result`.
    func firingEnded(_ id: String) {
        guard let record = scheduler.agents[id], record.state == .done, !record.consumed,
            schedules.schedule(ofFiring: id) != nil
        else { return }
        feed(.consumed(id: id))
    }

    /// Reads every schedule file whose version changed, and forgets those that are gone.
    func scanSchedules() {
        let present = Set(ScheduleFile.names(in: workspace))
        var ledger: FiringLedger?
        for name in present.sorted() { loadSchedule(name, ledger: &ledger) }
        for name in schedules.names where !present.contains(name) { forgetSchedule(name) }
        if schedules.stateDirty { writeScheduleState() }
    }

    /// inotify reported `fileName` in `swarm/schedules/`.
    func scheduleFileChanged(_ fileName: String) {
        guard let name = ScheduleFile.name(fileName: fileName) else { return }
        if FileSystem.status(ScheduleFile.path(name, in: workspace)) == nil {
            forgetSchedule(name)
        } else {
            var ledger: FiringLedger?
            loadSchedule(name, ledger: &ledger)
        }
        writeScheduleState()
    }

    /// Decides every due slot: fires, or skips with its reason. Called from the timers.
    func fireDueSchedules() {
        let heartbeat = heartbeatInterval
        for name in schedules.names {
            guard let entry = schedules[name], let spec = entry.spec,
                let clock = entry.clock(heartbeat: heartbeat)
            else { continue }
            switch SchedulePlanner.due(clock, now: now) {
            case .wait:
                continue
            case .missed(let slot, let count):
                log.info(
                    "schedule \(name): \(count) slot(s) passed while no daemon watched; catch-up: skip waits for the "
                        + "next one")
                schedules.record(name, .skip(slot: slot, .missed, missed: count - 1))
            case .slot(let slot, let missed):
                decide(name, spec: spec, entry: entry, slot: slot, missed: missed)
            }
        }
        if schedules.stateDirty { writeScheduleState() }
    }

    private func decide(_ name: String, spec: ScheduleSpec, entry: ScheduleEntry, slot: Millis, missed: Int) {
        let unsettled =
            entry.last.map { lastFiringUnsettled(ScheduleParser.firingID(name, number: $0.number)) } ?? false
        var note: String?
        var changed: Bool?
        if !unsettled && !spec.whenChanged.isEmpty {
            // a step per loop turn: the slot is decided once the walk is over
            var walking = schedules.takeWalk(name) ?? ChangeWalk(spec.whenChanged, in: workspace)
            guard walking.step() else {
                schedules.keep(walking, for: name)
                return
            }
            let walk = walking.result
            if walk.cut {
                note =
                    "when-changed: the walk stopped after \(ChangeWalk.entryLimit) entries; counted as changed"
                changed = true
            } else if let written = entry.last?.writtenNanos {
                changed = (walk.newest ?? Int64.min) >= written
            } else {
                changed = walk.newest != nil
            }
        }
        let decision = SchedulePlanner.decide(
            slot: slot, missed: missed, lastUnsettled: unsettled, changed: changed)
        guard case .fire = decision else {
            if case .skip(_, let reason, _) = decision {
                let running = entry.last.map { ScheduleParser.firingID(name, number: $0.number) } ?? ""
                log.info(
                    "schedule \(name): slot \(Timestamp.iso8601(milliseconds: slot)) skipped ("
                        + (reason == .overlap
                            ? "\(running) has not settled" : "nothing under when-changed: changed")
                        + ")")
            }
            schedules.record(name, decision, note: note)
            return
        }
        if let problem = ScheduleFile.blocker(spec, workspace: workspace, catalog: &intake.catalog) {
            log.info("schedule \(name): slot \(Timestamp.iso8601(milliseconds: slot)) not fired: \(problem)")
            if schedules.blocked(name, slot: slot, missed: missed, problem: problem) {
                raise(
                    .rejectedTask,
                    "schedule \(name) cannot fire: \(problem); its slots are skipped (blocked) until that is fixed"
                )
            }
            return
        }
        switch submitFiring(spec, number: (entry.last?.number ?? 0) + 1, slot: slot) {
        case .success(let firing):
            log.info(
                "schedule \(name): fired \(ScheduleParser.firingID(name, number: firing.number)) for slot "
                    + Timestamp.iso8601(milliseconds: slot))
            schedules.record(name, decision, firing: firing, note: note)
        case .failure(let error):
            log.error("schedule \(name): \(error.message); the slot is missed")
            schedules.record(name, .skip(slot: slot, .missed, missed: missed), note: error.message)
        }
    }

    /// True when firing `id` has not settled: its task file waits in the inbox or in claimed/,
    /// intake is deciding it, or its agent is queued, running or waiting.
    func lastFiringUnsettled(_ id: String) -> Bool {
        if let record = scheduler.agents[id] { return !record.state.isSettled }
        if queue.isPending(id) { return true }
        return FileSystem.exists(workspace.inbox + "/" + id + ".md")
            || FileSystem.exists(workspace.claimedDirectory(parent: nil) + "/" + id + ".md")
    }

    /// Writes firing `number` (or the next free number: one whose id no agent and no inbox
    /// file has) into the inbox: under a hidden name first, then renamed in without replacing
    /// anything. The rename is the commit point: a crash before it leaves no firing, one after
    /// leaves the firing the next daemon derives from the tree.
    private func submitFiring(_ spec: ScheduleSpec, number: Int, slot: Millis) -> Result<
        LastFiring, SwarmError
    > {
        var number = number
        for _ in 0..<100 {
            let id = ScheduleParser.firingID(spec.name, number: number)
            let target = workspace.inbox + "/" + id + ".md"
            if scheduler.agents[id] != nil || queue.isPending(id)
                || FileSystem.exists(workspace.agentDirectory(id))
            {
                number += 1
                continue
            }
            let temporary = workspace.inbox + "/.\(id).md.schedule-\(Processes.currentID)"
            let bytes = Array(ScheduleParser.firing(spec, number: number, slot: slot).utf8)
            do {
                try? FileSystem.remove(temporary)
                try FileSystem.createExclusive(temporary, bytes)
                let written = FileSystem.status(temporary)?.modifiedNanos
                do {
                    try FileSystem.rename(temporary, to: target, replace: false)
                } catch .fileExists {
                    try? FileSystem.remove(temporary)
                    number += 1
                    continue
                }
                return .success(LastFiring(number: number, slot: slot, writtenNanos: written))
            } catch {
                try? FileSystem.remove(temporary)
                return .failure(SwarmError("firing \(id) could not be written into swarm/inbox/: \(error)"))
            }
        }
        return .failure(SwarmError("no free id for a firing of \(spec.name) after 100 tries"))
    }

    /// Reads schedule `name` (when its file changed since the last read) and checks it as intake
    /// would check its firings: the file, its role and its template. A broken file gets
    /// `NAME.md.error` beside it and one `rejected-task` alert; the file itself is never
    /// touched. `ledger` is scanned on first need, for a schedule the daemon did not know.
    private func loadSchedule(_ name: String, ledger: inout FiringLedger?) {
        let path = ScheduleFile.path(name, in: workspace)
        let stamp = FileSystem.status(path)
        if schedules.isCurrent(name, stamp: stamp) { return }
        let result = ScheduleFile.read(name, path: path, stamp: stamp, catalog: &intake.catalog)
        let isNew = schedules.loaded(
            name, stamp: stamp, result,
            last: {
                if ledger == nil {
                    ledger = FiringLedger.scan(workspace, agentIDs: scheduler.agents.keys)
                }
                return derivedLastFiring(name, ledger: ledger, spec: try? result.get())
            }, heartbeat: heartbeatInterval, now: now)
        let errorFile = path + ".error"
        switch result {
        case .success(let spec):
            try? FileSystem.remove(errorFile)
            log.info(
                "schedule \(name): every \(spec.period)"
                    + (spec.whenChanged.isEmpty
                        ? "" : ", when-changed \(spec.whenChanged.joined(separator: " "))")
                    + ", catch-up \(spec.catchUp.rawValue)")
        case .failure(let error):
            guard isNew else { return }
            let text =
                "swarm cannot use schedules/\(name).md: \(error.message)\n\n"
                + "The schedule does not fire until the file is fixed; the file itself is left as it is. "
                + "Save it again and this file goes away.\n"
            try? FileSystem.writeAtomically(errorFile, Array(text.utf8))
            raise(
                .rejectedTask,
                "swarm/schedules/\(name).md is broken: \(error.message); it does not fire until fixed "
                    + "(see swarm/schedules/\(name).md.error)")
        }
    }

    /// The last firing of `name` as the tree holds it.
    private func derivedLastFiring(_ name: String, ledger: FiringLedger?, spec: ScheduleSpec?) -> LastFiring?
    {
        guard let firing = ledger?.last(of: name) else { return nil }
        let period = max(1, spec?.period.milliseconds(heartbeat: heartbeatInterval) ?? heartbeatInterval)
        var path = firing.path
        if firing.place == .agent, !FileSystem.exists(path) {
            path = workspace.agentDirectory(firing.id) + "/source.json"
        }
        let located = FiringLedger.Firing(
            number: firing.number, id: firing.id, place: firing.place, path: path)
        let created = scheduler.agents[firing.id]?.createdAt
        let slot =
            FiringLedger.slot(of: located, schedule: name, period: period)
            ?? created.map { SchedulePlanner.slot(at: $0, period: period) }
        return LastFiring(
            number: firing.number, slot: slot, writtenNanos: FileSystem.status(path)?.modifiedNanos)
    }

    private func forgetSchedule(_ name: String) {
        guard schedules[name] != nil else { return }
        schedules.removed(name)
        try? FileSystem.remove(ScheduleFile.path(name, in: workspace) + ".error")
        log.info("schedule \(name): its file is gone; it fires no more")
    }

    /// Removes the hidden files a daemon that died between writing a firing and renaming it
    /// into the inbox left there (`.NAME-<n>.md.schedule-<pid>`).
    private func removeStaleFiringTemporaries() {
        for entry in (try? FileSystem.entries(of: workspace.inbox)) ?? [] where entry.name.hasPrefix(".") {
            if entry.name.contains(".md.schedule-") {
                try? FileSystem.remove(workspace.inbox + "/" + entry.name)
            }
        }
    }

    /// Writes `swarm/schedules.json` through the tree writer (a failed write is owed).
    func writeScheduleState() {
        let snapshot = schedules.snapshot(heartbeat: heartbeatInterval, now: now, pid: Processes.currentID)
        writer.replace(
            workspace.schedulesStatePath,
            with: JSON.encodeBytes(snapshot, pretty: true, sortKeys: true),
            now: now)
        schedules.stateDirty = false
        reportWrites()
    }
}
