import SwarmCore
import SwarmProtocol

/// One process as the fake shell sees it.
struct SimProcess {
    /// `.started` was sent; until then the process waits for `.started` or `.startFailed`.
    var started = false
    /// The scheduler asked for a stop; the process tree dies within a few steps.
    var stopRequested = false
    var stopAge = 0
}

/// A tiny fake shell around the pure scheduler, driven by a seeded generator: it turns
/// effects into later events (start -> started/startFailed, stop -> exit), lets running
/// agents exit with random outcomes, sends kills, retries, questions, answers, heartbeats
/// with random evidence, new tasks and spawn requests, moves time forward, and now and then
/// "crashes": rebuilds the scheduler from the records read back as meta.json. After every
/// event it checks the invariants; `drain` then lets everything finish and checks that every
/// task ended.
///
/// Everything comes from `seed`: `Simulation(seed: s).run(steps: n)` replays a run exactly.
struct Simulation {
    let seed: UInt64
    var rng: SplitMix64
    let limits: Limits
    var scheduler: Scheduler
    var now: Millis = 1_000_000
    var step = 0
    var processes: [String: SimProcess] = [:]
    var accepted: Set<String> = []
    /// Accepted ids in the order of acceptance.
    var order: [String] = []
    /// The highest attempts and runs seen for each agent.
    var counters: [String: (attempts: Int, runs: Int)] = [:]
    var evidence: [String: Evidence] = [:]
    var outputs: [String: Int] = [:]
    var nextName = 0
    var nextPid: Int32 = 1_000
    /// The last events (nil: a crash), formatted only when a run fails.
    var recent: [(time: Millis, step: Int, event: Event?)] = []
    /// The first broken invariant, with the seed and the last events.
    var failure: String?
    /// How often each effect and alert kind appeared, to see that the run exercised them.
    var counts: [String: Int] = [:]
    /// The silence rule as the simulation models it: the evidence last judged and the silent
    /// beats since, per agent whose command runs.
    var silence: [String: (evidence: Evidence, beats: Int)] = [:]
    /// Prints every event, for studying one seed.
    var verbose = false

    init(seed: UInt64) {
        self.seed = seed
        var rng = SplitMix64(seed: seed)
        func int(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(rng.next(upTo: Int64(range.upperBound - range.lowerBound)))
        }
        let maxSlots = int(1...8)
        let investigateAfter = int(1...3)
        var limits = Limits(
            maxSlots: maxSlots, reserve: int(0...min(2, maxSlots - 1)), maxDepth: int(1...3),
            heartbeat: 60_000, investigateAfter: investigateAfter,
            killAfter: investigateAfter + int(0...2), spinAfter: int(1...3), loopAfter: int(2...4),
            orphanAfter: int(1...3))
        if int(0...1) == 0 { limits.roleSlots = ["capped": int(1...maxSlots)] }
        self.limits = limits
        self.rng = rng
        scheduler = Scheduler(limits: limits, seed: seed)
    }

    // MARK: Random choices

    /// A whole number in `range`, from the seeded generator.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(rng.next(upTo: Int64(range.upperBound - range.lowerBound)))
    }

    /// True `percent` times in 100.
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }

    /// One of `items`, or nil when there are none.
    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[int(0...(items.count - 1))]
    }

    /// Agent ids in a stable order, that of their acceptance (dictionary order changes from
    /// process to process).
    func ids(where condition: (AgentRecord) -> Bool = { _ in true }) -> [String] {
        order.filter { scheduler.agents[$0].map(condition) ?? false }
    }

    /// A failure policy with a random rule for some kinds (the rest standard) and a random
    /// backoff.
    mutating func randomPolicy() -> FailurePolicy {
        var actions: [FailureKind: FailureAction] = [:]
        for kind in FailureKind.allCases where chance(70) {
            let roll = int(0...99)
            actions[kind] =
                roll < 50 ? .retry(int(0...2)) : roll < 65 ? .deadLetter : roll < 80 ? .skip : .fail
        }
        let base = Millis(int(1...2_000))
        return FailurePolicy(
            actions: actions, backoffBaseMilliseconds: base, backoffCapMilliseconds: base * Millis(int(1...8))
        )
    }

    /// Urgent 20 %, normal 50 %, background 30 %.
    mutating func randomPriority() -> Priority {
        let roll = int(0...9)
        return roll < 2 ? .urgent : roll < 7 ? .normal : .background
    }

    /// A new id, or now and then one that is taken (to be refused).
    mutating func freshOrTakenID(_ prefix: String) -> String {
        if chance(3), let taken = pick(ids()) { return taken }
        nextName += 1
        return "\(prefix)\(nextName)"
    }

    /// How a command ends: mostly success (or going idle, for an orchestrator), else every
    /// kind of failure.
    mutating func randomOutcome(for kind: AgentKind) -> Outcome {
        let roll = int(0...99)
        let failureKind = pick(FailureKind.allCases.filter { $0 != .killed }) ?? .exit
        let failed = Outcome.failed(failureKind, reason: "\(failureKind.rawValue) failure")
        let upstream = Outcome.upstreamFailed(
            pick(UpstreamErrorClass.allCases) ?? .unknown, reason: "api", retryAfter: chance(50) ? 1_000 : nil
        )
        switch kind {
        case .worker:
            return roll < 45
                ? .succeeded : roll < 55 ? crashExit : roll < 60 ? idleExit : roll < 90 ? failed : upstream
        case .orchestrator:
            return roll < 50
                ? idleExit : roll < 75 ? .succeeded : roll < 83 ? crashExit : roll < 95 ? failed : upstream
        }
    }

    // MARK: The run

    /// Runs `steps` random events, then drains. Stops at the first broken invariant.
    mutating func run(steps: Int) {
        for _ in 0..<steps where failure == nil { randomStep() }
        if failure == nil { drain() }
    }

    /// One random event, weighted towards what keeps the tree busy.
    mutating func randomStep() {
        // A stopped process tree always dies, a few events later.
        for id in processes.keys where processes[id]?.stopRequested == true { processes[id]?.stopAge += 1 }
        if let id = processes.keys.sorted().first(where: {
            processes[$0]!.stopRequested && processes[$0]!.stopAge > 3
        }) {
            finish(id)
            return
        }
        now += Millis(int(0...400))
        let roll = int(0...99)
        switch roll {
        case 0..<10: arriveTopLevel()
        case 10..<24: spawnChild()
        case 24..<40: deliverStart()
        case 40..<58: if let id = pick(processes.keys.sorted()) { finish(id) } else { tick() }
        case 58..<64: heartbeat()
        case 64..<72: tick()
        case 72..<75:
            let id = chance(70) ? pick(ids { !$0.state.isSettled }) : pick(ids())
            send(.killRequested(id: id ?? "nobody"))
        case 75..<78:
            let id = chance(80) ? pick(ids { $0.state.isSettled }) : pick(ids())
            send(.retryRequested(id: id ?? "nobody"))
        case 78..<82:
            if let id = pick(ids { $0.state == .running }) { send(.asked(id: id)) } else { tick() }
        case 82..<86:
            if let id = pick(ids { $0.state == .waiting }) { send(.answered(id: id)) } else { tick() }
        case 86..<88:
            if let id = pick(ids { $0.state == .done }) { send(.consumed(id: id)) } else { tick() }
        case 88..<89:
            let parent = pick(ids { $0.kind == .orchestrator }) ?? "ghost"
            nextName += 1
            send(.rejected(parent: parent, name: "bad\(nextName)", reason: "unreadable front matter"))
        case 89..<90: crash()
        default: tick()
        }
    }

    /// Time passes (up to 3 s) with no news.
    mutating func tick() {
        now += Millis(int(0...3_000))
        send(.tick)
    }

    /// A task from the inbox: any kind, size, priority and policy; now and then too deep.
    mutating func arriveTopLevel() {
        let kind: AgentKind = chance(35) ? .orchestrator : .worker
        let record = task(
            freshOrTakenID("t"), depth: chance(3) ? limits.maxDepth + 1 : 1, kind: kind,
            slots: kind == .orchestrator ? int(0...limits.maxSlots) : 0, priority: randomPriority(),
            role: limits.roleSlots.isEmpty || chance(50) ? "worker" : "capped", policy: randomPolicy(),
            at: now)
        send(.arrived(record))
    }

    /// A spawn request, mostly from a running orchestrator, now and then from any agent or
    /// an unknown one; its size may not fit the parent.
    mutating func spawnChild() {
        let running = ids { $0.kind == .orchestrator && $0.active && $0.state == .running }
        guard let parent = chance(85) ? pick(running) : pick(ids() + ["ghost"]) else { return tick() }
        let p = scheduler.agents[parent]
        let kind: AgentKind = chance(30) ? .orchestrator : .worker
        let record = task(
            freshOrTakenID("c"), parent: parent, depth: (p?.depth ?? 1) + 1, kind: kind,
            slots: kind == .orchestrator ? int(0...max(0, p?.slots ?? 2)) : 0, priority: randomPriority(),
            policy: randomPolicy(), at: now)
        send(.arrived(record))
    }

    /// The shell reports on a start it was asked for: started (90 %) or failed.
    mutating func deliverStart() {
        guard let id = pick(processes.keys.sorted().filter({ processes[$0]?.started == false })) else {
            return tick()
        }
        if chance(90) {
            processes[id]?.started = true
            nextPid += 1
            send(.started(id: id, pid: nextPid))
        } else if chance(50) {
            processes[id] = nil
            send(.startDeferred(id: id, until: now + Millis(int(0...2_000)), reason: "the controller does not answer"))
        } else {
            processes[id] = nil
            send(.startFailed(id: id, reason: "spawn failed"))
        }
    }

    /// Moves one process on: a pending start is answered, a started process exits.
    mutating func finish(_ id: String, outcome: Outcome? = nil) {
        guard let process = processes[id] else { return }
        if !process.started {
            processes[id]?.started = true
            nextPid += 1
            send(.started(id: id, pid: nextPid))
            return
        }
        processes[id] = nil
        let kind = scheduler.agents[id]?.kind ?? .worker
        send(.exited(id: id, outcome: outcome ?? randomOutcome(for: kind)))
    }

    /// One heartbeat with evidence for (most of) the running commands: unchanged, or grown
    /// with progress lines whose outputs count stays, moves or is missing. Checks the
    /// silence rule against a model of it.
    mutating func heartbeat() {
        now += limits.heartbeat + Millis(int(0...1_000))
        var seen: [String: Evidence] = [:]
        let statuses = ["reading", "editing", "retrying", "retrying"]
        for id in processes.keys.sorted() where processes[id]?.started == true && chance(90) {
            var e = evidence[id] ?? Evidence()
            e.newLines = []
            if chance(55) {
                if chance(50) { e.outputBytes += Int64(int(1...100)) }
                if chance(30) { e.cpuTicks += UInt64(int(1...10)) }
                if chance(20) { e.newestModification += 1 }
                for _ in 0..<int(0...2) {
                    let roll = int(0...9)
                    let count: Int? = roll < 4 ? outputs[id] ?? 0 : roll < 8 ? (outputs[id] ?? 0) + 1 : nil
                    if let count { outputs[id] = count }
                    e.newLines.append(
                        ProgressLine(timeMilliseconds: now, outputs: count, status: pick(statuses)!))
                    e.progressBytes += 40
                }
            }
            evidence[id] = e
            // now and then the launcher holds a command back (a Slurm job still pending)
            var judged = e
            judged.held = e.newLines.isEmpty && chance(10)
            seen[id] = judged
        }
        // The silence rule, modelled: which agents the beat must flag or kill.
        var investigate: Set<String> = []
        var kill: Set<String> = []
        for (id, e) in seen {
            guard let r = scheduler.agents[id], r.active, r.state == .running, r.stopping == nil else {
                continue
            }
            // A held command is neither alive nor silent; the beat after it counts as the first.
            if e.held {
                silence[id] = nil
                continue
            }
            // The first beat after a start (or a restart of the daemon) always counts as life.
            let beats = silence[id].map { e.showsLife(since: $0.evidence) ? 0 : $0.beats + 1 } ?? 0
            silence[id] = (e, beats)
            if beats >= limits.killAfter {
                kill.insert(id)
            } else if beats == limits.investigateAfter {
                investigate.insert(id)
            }
        }
        let effects = send(.heartbeat(seen))
        guard failure == nil else { return }
        let stopped = Set(effects.stopped)
        if stopped != kill {
            return fail("the beat stopped \(stopped.sorted()), the silence rule says \(kill.sorted())")
        }
        if Set(effects.alerts("killed").compactMap(\.agent)) != kill {
            return fail("killed alerts disagree with \(kill.sorted())")
        }
        if Set(effects.alerts("investigate").compactMap(\.agent)) != investigate {
            return fail("investigate alerts disagree with \(investigate.sorted())")
        }
    }

    /// The daemon dies and comes back: a scheduler rebuilt from the records as their meta.json
    /// objects give them back, then the `.recovered` and `.tick` the recovery sends.
    mutating func crash() {
        step += 1
        remember(nil)
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
        let rebuilt = Scheduler(limits: limits, records: records, seed: rng.next())
        if nonZero(rebuilt.used) != nonZero(scheduler.used)
            || nonZero(rebuilt.roleUsed) != nonZero(scheduler.roleUsed)
        {
            return fail("a rebuilt scheduler counts other budgets: \(rebuilt.used) vs \(scheduler.used)")
        }
        if rebuilt.queue != scheduler.queue {
            return fail("a rebuilt scheduler has another queue: \(rebuilt.queue) vs \(scheduler.queue)")
        }
        for (id, record) in scheduler.agents where rebuilt.agents[id]?.children != record.children {
            return fail(
                "the children of \(id) derived after a restart are \(rebuilt.agents[id]?.children ?? []), "
                    + "not \(record.children)")
        }
        scheduler = rebuilt
        silence = [:]
        send(.recovered)
        send(.tick)
    }

    /// Lets everything end: every process exits successfully, questions are answered, idle
    /// orchestrators are woken by heartbeats (and then succeed), backoffs are waited out. Then
    /// every task must be settled, every slot free and nothing left running.
    mutating func drain() {
        for _ in 0..<5_000 where failure == nil {
            if scheduler.isIdle && processes.isEmpty { break }
            if let id = processes.keys.sorted().first {
                finish(id, outcome: .succeeded)
            } else if let id = ids(where: { $0.state == .waiting }).first {
                send(.answered(id: id))
            } else if !ids(where: { $0.kind == .orchestrator && $0.state == .running && !$0.active }).isEmpty
            {
                now += limits.heartbeat
                send(.heartbeat([:]))
            } else if let due = scheduler.nextDeadline(after: now) {
                now = due
                send(.tick)
            } else {
                break
            }
        }
        guard failure == nil else { return }
        let left = ids { !$0.state.isSettled }
        if !left.isEmpty {
            return fail(
                "after the drain these never ended: " + left.map { describe($0) }.joined(separator: "; "))
        }
        if !processes.isEmpty { return fail("processes left after the drain: \(processes.keys.sorted())") }
        if !nonZero(scheduler.used).isEmpty || !nonZero(scheduler.roleUsed).isEmpty {
            return fail("slots still held after the drain: \(nonZero(scheduler.used))")
        }
    }

    // MARK: Events and failure messages

    /// Hands one event to the scheduler at `now`, checks the effects and the state.
    @discardableResult
    mutating func send(_ event: Event) -> [Effect] {
        if case .answered(let id) = event, scheduler.agents[id]?.state == .waiting { silence[id]?.beats = 0 }
        step += 1
        remember(event)
        var subject: AgentRecord?
        switch event {
        case .exited(let id, _), .startFailed(let id, _): subject = scheduler.agents[id]
        default: break
        }
        let effects = scheduler.handle(event, now: now)
        check(event, effects)
        if failure == nil, let before = subject {
            checkStopKept(event, before)
            checkBackoff(before)
        }
        return effects
    }

    /// Keeps the last events for the failure message.
    mutating func remember(_ event: Event?) {
        if verbose { print("t=\(now) #\(step) \(event.map(brief) ?? "crash")") }
        recent.append((now, step, event))
        if recent.count > 14 { recent.removeFirst() }
    }

    /// The last events, one line each.
    var trace: [String] {
        recent.map { "t=\($0.time) #\($0.step) " + ($0.event.map(brief) ?? "crash") }
    }

    /// Counts one occurrence of `key` (an effect or alert kind).
    mutating func count(_ key: String) { counts[key, default: 0] += 1 }

    /// Records the first broken invariant with the seed, the limits and the last events.
    mutating func fail(_ message: String) {
        guard failure == nil else { return }
        let hex = "0x" + String(seed, radix: 16)
        let l = limits
        failure =
            "simulation seed \(hex) (replay: add it to replaySeeds, or run Simulation(seed: \(hex)))"
            + " step \(step): \(message)\nlimits: maxSlots \(l.maxSlots) reserve \(l.reserve) "
            + "maxDepth \(l.maxDepth) investigate/kill/spin/loop/orphan "
            + "\(l.investigateAfter)/\(l.killAfter)/\(l.spinAfter)/\(l.loopAfter)/\(l.orphanAfter) "
            + "roleSlots \(l.roleSlots)\nlast events:\n  " + trace.joined(separator: "\n  ")
    }

    /// One line about an agent, for failure messages.
    func describe(_ id: String) -> String {
        guard let r = scheduler.agents[id] else { return "\(id) (unknown)" }
        let parentState = r.parent.flatMap { scheduler.agents[$0]?.state.rawValue } ?? "-"
        return "\(id) \(r.kind.rawValue) \(r.state.rawValue) active=\(r.active) "
            + "parent=\(r.parent ?? "-")(\(parentState)) slots=\(r.slots) "
            + "stopping=\(r.stopping?.rawValue ?? "-") wakes=\(r.pendingWakes) "
            + "notBefore=\(r.notBefore.map(String.init) ?? "-")"
    }
}
