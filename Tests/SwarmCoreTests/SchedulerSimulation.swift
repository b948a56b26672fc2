import SwarmCore
import SwarmProtocol

/// One line of the trace: an event, or something done around the scheduler.
enum SimStep {
    case event(Event)
    /// The daemon died and came back from every record (`lossy` false) or from what the
    /// shell had written, less the writes it defers (`lossy` true).
    case crash(lossy: Bool)
    case reset(String)
    case limits(String)
}

/// A tiny fake shell around the pure scheduler, driven by a seeded generator: it turns
/// effects into later events (start -> started/startFailed/startDeferred, stop -> exit), lets
/// running agents exit with random outcomes (upstream failures of every class included),
/// sends kills, retries, questions, answers, usage reports, Slurm job states, heartbeats
/// with random evidence, new tasks and spawn requests, status page readings, usage limits,
/// resets upstreams, reloads the limits,
/// moves time forward, and now and then "crashes": rebuilds the scheduler from the records
/// read back as meta.json, or from the records the shell had written when it died. After
/// every event it checks the invariants; `drain` then lets everything finish and checks that
/// every task ended.
///
/// Everything comes from `seed`: `Simulation(seed: s).run(steps: n)` replays a run exactly.
struct Simulation {
    let seed: UInt64
    var rng: SplitMix64
    /// The limits now (`changeLimits` reloads them).
    var limits: Limits
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
    var starts = 0
    /// The last steps, formatted only when a run fails.
    var recent: [(time: Millis, step: Int, entry: SimStep)] = []
    /// The first broken invariant, with the seed and the last events.
    var failure: String?
    /// How often each effect and alert kind appeared, to see that the run exercised them.
    var counts: [String: Int] = [:]
    /// The silence rule as the simulation models it: the evidence last judged and the silent
    /// beats since, per agent whose command runs.
    var silence: [String: (evidence: Evidence, beats: Int)] = [:]
    /// Prints every event, for studying one seed.
    var verbose = false
    /// Agents whose runs the simulated launcher makes Slurm batch jobs.
    var batch: Set<String> = []
    var nextJob = 0
    /// What Slurm last said of each agent's current job, as the scheduler was told.
    var jobStates: [String: String] = [:]
    /// Usage the agents really reported (`truth`), and what the scheduler must know of it
    /// (`known`: the same, until a crash loses writes).
    var truth: [String: SimUsage] = [:]
    var known: [String: SimUsage] = [:]
    /// The shell's writes: the record each meta.json holds, and the first-run starts whose
    /// write waits (since when).
    var persisted: [String: AgentRecord] = [:]
    var deferred: [String: Millis] = [:]
    /// Agents that ended done: they stay done.
    var done: Set<String> = []
    /// After the limits were lowered under what already runs: the most each budget may hold
    /// until it has come down to its new limit (running agents are never stopped for it).
    var tolerance: [String: Int] = [:]

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
        if chance(60) {
            self.limits.upstreams = randomUpstreams()
            self.limits.breaker = randomBreaker()
            scheduler = Scheduler(limits: self.limits, seed: seed)
        }
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
    /// kind of failure; with upstreams configured, upstream failures are more frequent.
    mutating func randomOutcome(for kind: AgentKind) -> Outcome {
        var upstream = Outcome.upstreamFailed(
            pick(UpstreamErrorClass.allCases) ?? .unknown, reason: "api",
            retryAfter: chance(50) ? Millis(int(0...3) * 1_000) : nil)
        if chance(20) {
            // a subscription's usage limit, with or without a reset time, now and then for good
            let reset: Millis? = chance(70) ? now + Millis(int(-2_000...20_000)) : nil
            upstream = .usageLimited(reason: "usage limit reached", resetsAt: reset, resumes: chance(85))
        }
        if !limits.upstreams.isEmpty && chance(15) { return upstream }
        let roll = int(0...99)
        let failureKind = pick(FailureKind.allCases.filter { $0 != .killed }) ?? .exit
        let failed = Outcome.failed(failureKind, reason: "\(failureKind.rawValue) failure")
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
        writeAgedStarts()
        // A stopped process tree always dies, a few events later.
        for id in processes.keys where processes[id]?.stopRequested == true { processes[id]?.stopAge += 1 }
        if let id = processes.keys.sorted().first(where: {
            processes[$0]!.stopRequested && processes[$0]!.stopAge > 3
        }) {
            finish(id)
            return
        }
        now += Millis(int(0...400))
        // a tree that takes no writes soon takes them again (the disk was freed)
        if scheduler.startsHeld && chance(25) {
            send(.storage(writable: true))
            return
        }
        let roll = int(0...99)
        switch roll {
        case 0..<9: arriveTopLevel()
        case 9..<22: spawnChild()
        case 22..<36: deliverStart()
        case 36..<52: if let id = pick(processes.keys.sorted()) { finish(id) } else { tick() }
        case 52..<60: heartbeat()
        case 60..<63: tick()
        case 63..<66:
            let id = chance(70) ? pick(ids { !$0.state.isSettled }) : pick(ids())
            send(.killRequested(id: id ?? "nobody"))
        case 66..<69:
            let id = chance(80) ? pick(ids { $0.state.isSettled }) : pick(ids())
            send(.retryRequested(id: id ?? "nobody"))
        case 69..<72:
            if let id = pick(ids { $0.state == .running }) { send(.asked(id: id)) } else { tick() }
        case 72..<75:
            if let id = pick(ids { $0.state == .waiting }) { send(.answered(id: id)) } else { tick() }
        case 75..<77:
            if let id = pick(ids { $0.state == .done }) { send(.consumed(id: id)) } else { tick() }
        case 77..<78:
            let parent = pick(ids { $0.kind == .orchestrator }) ?? "ghost"
            nextName += 1
            send(.rejected(parent: parent, name: "bad\(nextName)", reason: "unreadable front matter"))
        case 78..<79: crash()
        case 79..<80: crashLosingDeferredWrites()
        case 80..<86: reportUsage()
        case 86..<88: reportJobState()
        case 88..<89: resetUpstream()
        case 89..<90: changeLimits()
        case 90..<91: storage()
        case 91..<93:
            // a person's message, mostly to an idle orchestrator (which it wakes)
            let idle = pick(ids { $0.kind == .orchestrator && !$0.active && !$0.state.isSettled })
            send(.messaged(id: (chance(70) ? idle : pick(ids())) ?? "nobody"))
        case 93..<96:
            if limits.upstreams.isEmpty { tick() } else { statusPage() }
        default: tick()
        }
    }

    /// The tree stops taking writes (a write failed); while it takes none, the scheduler starts
    /// nothing.
    mutating func storage() {
        send(.storage(writable: false))
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
        send(.arrived(withBudgetsAndUpstream(record)))
    }

    /// A spawn request, mostly from a running orchestrator, now and then from a queued one (the
    /// child waits for its parent's start), any agent (but one whose start is not reported
    /// yet) or an unknown one; its size may not fit the parent.
    mutating func spawnChild() {
        // only a command that runs asks for children
        let running = ids { $0.kind == .orchestrator && $0.active && $0.state == .running }.filter {
            processes[$0]?.reported == true
        }
        let queued = ids { $0.kind == .orchestrator && $0.state == .queued }
        let others = ids().filter { processes[$0].map(\.reported) ?? true } + ["ghost"]
        let roll = int(0...99)
        guard let parent = roll < 80 ? pick(running) : roll < 88 ? pick(queued) : pick(others) else {
            return tick()
        }
        let p = scheduler.agents[parent]
        let kind: AgentKind = chance(30) ? .orchestrator : .worker
        let record = task(
            freshOrTakenID("c"), parent: parent, depth: (p?.depth ?? 1) + 1, kind: kind,
            slots: kind == .orchestrator ? int(0...max(0, p?.slots ?? 2)) : 0, priority: randomPriority(),
            policy: randomPolicy(), at: now)
        send(.arrived(withBudgetsAndUpstream(record)))
    }

    /// Lets everything end: every process exits successfully, questions are answered, idle
    /// orchestrators are woken by heartbeats (and then succeed), backoffs are waited out. Then
    /// every task must be settled, every slot free and nothing left running.
    mutating func drain() {
        for _ in 0..<5_000 where failure == nil {
            if scheduler.isIdle && processes.isEmpty { break }
            if scheduler.startsHeld {
                send(.storage(writable: true))
            } else if releaseHeldUpstreams() {
                continue
            } else if let disabled = scheduler.router.upstreams.first(where: { $0.disabled != nil }) {
                resetUpstream(disabled.spec.name)
            } else if let id = processes.keys.sorted().first {
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
    mutating func send(_ event: Event) -> [Effect] { deliver(event, as: .event(event)) }

    /// Hands `event` to the scheduler (or, for `.reset`, resets that upstream), keeps the
    /// models of usage, jobs and writes, and checks the effects and the state.
    @discardableResult
    mutating func deliver(_ event: Event, as entry: SimStep) -> [Effect] {
        if case .answered(let id) = event, scheduler.agents[id]?.state == .waiting { silence[id]?.beats = 0 }
        step += 1
        remember(entry)
        var subject: AgentRecord?
        switch event {
        case .exited(let id, _), .startFailed(let id, _): subject = scheduler.agents[id]
        default: break
        }
        let routerBefore = scheduler.router
        let deferrable = deferredStart(event)
        let reporters = noteUsage(event)
        let effects: [Effect]
        if case .reset(let name) = entry {
            effects = scheduler.resetUpstream(name, now: now)
        } else {
            effects = scheduler.handle(event, now: now)
        }
        noteWrites(effects, deferring: deferrable)
        noteJobs(event, effects)
        if case .exited(let id, .upstreamFailed(let errorClass, _, _)) = event, let before = subject,
            before.stopping == nil, let upstream = before.upstream, routerBefore.isProbe(upstream, agent: id),
            [.overloaded, .connection, .quotaExhausted].contains(errorClass)
        {
            // a failed half-open probe gives its attempt back
            counters[id]?.attempts -= 1
            count("failed-probe")
        }
        if case .exited(let id, .upstreamFailed) = event, let upstream = subject?.upstream,
            let after = scheduler.agents[id], after.active, after.upstream != upstream
        {
            count("upstream-retry-elsewhere")
        }
        if case .exited(let id, let outcome) = event, let before = subject {
            checkUsageLimit(id, outcome, before: before, effects)
        }
        check(event, effects)
        if failure == nil, let before = subject {
            checkStopKept(event, before)
            checkBackoff(before)
        }
        // a reset, or a page that says the outage is over, may let runs onto what was open
        if failure == nil {
            checkRouter(before: routerBefore, effects, trustBefore: !isReset(entry) && !isStatusPage(event))
        }
        if failure == nil { checkUsage(reporters, effects) }
        if failure == nil { noteBackgroundWaits() }
        if failure == nil { checkJobs() }
        if failure == nil { checkCounters() }
        return effects
    }

    /// Keeps the last steps for the failure message.
    mutating func remember(_ entry: SimStep) {
        if verbose { print("t=\(now) #\(step) \(describe(entry))") }
        recent.append((now, step, entry))
        if recent.count > 14 { recent.removeFirst() }
    }

    /// The last events, one line each.
    var trace: [String] {
        recent.map { "t=\($0.time) #\($0.step) " + describe($0.entry) }
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
            + "roleSlots \(l.roleSlots) upstreams \(l.upstreams.map(describe))\nlast events:\n  "
            + trace.joined(separator: "\n  ")
    }

    /// One line about an agent, for failure messages.
    func describe(_ id: String) -> String {
        guard let r = scheduler.agents[id] else { return "\(id) (unknown)" }
        let parentState = r.parent.flatMap { scheduler.agents[$0]?.state.rawValue } ?? "-"
        return "\(id) \(r.kind.rawValue) \(r.state.rawValue) active=\(r.active) "
            + "parent=\(r.parent ?? "-")(\(parentState)) slots=\(r.slots) "
            + "stopping=\(r.stopping?.rawValue ?? "-") wakes=\(r.pendingWakes) "
            + "notBefore=\(r.notBefore.map(String.init) ?? "-") upstream=\(r.upstream ?? "-") "
            + "tokens=\(r.tokensUsed)+\(r.runTokens) budget=\(r.tokenBudget.map(String.init) ?? "-")"
    }

    /// One line of the trace.
    func describe(_ entry: SimStep) -> String {
        switch entry {
        case .event(let event): brief(event)
        case .crash(let lossy): lossy ? "crash, losing the deferred writes" : "crash"
        case .reset(let name): "swarm upstream reset \(name)"
        case .limits(let text): "limits reloaded: \(text)"
        }
    }

    /// True for a status page reading.
    func isStatusPage(_ event: Event) -> Bool {
        if case .statusPage = event { true } else { false }
    }

    /// True for a person's upstream reset.
    func isReset(_ entry: SimStep) -> Bool {
        if case .reset = entry { true } else { false }
    }
}
