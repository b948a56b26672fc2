import SwarmCore
import SwarmProtocol
import SwarmSystem

/// One heartbeat: gather the evidence of life of every running agent and let the scheduler
/// apply HEARTBEAT.md's rules.
extension Daemon {
    /// Files the runtime itself writes in an agent's folder: their changes are no sign of life.
    static let runtimeFiles: Set<String> = [
        "meta.json", "task.md", "children.json", "slurm-job", "merge.json", "verify.log", "verify",
        "setup.log",
    ]
    /// Entries of an agent's folder whose times one beat looks at, at most (the first ones the
    /// folder lists): with the listing and the three files of the first signs, a beat costs an
    /// agent at most 36 metadata operations (plus reading what progress.md gained), however
    /// many files it keeps there.
    static let entriesPerBeat = 32

    func heartbeat() {
        let started = Clock.monotonicNanoseconds()
        defer {
            let micros = (Clock.monotonicNanoseconds() - started) / 1000
            log.debug("heartbeat pass took \(micros / 1000).\(micros % 1000 / 100) ms")
        }
        lookAtJobs()
        capLogs(runs.all.keys.sorted())
        let active = scheduler.activeAgents
        var evidence: [String: Evidence] = [:]
        if !active.isEmpty {
            var cpu: [Int32: UInt64] = [:]
            for process in ProcFS.snapshot() { cpu[process.session, default: 0] += process.cpuTicks }
            for record in active {
                evidence[record.id] = gather(record, cpu: cpu)
                if let watch = runs.process(of: record.id) {
                    if watch.raw < 0 { processExited(watch) }
                } else if runs[record.id]?.job == nil && landings[record.id] == nil
                    && !isSubmitting(record.id) && !isSpawning(record.id)
                    && !local.isRunning(record.id, session: record.pid)
                {
                    finishRun(record.id, status: nil)
                }
            }
        }
        feed(.heartbeat(evidence))
    }

    /// Keeps the head and tail of the stdout.log and stderr.log of agents `ids` and frees the
    /// rest (`LogCap`), so that one chatty agent cannot fill the disk through the runtime. Logs
    /// that grew are looked at again a second later; quiet ones get a one-shot inotify watch
    /// that brings them back at their next write (`LogCheckSchedule`).
    func capLogs(_ ids: [String]) {
        for id in ids {
            let files = workspace.agentFiles(id)
            let (results, bytes) = logCap.look(at: files)
            results.forEach(log.record)
            guard logChecks.looked(id, bytes: bytes, now: now) else { continue }
            if !armLogWatches(id) { logChecks.pollInstead(id, now: now) }
        }
    }

    /// Arms a one-shot watch on each of agent `id`'s logs that exists; false when none could be.
    func armLogWatches(_ id: String) -> Bool {
        let files = workspace.agentFiles(id)
        var armed = false
        for path in [files.stdout, files.stderr] {
            guard let wd = try? inotify.add(path, mask: [.modify, .oneShot, .dontFollow]) else { continue }
            watches.add(wd, .log(id))
            armed = true
        }
        return armed
    }

    private func gather(_ record: AgentRecord, cpu: [Int32: UInt64]) -> Evidence {
        let files = workspace.agentFiles(record.id)
        let progressSize = FileSystem.status(files.progress)?.size ?? 0
        let outputs =
            (FileSystem.status(files.stdout)?.size ?? 0) + (FileSystem.status(files.stderr)?.size ?? 0)
        var newest: Int64 = 0
        let entries = ((try? FileSystem.entries(of: files.directory)) ?? []).filter {
            !Self.runtimeFiles.contains($0.name)
        }
        for entry in entries.prefix(Self.entriesPerBeat) {
            if let status = FileSystem.status(files.directory + "/" + entry.name) {
                newest = max(newest, status.modifiedNanos)
            }
        }
        return Evidence(
            progressBytes: progressSize, outputBytes: outputs,
            cpuTicks: record.pid.flatMap { cpu[$0] } ?? 0, newestModification: newest,
            newLines: newProgressLines(record.id, size: progressSize),
            held: slurm.isHeld(record.id, run: runs[record.id]) || landings[record.id] != nil
                || isSpawning(record.id))
    }

    /// The progress lines appended since the last beat.
    private func newProgressLines(_ id: String, size: Int64) -> [ProgressLine] {
        let offset = progressOffsets[id] ?? 0
        guard size > offset else {
            if size < offset { progressOffsets[id] = 0 }
            return []
        }
        guard let bytes = try? FileSystem.readFile(workspace.agentFiles(id).progress, limit: 16 << 20),
            Int64(bytes.count) > offset
        else { return [] }
        var end = bytes.count
        while end > Int(offset), bytes[end - 1] != 0x0A { end -= 1 }
        guard end > Int(offset) else { return [] }
        progressOffsets[id] = Int64(end)
        let text = String(decoding: bytes[Int(offset)..<end], as: UTF8.self)
        return text.split(separator: "\n").compactMap { ProgressLine.parse(String($0)) }
    }
}
