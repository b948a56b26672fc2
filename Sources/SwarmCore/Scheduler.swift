import SwarmProtocol

/// The pure scheduler: `(state, event, now) -> (state, [effect])`.
///
/// It owns every agent record, the queue and the budget counters. It reads no clock, touches
/// no file and starts no process: the shell feeds it events and carries out its effects.
public struct Scheduler: Sendable {
    /// Every agent the runtime knows, by id.
    public internal(set) var agents: [String: AgentRecord] = [:]
    public internal(set) var limits: Limits
    /// Queued agents, best first: priority, then arrival.
    public internal(set) var queue: [String] = []
    /// Slots held by the direct children of each parent ("" is the top).
    public internal(set) var used: [String: Int] = [:]
    /// Slots held by top-level agents of each role.
    public internal(set) var roleUsed: [String: Int] = [:]
    /// Upstream choice and circuit breakers.
    public internal(set) var router: UpstreamRouter
    var nextSequence = 1
    /// When each queued agent waiting out a backoff may start (its `notBefore`), so that the
    /// next deadline never walks the whole queue.
    var backoffs: [String: Millis] = [:]
    /// Queued agents that have a parent: when none and the top pool is full, admission can
    /// stop looking.
    var queuedChildren = 0
    /// Agents that are queued, running or waiting: none means idle.
    var unsettled = 0
    /// True while the tree takes no writes: nothing starts (`.storage`).
    public internal(set) var startsHeld = false
    /// Idle orchestrators whose wake-up found no usable upstream: admission tries them again.
    /// Nil until first taken from the records (a rebuilt scheduler may start with some).
    var wakesAwaitingUpstream: Set<String>?
    var random: SplitMix64
    var effects: [Effect] = []
    var now: Millis = 0

    /// A scheduler over `records` (meta.json files read back after a restart, or none).
    public init(limits: Limits, records: [AgentRecord] = [], seed: UInt64 = 0x5EED) {
        self.limits = limits
        self.random = SplitMix64(seed: seed)
        self.router = UpstreamRouter(limits.upstreams, policy: limits.breaker, seed: seed ^ 0xB4EA)
        for var record in records {
            record.children = []
            agents[record.id] = record
        }
        // the hierarchy lives in one place, each child's `parent`; every list of children is
        // derived from it, in arrival order
        for record in records.sorted(by: { $0.sequence < $1.sequence }) {
            guard let parent = record.parent, agents[parent] != nil else { continue }
            agents[parent]!.children.append(record.id)
        }
        nextSequence = (records.map(\.sequence).max() ?? 0) + 1
        for record in records.sorted(by: { $0.depth > $1.depth }) where record.holdsSlots {
            adjustUsage(record, by: record.footprint)
        }
        queue = records.filter { $0.state == .queued }.map(\.id)
        queue.sort(by: queueOrder)
        queuedChildren = records.filter { $0.state == .queued && $0.parent != nil }.count
        for record in records { noteBackoff(record) }
        unsettled = records.filter { !$0.state.isSettled }.count
        var inFlight: [String: Int] = [:]
        for record in records where record.active { inFlight[record.upstream ?? "", default: 0] += 1 }
        router.restore(inFlight: inFlight)
    }

    /// Applies one event at time `now` and returns what the shell must do, in order.
    public mutating func handle(_ event: Event, now: Millis) -> [Effect] {
        self.now = now
        effects = []
        switch event {
        case .arrived(let record): arrive(record)
        case .rejected(let parent, let name, let reason): refused(parent, name: name, reason: reason)
        case .started(let id, let pid, let confinement, let job, let resumed):
            started(id, pid: pid, job: job, confinement: confinement, resumed: resumed)
        case .jobState(let id, let state): jobState(id, state)
        case .startDeferred(let id, let until, let reason): startDeferred(id, until: until, reason: reason)
        case .startFailed(let id, let reason): startFailed(id, reason: reason)
        case .notStarted(let id, let wake, _): notStarted(id, wake: wake)
        case .storage(let writable): storage(writable: writable)
        case .exited(let id, let outcome): exited(id, outcome: outcome)
        case .usage(let id, let tokens, let cost): reportUsage(id, tokens: tokens, cost: cost)
        case .asked(let id): asked(id)
        case .answered(let id): answered(id)
        case .heartbeat(let evidence): heartbeat(evidence)
        case .tick: break
        case .recovered: recovered()
        case .killRequested(let id): kill(id, reason: .operatorKill)
        case .retryRequested(let id): retry(id)
        case .consumed(let id): consume(id)
        case .messaged(let id): messaged(id)
        case .session(let id, let session): recordSession(id, session)
        case .statusPage(let upstream, let verdict): statusPage(upstream, verdict)
        }
        resumeParked()
        admit()
        let out = effects
        effects = []
        return out
    }

    /// Replaces the limits (a reloaded swarm.json). Running agents are never stopped for it.
    public mutating func updateLimits(_ newLimits: Limits) {
        if newLimits.upstreams != limits.upstreams || newLimits.breaker != limits.breaker {
            router = UpstreamRouter(newLimits.upstreams, policy: newLimits.breaker)
            var inFlight: [String: Int] = [:]
            for record in agents.values where record.active {
                inFlight[record.upstream ?? "", default: 0] += 1
            }
            router.restore(inFlight: inFlight)
        }
        limits = newLimits
    }

    /// A person reset an upstream (`swarm upstream reset NAME`).
    public mutating func resetUpstream(_ name: String, now: Millis) -> [Effect] {
        self.now = now
        effects = []
        if router.reset(name) { emitAlert(.upstreamRecovered, nil, "upstream \(name) was reset by a person") }
        resumeParked()
        admit()
        let out = effects
        effects = []
        return out
    }

    /// The earliest time after `now` when something waiting on time may move: a queued retry's
    /// backoff ends, an open breaker turns half-open or a parked upstream's limit resets.
    public func nextDeadline(after now: Millis) -> Millis? {
        var times = Array(backoffs.values)
        times += router.breakers.values.compactMap {
            $0.state == .open && $0.heldBy == nil ? $0.openUntil : nil
        }
        times += router.upstreams.compactMap { $0.parked?.until }
        return times.filter { $0 > now }.min()
    }

    /// True when no agent is queued, running or waiting.
    public var isIdle: Bool { unsettled == 0 }

    /// Agents whose command runs now.
    public var activeAgents: [AgentRecord] {
        agents.values.filter(\.active)
    }

    // MARK: Record updates that keep the budget counters true

    /// Whether an agent holds its footprint in its parent's budget: while it runs (see
    /// `holdsSlots`), and for an orchestrator also while any child still holds slots of its
    /// budget, so that an ended orchestrator's slots come back only when its last child is gone.
    func holds(_ r: AgentRecord) -> Bool {
        r.holdsSlots || (r.kind == .orchestrator && used[r.id, default: 0] > 0)
    }

    mutating func adjustUsage(_ r: AgentRecord, by delta: Int) {
        guard let parentID = r.parent, let parent = agents[parentID] else {
            used["", default: 0] += delta
            roleUsed[r.role, default: 0] += delta
            return
        }
        let before = holds(parent)
        used[parentID, default: 0] += delta
        let after = holds(parent)
        if before != after { adjustUsage(parent, by: after ? parent.footprint : -parent.footprint) }
    }

    /// Changes one record through `body`, keeping the counters and the queue in step.
    mutating func update(_ id: String, persist: Bool = true, _ body: (inout AgentRecord) -> Void) {
        guard var r = agents[id] else { return }
        let held = holds(r)
        let wasQueued = r.state == .queued
        let wasSettled = r.state.isSettled
        body(&r)
        agents[id] = r
        let holdsNow = holds(r)
        if held != holdsNow { adjustUsage(r, by: holdsNow ? r.footprint : -r.footprint) }
        let queuedNow = r.state == .queued
        if wasSettled != r.state.isSettled { unsettled += wasSettled ? 1 : -1 }
        if wasQueued && !queuedNow {
            if let index = queue.firstIndex(of: id) { queue.remove(at: index) }
            if r.parent != nil { queuedChildren -= 1 }
        }
        if !wasQueued && queuedNow { enqueue(id) }
        noteBackoff(r)
        if persist { effects.append(.persist(id: id)) }
    }

    /// Keeps `backoffs` in step with `r`: listed while it is queued with a `notBefore`.
    mutating func noteBackoff(_ r: AgentRecord) {
        backoffs[r.id] = r.state == .queued ? r.notBefore : nil
    }

    func queueOrder(_ a: String, _ b: String) -> Bool {
        guard let x = agents[a], let y = agents[b] else { return a < b }
        if x.priority.rank != y.priority.rank { return x.priority.rank < y.priority.rank }
        return x.sequence < y.sequence
    }

    /// Puts `id` into the queue after every agent that goes before it (`queueOrder`), by
    /// binary search: the queue is kept in that order.
    mutating func enqueue(_ id: String) {
        if agents[id]?.parent != nil { queuedChildren += 1 }
        var low = queue.startIndex
        var high = queue.endIndex
        while low < high {
            let middle = low + (high - low) / 2
            if queueOrder(id, queue[middle]) { high = middle } else { low = middle + 1 }
        }
        queue.insert(id, at: low)
    }

    mutating func emitAlert(_ kind: AlertKind, _ agent: String?, _ message: String) {
        effects.append(.alert(Alert(time: now, kind: kind, agent: agent, message: message)))
    }
}
