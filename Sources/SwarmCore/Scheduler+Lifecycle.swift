import SwarmProtocol

/// What happens when a command starts, ends, fails, is killed or retried; how orchestrators
/// are woken and told that their children settled.
extension Scheduler {
    mutating func started(
        _ id: String, pid: Int32?, job: String?, confinement: RunConfinement?, resumed: Bool
    ) {
        guard agents[id]?.active == true else { return }
        update(id) { r in
            r.pid = pid
            r.job = job
            r.resumed = resumed
            if let confinement { r.confinement = confinement }
        }
    }

    mutating func jobState(_ id: String, _ state: String) {
        guard let r = agents[id], r.active, r.job != nil, r.jobState != state else { return }
        update(id) { $0.jobState = state }
    }

    mutating func startDeferred(_ id: String, until: Millis, reason: String) {
        guard let r = agents[id], r.active else { return }
        // only a worker's run goes back to the queue; anything else (an orchestrator, which may
        // have children by now, a run being stopped, one that asked a question meanwhile)
        // fails as a start
        guard r.kind == .worker, r.state == .running, r.stopping == nil, r.attempts > 0, r.runs > 0 else {
            startFailed(id, reason: reason)
            return
        }
        if let upstream = r.upstream { router.release(upstream, agent: id) }
        update(id) { r in
            r.endRun()
            r.state = .queued
            r.attempts -= 1
            r.runs -= 1
            r.notBefore = until
            // a retry keeps the failure that ended the attempt before, which a resumed session
            // is told (`ResumeRule`); a first attempt says why it waits
            if r.attempts == 0 || r.lastFailureKind == nil { r.lastFailure = "not started yet: \(reason)" }
        }
    }

    mutating func notStarted(_ id: String, wake: [WakeReason]) {
        startsHeld = true
        guard let r = agents[id], r.active else { return }
        // a stop asked for meanwhile (a kill, its orchestrator's end) ends it as a run that
        // never began
        guard r.stopping == nil else { return startFailed(id, reason: "its start could not be recorded") }
        if let upstream = r.upstream { router.release(upstream, agent: id) }
        let firstRun = wake == [.start]
        update(id) { r in
            r.endRun()
            r.runs -= 1
            if firstRun {
                r.state = .queued
                r.attempts -= 1
            } else {
                r.pendingWakes = wake + r.pendingWakes.filter { !wake.contains($0) }
            }
        }
    }

    mutating func storage(writable: Bool) {
        startsHeld = !writable
        guard writable else { return }
        for id in agents.keys.sorted() { wakeIfNeeded(id) }
    }

    mutating func startFailed(_ id: String, reason: String) {
        guard let r = agents[id], r.active else { return }
        if let upstream = r.upstream { router.release(upstream, agent: id) }
        update(id, persist: false) { $0.endRun() }
        switch r.stopping {
        case .operatorKill?: settle(id, .killed, reason: "killed by a person (swarm kill)")
        case .parentEnded?: settle(id, .killed, reason: "its orchestrator \(r.parent ?? "") ended first")
        default: fail(id, .exit, "the command could not be started: \(reason)")
        }
    }

    mutating func exited(_ id: String, outcome reported: Outcome) {
        guard let before = agents[id], before.active else { return }
        var outcome = reported
        if case .upstreamFailed(.usageLimit, let reason, let after) = reported {
            outcome = .usageLimited(reason: reason, resetsAt: after.map { now + $0 }, resumes: true)
        }
        update(id, persist: false) { $0.endRun() }
        let probe = before.upstream.map { router.isProbe($0, agent: id) } ?? false
        if let upstream = before.upstream {
            report(outcome, of: id, on: upstream, stopped: before.stopping != nil)
        }
        switch before.stopping {
        case .operatorKill?:
            settle(id, .killed, reason: "killed by a person (swarm kill)")
            return
        case .parentEnded?:
            settle(id, .killed, reason: "its orchestrator \(before.parent ?? "") ended first")
            return
        case .stuck?:
            fail(
                id, .killed,
                "no sign of life for \(limits.killAfter) heartbeats; killed with its process tree")
            return
        case .overBudget?:
            fail(id, .budget, "over budget: \(before.lastFailure ?? "its usage passed its budget")")
            return
        case .shutdown?, nil:
            break
        }
        switch outcome {
        case .succeeded:
            settle(id, .done, reason: nil)
        case .noResult(let status, let clean):
            if before.kind == .orchestrator && clean {
                update(id) { $0.state = before.state == .waiting ? .waiting : .running }
                wakeIfNeeded(id)
            } else {
                fail(id, .exit, "the command ended (\(status)) without writing results.json")
            }
        case .failed(let kind, let reason):
            if kind == .contract { emitAlert(.contractViolation, id, reason) }
            fail(id, kind, reason)
        case .upstreamFailed(let errorClass, let reason, let retryAfter):
            if probe && [.overloaded, .connection, .quotaExhausted].contains(errorClass) {
                // a failed half-open probe says the outage goes on; it costs the task no
                // attempt, so no task is dead-lettered by an outage alone
                update(id, persist: false) { $0.attempts = max(0, $0.attempts - 1) }
            }
            failUpstream(id, errorClass, reason, retryAfter: retryAfter)
        case .usageLimited(let reason, _, _):
            limitHit(id, reason: reason)
        }
    }

    /// Tells the router how a run on `upstream` went and turns its notes into alerts.
    private mutating func report(_ outcome: Outcome, of id: String, on upstream: String, stopped: Bool) {
        var notes: [RouterNote] = []
        switch outcome {
        case .succeeded where !stopped:
            notes = router.succeeded(upstream, agent: id, now: now)
        case .upstreamFailed(let errorClass, let reason, let retryAfter) where !stopped:
            notes = router.failed(
                upstream, agent: id, errorClass: errorClass, reason: reason, retryAfter: retryAfter, now: now)
        case .usageLimited(let reason, let resetsAt, let resumes) where !stopped:
            router.release(upstream, agent: id)
            notes = router.park(
                upstream, reason: reason, until: parkingEnd(resetsAt), resumes: resumes, now: now)
        default:
            router.release(upstream, agent: id)
        }
        announce(notes)
    }

    /// Turns the router's notes into alerts.
    mutating func announce(_ notes: [RouterNote]) {
        for note in notes {
            switch note {
            case .opened(let domain, let reason, let until):
                let fallback = router.candidate(preferred: [], now: now)
                emitAlert(
                    .upstreamIncident, nil,
                    "upstream domain \(domain) is failing (\(reason)); its breaker is open for "
                        + "\((until - now + 999) / 1000)s and runs go to "
                        + (fallback.map { "upstream \($0)" } ?? "no other upstream: work waits in the queue"))
            case .closed(let domain):
                emitAlert(
                    .upstreamRecovered, nil, "upstream domain \(domain) answers again; its breaker is closed")
            case .disabled(let name, let reason):
                emitAlert(
                    .upstreamDisabled, nil,
                    "upstream \(name) refused our credentials or configuration (\(reason)); it stays out until "
                        + "`swarm upstream reset \(name)`")
            case .throttled:
                break
            case .pageOutage(let domain, let upstream, let detail):
                announcePageOutage(domain: domain, upstream: upstream, detail: detail)
            case .parked(let upstream, let reason, let until):
                announceParking(upstream: upstream, reason: reason, until: until)
            case .resumed(let upstream, let since):
                emitAlert(
                    .upstreamRecovered, nil,
                    "upstream \(upstream)'s usage limit has reset (parked since "
                        + "\(Timestamp.iso8601(milliseconds: since))); it is back in service")
            }
        }
    }

    /// An attempt failed because of its upstream. Auth, bad or oversized requests are not
    /// retried on any upstream; rate limits wait (retry-after honoured, capped); outages retry at once
    /// when another upstream is healthy, else after the backoff.
    mutating func failUpstream(
        _ id: String, _ errorClass: UpstreamErrorClass, _ reason: String, retryAfter: Millis?
    ) {
        guard let r = agents[id] else { return }
        let text = "\(errorClass.rawValue): \(reason)"
        switch errorClass {
        case .contextTooLong:
            // retried only where a larger context is declared; otherwise it would fail anywhere
            let needed = (r.upstream.flatMap { router.context(of: $0) } ?? 0) + 1
            if router.offersContext(needed) {
                update(id, persist: false) { $0.minimumContext = needed }
                fail(id, .upstream, text + "; retried on an upstream with a larger context", delay: 0)
            } else {
                fail(id, .error, text)
            }
        case .auth, .badOutput, .unknown:
            fail(id, .error, text)
        case .rateLimited:
            let wait = min(
                max(retryAfter ?? 0, backoff(after: r.attempts, policy: r.policy)),
                router.policy.maxRetryAfter)
            fail(id, .upstream, text, delay: wait)
        case .quotaExhausted, .overloaded, .connection, .usageLimit:
            let elsewhere = router.alternative(to: r.upstream, now: now) != nil
            fail(id, .upstream, text, delay: elsewhere ? 0 : nil)
        }
    }

    /// Applies the failure policy of the agent's template to one failed attempt.
    mutating func fail(_ id: String, _ kind: FailureKind, _ reason: String, delay chosen: Millis? = nil) {
        guard let r = agents[id] else { return }
        if let parent = r.parent, agents[parent]?.state.isSettled ?? true {
            settle(id, .killed, reason: "\(reason); not retried: its orchestrator \(parent) has ended")
            return
        }
        let action = r.policy.action(for: kind)
        switch action {
        case .retry(let retries) where r.attempts <= retries:
            let delay = chosen ?? backoff(after: r.attempts, policy: r.policy)
            stopDescendants(of: id)
            let due = now + delay
            update(id) { r in
                r.state = .queued
                r.notBefore = due
                r.lastFailure = reason
                r.lastFailureKind = kind
            }
        case .retry, .deadLetter:
            let why = "\(kind.rawValue): \(reason) (after \(r.attempts) attempt\(r.attempts == 1 ? "" : "s"))"
            settle(id, .deadLetter, reason: why, kind: kind)
            effects.append(.deadLetter(id: id, reason: why))
            emitAlert(.deadLetter, id, why)
        case .skip:
            settle(id, .skipped, reason: reason, kind: kind)
        case .fail:
            settle(id, .failed, reason: reason, kind: kind)
        }
    }

    /// The policy's capped exponential backoff (`FailurePolicy.backoffCeiling`) with full
    /// jitter, never shorter than the base (so one task cannot restart in a tight loop).
    mutating func backoff(after attempts: Int, policy: FailurePolicy) -> Millis {
        let ceiling = policy.backoffCeiling(attempt: attempts)
        return max(max(1, policy.backoffBaseMilliseconds), random.next(upTo: ceiling))
    }

    /// Ends an agent for good and tells its parent.
    mutating func settle(
        _ id: String, _ state: AgentState, reason: String?, kind: FailureKind? = nil
    ) {
        stopDescendants(of: id)
        let time = now
        update(id) { r in
            r.state = state
            r.finishedAt = time
            r.notBefore = nil
            if let reason {
                r.lastFailure = reason
                r.lastFailureKind = kind ?? r.lastFailureKind
            }
            if state == .done { r.deliveredAt = time }
        }
        if state == .done, let children = agents[id]?.children {
            // An orchestrator that finished has taken in what its children delivered.
            for child in children { consume(child) }
        }
        guard let parent = agents[id]?.parent, let p = agents[parent], !p.state.isSettled else {
            return
        }
        update(parent) { $0.pendingWakes.append(.childSettled(id)) }
        settleCheck(parent: parent)
    }

    /// Writes the fan-in once every child the orchestrator asked for so far has settled, and
    /// wakes it.
    mutating func settleCheck(parent: String) {
        guard let p = agents[parent] else { return }
        let children = p.children.compactMap { agents[$0] }
        if children.allSatisfy(\.state.isSettled) {
            var summary = children.map { c in
                Settlement(
                    id: c.id,
                    status: c.state == .done ? .fulfilled : c.state == .skipped ? .skipped : .rejected,
                    reason: c.state == .done ? nil : (c.lastFailure ?? c.state.rawValue),
                    state: c.state.rawValue)
            }
            summary += p.refusals.map {
                Settlement(id: $0.name, status: .rejected, reason: $0.reason, state: "refused")
            }
            effects.append(.fanIn(parent: parent, children: summary))
        }
        wakeIfNeeded(parent)
    }

    /// After a restart: every unsettled orchestrator whose children have all settled gets its
    /// fan-in again (a crash may have come between a child's last record and children.json)
    /// and, when idle, a wake to read it.
    mutating func recovered() {
        for id in agents.keys.sorted() {
            guard let r = agents[id], r.kind == .orchestrator, !r.state.isSettled,
                !r.children.isEmpty || !r.refusals.isEmpty,
                r.children.allSatisfy({ agents[$0]?.state.isSettled ?? true })
            else { continue }
            if !r.active && r.state == .running && !r.pendingWakes.contains(.recovered) {
                update(id, persist: false) { $0.pendingWakes.append(.recovered) }
            }
            settleCheck(parent: id)
        }
    }

    /// Starts another run of an idle orchestrator that has reasons to run (when no upstream is
    /// usable, the reasons wait for the next admission).
    mutating func wakeIfNeeded(_ id: String) {
        guard !startsHeld, let r = agents[id], r.kind == .orchestrator, !r.active, r.state == .running,
            !r.pendingWakes.isEmpty
        else { return }
        if !run(id, wake: r.pendingWakes) { wakesAwaitingUpstream?.insert(id) }
    }

    /// Stops every unsettled agent below `id`: running ones are killed, queued ones end killed.
    mutating func stopDescendants(of id: String) {
        guard let r = agents[id] else { return }
        for child in r.children {
            guard let c = agents[child], !c.state.isSettled else { continue }
            if c.active {
                if c.stopping == nil || c.stopping == .stuck {
                    // a stuck child being stopped anyway now ends killed, not retried
                    update(child) { $0.stopping = .parentEnded }
                    if c.stopping == nil { effects.append(.stop(id: child)) }
                }
            } else {
                stopDescendants(of: child)
                let time = now
                update(child) { c in
                    c.state = .killed
                    c.finishedAt = time
                    c.lastFailure = "its orchestrator \(id) ended first"
                }
            }
        }
    }

    mutating func kill(_ id: String, reason: StopReason) {
        guard let r = agents[id], !r.state.isSettled else { return }
        if r.active {
            if r.stopping == nil || r.stopping == .stuck {
                update(id) { $0.stopping = reason }
                effects.append(.stop(id: id))
            }
        } else {
            settle(id, .killed, reason: "killed by a person (swarm kill)")
        }
    }

    mutating func retry(_ id: String) {
        guard let r = agents[id], r.state.isSettled, r.state != .done, !r.active else { return }
        if let parent = r.parent, agents[parent]?.state.isSettled ?? true { return }
        update(id) { r in
            r.state = .queued
            r.notBefore = nil
            r.finishedAt = nil
            r.deliveredAt = nil
            r.consumed = false
        }
    }

    mutating func asked(_ id: String) {
        guard let r = agents[id], r.state == .running else { return }
        update(id) { $0.state = .waiting }
        emitAlert(.waitingForHuman, id, "\(id) asks a question and waits for an answer")
    }

    mutating func answered(_ id: String) {
        guard let r = agents[id], r.state == .waiting else { return }
        update(id) { r in
            r.state = .running
            r.liveness.silentBeats = 0
            r.liveness.investigated = false
            if r.kind == .orchestrator && !r.active { r.pendingWakes.append(.answered) }
        }
        wakeIfNeeded(id)
    }

    /// A message arrived: an orchestrator between runs gets `message` among its wake reasons
    /// (once until its next run) and is woken unless it waits for an answer.
    mutating func messaged(_ id: String) {
        guard let r = agents[id], r.kind == .orchestrator, !r.active,
            r.state == .running || r.state == .waiting,
            !r.pendingWakes.contains(.message)
        else { return }
        update(id) { $0.pendingWakes.append(.message) }
        wakeIfNeeded(id)
    }

    mutating func recordSession(_ id: String, _ session: String) {
        guard let r = agents[id], r.session != session else { return }
        update(id) { $0.session = session }
    }

    mutating func consume(_ id: String) {
        guard let r = agents[id], r.state == .done, !r.consumed else { return }
        update(id) { $0.consumed = true }
    }
}
