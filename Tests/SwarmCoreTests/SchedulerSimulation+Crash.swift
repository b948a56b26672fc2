import SwarmCore
import SwarmProtocol

/// The daemon's death and restart, two ways: from every record as its meta.json gives it back
/// (`crash`), or from what the shell had really written when it died (`crashLosingDeferredWrites`):
/// the last record each write put there, less the first-run starts whose write it defers.
extension Simulation {
    /// The agent whose `.started` write the shell defers (`deferredStart` in the daemon): the
    /// first run of a local process, whose pid is all that write would add to meta.json.
    func deferredStart(_ event: Event) -> String? {
        guard case .started(let id, _?, _, nil, _) = event, let r = scheduler.agents[id], r.active,
            r.runs == 1, r.attempts == 1
        else { return nil }
        return id
    }

    /// The meta.json writes of one event's effects, in order, as the shell makes them: an
    /// acceptance writes the record unless it started at once; a start writes it just before
    /// the spawn, except a first local run whose queued record is on disk already (no change
    /// of the record is owed); a `.persist` writes it, except the deferred one.
    mutating func noteWrites(_ effects: [Effect], deferring deferrable: String?) {
        var owed: [String] = []
        for effect in effects {
            switch effect {
            case .accept(let id):
                if scheduler.agents[id]?.active == false { write(id) }
            case .start(let id, _):
                guard let r = scheduler.agents[id] else { continue }
                let wasOwed = owed.contains(id)
                owed.removeAll { $0 == id }
                let unrecorded =
                    !wasOwed && !batch.contains(id) && r.runs == 1 && r.attempts == 1 && r.upstream == nil
                    && persisted[id] != nil
                if unrecorded { count("start-unrecorded") } else { write(id) }
            case .persist(let id):
                if id == deferrable {
                    deferred[id] = now
                    count("write-deferred")
                } else if !owed.contains(id) {
                    owed.append(id)
                }
            default:
                break
            }
        }
        for id in owed { write(id) }
    }

    /// meta.json of `id` now holds its current record.
    mutating func write(_ id: String) {
        persisted[id] = scheduler.agents[id]
        deferred[id] = nil
    }

    /// The deferred writes that waited long enough (the shell's 100 ms) are made.
    mutating func writeAgedStarts() {
        for (id, since) in deferred where now - since >= 100 { write(id) }
    }

    /// The daemon dies and comes back: a scheduler rebuilt from the records as their meta.json
    /// objects give them back, then the `.recovered` and `.tick` the recovery sends.
    mutating func crash() {
        step += 1
        remember(.crash(lossy: false))
        count("crash")
        var records: [AgentRecord] = []
        for record in scheduler.agents.values.sorted(by: { $0.id < $1.id }) {
            guard let back = AgentRecord(json: record.json) else {
                return fail("the meta.json of \(record.id) does not read back")
            }
            var expected = record
            expected.liveness = Liveness()
            expected.policy = back.policy
            // a parent's children are derived from the children's records, not stored
            expected.children = []
            if back != expected || !samePolicy(back.policy, record.policy) {
                return fail("the meta.json of \(record.id) loses data: \(differences(back, record))")
            }
            records.append(back)
        }
        let before = scheduler
        rebuild(from: records)
        if failure != nil { return }
        if nonZero(scheduler.used) != nonZero(before.used)
            || nonZero(scheduler.roleUsed) != nonZero(before.roleUsed)
        {
            return fail("a rebuilt scheduler counts other budgets: \(scheduler.used) vs \(before.used)")
        }
        if scheduler.queue != before.queue {
            return fail("a rebuilt scheduler has another queue: \(scheduler.queue) vs \(before.queue)")
        }
        compareCounters(scheduler, before)
        persisted = scheduler.agents
        deferred = [:]
        recovered()
    }

    /// The daemon dies and comes back from the meta.json files as the shell left them: the
    /// last record each write put there, without the deferred first-run writes. The starts
    /// not reported yet were spawned, but for the last few of the last event, which the crash
    /// may have cut off between their meta.json write and their spawn. Then the shell's
    /// recovery (`recover`), the rebuilt scheduler, and the `.recovered` and `.tick` the
    /// recovery sends.
    mutating func crashLosingDeferredWrites() {
        step += 1
        remember(.crash(lossy: true))
        count("crash:lossy")
        if !deferred.isEmpty { count("deferred-write-lost") }
        deferred = [:]
        let lastEvent = step - 1
        let cut = processes.filter { !$0.value.started && $0.value.startStep == lastEvent }
            .sorted { $0.value.startOrder < $1.value.startOrder }.map(\.key)
        let spawned = int(0...cut.count)
        for id in cut.dropFirst(spawned) { processes[id] = nil }
        for id in processes.keys.sorted() where processes[id]?.started == false { spawn(id) }
        var records: [AgentRecord] = []
        for id in order {
            guard let written = persisted[id] else { return fail("\(id) was accepted but has no meta.json") }
            guard var record = AgentRecord(json: written.json) else {
                return fail("the meta.json of \(id) does not read back")
            }
            recover(&record)
            if failure != nil { return }
            records.append(record)
        }
        rebuild(from: records)
        recovered()
    }

    /// What the daemon's recovery sends once the scheduler is rebuilt: `.recovered` (every
    /// fan-in written again from the children's records), then a `.tick`.
    mutating func recovered() {
        guard failure == nil else { return }
        send(.recovered)
        if failure == nil { send(.tick) }
    }

    /// The shell's recovery of one record (`recover` in the daemon), with the launcher's
    /// knowledge played by the simulated processes: a queued record whose first run was
    /// spawned becomes that run's record; an active record's process is adopted, its pid or
    /// job taken from the launcher; an active record whose run was never spawned is undone.
    mutating func recover(_ r: inout AgentRecord) {
        let process = processes[r.id]
        if !r.active && r.state == .queued && r.runs == 0, let process, process.started {
            r.active = true
            r.state = .running
            r.attempts += 1
            r.runs = 1
            r.startedAt = process.spawnedAt
            r.notBefore = nil
            r.stopping = nil
            r.pendingWakes = []
            count("recovered-first-run")
        }
        guard r.active else {
            if process != nil {
                fail("\(r.id) runs, but its meta.json says \(r.state.rawValue) and not active")
            }
            return
        }
        if let process {
            if let job = process.job {
                r.job = job
            } else if r.pid == nil {
                r.pid = process.pid
                persisted[r.id] = r
                count("recovered-pid")
            }
            processes[r.id]?.reported = true
        } else if r.pid == nil && r.job == nil {
            r.active = false
            r.state = r.runs > 1 && r.kind == .orchestrator ? .running : .queued
            if r.state == .queued { r.attempts = max(0, r.attempts - 1) }
            r.runs = max(0, r.runs - 1)
            count("recovered-never-started")
        } else {
            fail("the meta.json of \(r.id) names a run the launcher never had")
        }
    }

    /// A scheduler rebuilt from `records`, whose children lists are derived from the
    /// children's own `parent` fields (in arrival order), not taken from the parents' records.
    /// What the simulation knows is brought in line with it: a rebuild may forget usage that
    /// was reported (never more than that), attempts and runs of a run that never began, and
    /// Slurm's last word on a job.
    mutating func rebuild(from records: [AgentRecord]) {
        let children = Self.childrenByParent(records)
        var records = records
        for index in records.indices { records[index].children = children[records[index].id] ?? [] }
        for r in records {
            let reported = truth[r.id] ?? SimUsage()
            if r.totalTokens > reported.ended + reported.run
                || r.totalCost > reported.endedCost + reported.runCost
            {
                return fail(
                    "rebuilt, \(r.id) counts \(r.totalTokens) tokens and $\(r.totalCost), but its runs "
                        + "reported \(reported.ended + reported.run) and $\(reported.endedCost + reported.runCost)"
                )
            }
        }
        scheduler = Scheduler(limits: limits, records: records, seed: rng.next())
        for r in scheduler.agents.values {
            counters[r.id] = (r.attempts, r.runs)
            known[r.id] = SimUsage(
                ended: r.tokensUsed, run: r.runTokens, endedCost: r.costUsed, runCost: r.runCost)
            jobStates[r.id] = r.jobState
        }
        silence = [:]
    }

    /// Each agent's children, derived from the records' `parent` fields, in arrival order.
    static func childrenByParent(_ records: some Sequence<AgentRecord>) -> [String: [String]] {
        var children: [String: [(sequence: Int, id: String)]] = [:]
        for r in records {
            if let parent = r.parent { children[parent, default: []].append((r.sequence, r.id)) }
        }
        return children.mapValues { $0.sorted { $0.sequence < $1.sequence }.map(\.id) }
    }
}
