import SwarmProtocol

/// The heartbeat rules of HEARTBEAT.md: silence, spinning, looping, orphaned results, and the
/// periodic wake-up of orchestrators.
extension Scheduler {
    mutating func heartbeat(_ evidence: [String: Evidence]) {
        for id in agents.keys.sorted() {
            guard let r = agents[id], r.active, let seen = evidence[id] else { continue }
            if r.state == .running, r.stopping == nil {
                beat(id, seen)
            } else {
                // a command that waits for an answer or is being stopped still runs: the usage
                // in its lines counts (the shell has read them and does not send them again)
                reportLines(id, seen.newLines)
            }
        }
        for id in agents.keys.sorted() {
            guard let r = agents[id] else { continue }
            if r.kind == .orchestrator, r.state == .running, !r.active {
                if !r.pendingWakes.contains(.heartbeat) {
                    update(id, persist: false) { $0.pendingWakes.append(.heartbeat) }
                }
                wakeIfNeeded(id)
            }
            orphanCheck(r)
        }
    }

    private mutating func beat(_ id: String, _ seen: Evidence) {
        guard var live = agents[id]?.liveness else { return }
        if seen.held && seen.newLines.isEmpty {
            // held back by the launcher: the beat after the release counts as the first
            if live.evidence != nil || live.silentBeats != 0 {
                live.evidence = nil
                live.silentBeats = 0
                live.investigated = false
                let held = live
                update(id, persist: false) { $0.liveness = held }
            }
            return
        }
        var alerts: [(AlertKind, String)] = []
        if live.evidence.map({ seen.showsLife(since: $0) }) ?? true {
            live.silentBeats = 0
            live.investigated = false
        } else {
            live.silentBeats += 1
        }
        if !seen.newLines.isEmpty {
            live.lastProgressAt = seen.newLines.last?.timeMilliseconds
            let reported = seen.newLines.compactMap(\.outputs).last
            if let reported, reported == live.outputs {
                live.stalledOutputBeats += 1
            } else {
                live.stalledOutputBeats = 0
                if let reported { live.outputs = reported }
            }
            for line in seen.newLines {
                if line.status == live.lastStatus {
                    live.repeatedStatus += 1
                } else {
                    live.lastStatus = line.status
                    live.repeatedStatus = 1
                }
            }
        }
        if live.stalledOutputBeats >= limits.spinAfter && !live.spinningReported {
            live.spinningReported = true
            alerts.append(
                (
                    .spinning,
                    "\(id) keeps reporting progress but outputs=\(live.outputs ?? 0) has not moved "
                        + "for \(live.stalledOutputBeats) heartbeats"
                ))
        }
        if live.repeatedStatus >= limits.loopAfter && !live.loopingReported {
            live.loopingReported = true
            alerts.append(
                (
                    .looping,
                    "\(id) wrote the same status \(live.repeatedStatus) times in a row: "
                        + "\"\(live.lastStatus ?? "")\""
                ))
        }
        let silence = live.silentBeats
        var stop = false
        if silence >= limits.killAfter {
            stop = true
            alerts.append(
                (
                    .killed,
                    "\(id) showed no sign of life for \(silence) heartbeats "
                        + "(no progress, output, CPU time or file change); killing its process tree"
                ))
        } else if silence >= limits.investigateAfter && !live.investigated {
            live.investigated = true
            alerts.append(
                (
                    .investigate,
                    "\(id) showed no sign of life for \(silence) heartbeats; "
                        + "it is killed after \(limits.killAfter)"
                ))
        }
        live.evidence = seen
        let newLiveness = live
        update(id, persist: stop) { r in
            r.liveness = newLiveness
            if stop { r.stopping = .stuck }
        }
        for (kind, message) in alerts { emitAlert(kind, id, message) }
        if stop { effects.append(.stop(id: id)) }
        if !stop { reportLines(id, seen.newLines) }
    }

    /// Reports the usage in one beat's progress lines (running totals: the highest counts).
    private mutating func reportLines(_ id: String, _ lines: [ProgressLine]) {
        let tokens = lines.compactMap(\.tokens).max()
        let cost = lines.compactMap(\.cost).max()
        if tokens != nil || cost != nil { reportUsage(id, tokens: tokens, cost: cost) }
    }

    private mutating func orphanCheck(_ r: AgentRecord) {
        guard r.state == .done, !r.consumed, !r.liveness.orphanReported,
            let delivered = r.deliveredAt
        else { return }
        let due = delivered + Millis(limits.orphanAfter) * limits.heartbeat
        guard now >= due else { return }
        let reader = r.parent.map { "its orchestrator \($0)" } ?? "a person"
        update(r.id, persist: false) { $0.liveness.orphanReported = true }
        emitAlert(
            .orphanedResult, r.id,
            "the result of \(r.id) was not read by \(reader) within \(limits.orphanAfter) heartbeats")
    }
}
