import SwarmProtocol

/// Intake decisions and the budget rules: refuse what can never fit, queue what does not fit
/// now, start what does, best first.
extension Scheduler {
    mutating func arrive(_ incoming: AgentRecord) {
        var r = incoming
        r.sequence = nextSequence
        nextSequence += 1
        r.state = .queued
        if let reason = refusalReason(r) {
            effects.append(.refuse(r, reason: reason))
            emitAlert(.budgetRefused, r.parent, reason)
            if let parent = r.parent { refused(parent, name: r.id, reason: reason) }
            return
        }
        agents[r.id] = r
        unsettled += 1
        enqueue(r.id)
        noteBackoff(r)
        effects.append(.accept(id: r.id))
        if let parent = r.parent {
            update(parent, persist: false) { $0.children.append(r.id) }
        }
    }

    /// Records a refused child request with its orchestrator and wakes it.
    mutating func refused(_ parent: String, name: String, reason: String) {
        guard let p = agents[parent], !p.state.isSettled else { return }
        update(parent) { p in
            p.refusals.append(Refusal(name: name, reason: reason))
            p.pendingWakes.append(.refused(name))
        }
        settleCheck(parent: parent)
    }

    /// Why a request can never run under the current limits, or nil when it may wait its turn.
    public func refusalReason(_ r: AgentRecord) -> String? {
        if agents[r.id] != nil { return "the id \"\(r.id)\" is taken by another agent" }
        if r.depth > limits.maxDepth {
            return "\(r.id) would run at depth \(r.depth) but maxDepth is \(limits.maxDepth); "
                + "do this work in the requesting agent itself or raise maxDepth in swarm.json"
        }
        guard let parentID = r.parent else {
            let capacity = limits.topCapacity(for: r.priority)
            if r.footprint > capacity {
                return "\(r.id) needs \(r.footprint) slots (itself plus slots: \(r.slots)) but "
                    + "\(r.priority.rawValue) work may use at most \(capacity) of maxSlots "
                    + "\(limits.maxSlots); ask for slots: \(max(0, capacity - 1)) or fewer"
            }
            if let cap = limits.roleSlots[r.role], r.footprint > cap {
                return "\(r.id) needs \(r.footprint) slots but role \(r.role) may hold at most "
                    + "\(cap) (roleSlots in swarm.json); ask for slots: \(max(0, cap - 1)) or fewer"
            }
            return nil
        }
        guard let parent = agents[parentID] else {
            return "the requesting agent \(parentID) is unknown"
        }
        if parent.state.isSettled {
            return "the requesting agent \(parentID) has already ended (\(parent.state.rawValue))"
        }
        if parent.stopping != nil {
            return "the requesting agent \(parentID) is being stopped"
        }
        if parent.kind == .worker {
            return "\(parentID) is a worker and has no slots for children; "
                + "use an orchestrator template to fan out"
        }
        if r.footprint > parent.slots {
            let fits = parent.slots - 1
            return "\(r.id) needs \(r.footprint) slots but \(parentID) has a budget of "
                + "\(parent.slots)"
                + (fits >= 0 && r.kind == .orchestrator
                    ? "; ask for slots: \(fits) or fewer" : "; ask the parent for a larger budget")
        }
        return nil
    }

    /// The pool a request draws from, for head-of-line fairness inside one pool.
    private func poolKey(_ r: AgentRecord) -> String {
        if let parent = r.parent { return "agent:" + parent }
        if let cap = limits.roleSlots[r.role],
            roleUsed[r.role, default: 0] + r.footprint > cap
        {
            return "role:" + r.role
        }
        return "top"
    }

    /// True when the request fits its parent's budget (and, at the top, the reserve rule and
    /// its role's cap) now.
    public func fits(_ r: AgentRecord) -> Bool {
        if let parentID = r.parent {
            guard let parent = agents[parentID], parent.holdsSlots, parent.stopping == nil else {
                return false
            }
            return used[parentID, default: 0] + r.footprint <= parent.slots
        }
        if used["", default: 0] + r.footprint > limits.topCapacity(for: r.priority) { return false }
        if let cap = limits.roleSlots[r.role], roleUsed[r.role, default: 0] + r.footprint > cap {
            return false
        }
        return true
    }

    /// Wakes the orchestrators whose wake-up waited for an upstream, then starts queued agents
    /// that fit, best first. Once something does not fit in a pool, nothing ordered after it
    /// may take that pool's slots, so big requests are not starved.
    mutating func admit() {
        guard !startsHeld else { return }
        wakeAwaitingUpstream()
        while admitPass() {}
    }

    /// Tries again the wake-ups that found no usable upstream (one may be usable now: a
    /// breaker turned half-open, a run ended, a person reset it, the limits changed).
    private mutating func wakeAwaitingUpstream() {
        if wakesAwaitingUpstream == nil {
            wakesAwaitingUpstream = Set(
                agents.values.filter {
                    $0.kind == .orchestrator && $0.state == .running && !$0.active && !$0.pendingWakes.isEmpty
                }.map(\.id))
        }
        guard let waiting = wakesAwaitingUpstream, !waiting.isEmpty else { return }
        wakesAwaitingUpstream = []
        for id in waiting.sorted() { wakeIfNeeded(id) }
    }

    /// One pass over the queue; true when it started something (which may let a child of a
    /// just-started orchestrator fit, so another pass follows).
    private mutating func admitPass() -> Bool {
        var started = false
        var blocked = Set<String>()
        for id in queue {
            guard let r = agents[id], r.state == .queued else { continue }
            if let due = r.notBefore, due > now { continue }
            let key = poolKey(r)
            if blocked.contains(key) {
                if key == "top" && queuedChildren == 0 && limits.roleSlots.isEmpty { break }
                continue
            }
            if !router.isEmpty
                && router.candidate(
                    preferred: r.preferredUpstreams, minimumContext: r.minimumContext,
                    waitsForPreferred: r.priority == .background, now: now) == nil
            {
                continue
            }
            if fits(r) {
                startAttempt(id)
                started = true
            } else {
                blocked.insert(key)
            }
        }
        return started && queuedChildren > 0
    }

    mutating func startAttempt(_ id: String) {
        update(id, persist: false) { r in
            r.state = .running
            r.attempts += 1
            r.notBefore = nil
            r.stopping = nil
            r.pendingWakes = []
        }
        run(id, wake: [.start])
    }

    /// Runs the agent's command once more (the first run of an attempt, or a wake-up). With
    /// upstreams configured, the run takes one; returns false when none is usable now.
    @discardableResult
    mutating func run(_ id: String, wake: [WakeReason]) -> Bool {
        var upstream: String?
        if !router.isEmpty {
            let r = agents[id]
            let avoid = r?.lastFailureKind == .upstream ? r?.upstream : nil
            guard
                let chosen = router.acquire(
                    preferred: r?.preferredUpstreams ?? [], avoiding: avoid,
                    minimumContext: r?.minimumContext,
                    waitsForPreferred: r?.priority == .background, agent: id, now: now)
            else { return false }
            upstream = chosen
        }
        let time = now
        update(id, persist: false) { r in
            r.upstream = upstream
            r.active = true
            r.runs += 1
            r.startedAt = time
            r.pid = nil
            r.job = nil
            r.jobState = nil
            r.liveness = Liveness()
            r.pendingWakes = []
        }
        effects.append(.start(id: id, wake: wake))
        for case .childSettled(let child) in wake { consume(child) }
        return true
    }
}
