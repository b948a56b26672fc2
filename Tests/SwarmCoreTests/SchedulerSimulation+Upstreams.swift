import SwarmCore
import SwarmProtocol

/// Upstreams in the simulation: random ones in the limits, people resetting them, and the
/// router's invariants.
extension Simulation {
    /// One to four upstreams, some sharing a failure domain, some with a concurrency limit or
    /// a declared context.
    mutating func randomUpstreams() -> [UpstreamSpec] {
        let count = int(1...4)
        let domains = int(1...count)
        return (0..<count).map { index in
            UpstreamSpec(
                name: "u\(index)", domain: "d\(index % domains)", concurrency: chance(50) ? int(1...4) : nil,
                context: chance(30) ? [100, 200, 400][int(0...2)] : nil)
        }
    }

    /// Breaker numbers small enough that a short run opens, half-opens and closes breakers.
    mutating func randomBreaker() -> BreakerPolicy {
        var policy = BreakerPolicy()
        policy.consecutiveFailures = int(1...4)
        policy.window = int(4...10)
        policy.minimumCalls = int(2...policy.window)
        policy.failureRatePercent = int(30...80)
        policy.openFor = Millis(int(500...5_000))
        policy.maxOpenFor = policy.openFor * Millis(int(1...4))
        policy.maxRetryAfter = Millis(int(1_000...8_000))
        policy.quotaPause = Millis(int(2_000...20_000))
        return policy
    }

    /// The upstreams a task prefers: now and then one or two of the configured ones, or one
    /// that is not configured at all.
    mutating func randomPreference() -> [String] {
        guard !limits.upstreams.isEmpty, chance(40) else { return [] }
        let names = limits.upstreams.map(\.name)
        let first = chance(90) ? pick(names) ?? "gone" : "gone"
        guard chance(40), let second = pick(names.filter { $0 != first }) else { return [first] }
        return [first, second]
    }

    /// The upstream a new run of `r` would get now, if any.
    func upstreamFor(_ r: AgentRecord) -> String? {
        scheduler.router.candidate(
            preferred: r.preferredUpstreams, minimumContext: r.minimumContext,
            waitsForPreferred: r.priority == .background, now: now)
    }

    /// A status page reading for a random upstream (now and then one that does not exist):
    /// operational, degraded, a major outage, or a page that could not be read.
    mutating func statusPage() {
        let name = chance(95) ? pick(limits.upstreams.map(\.name)) ?? "none" : "none"
        let roll = int(0...99)
        let verdict: StatusPageVerdict =
            roll < 40
            ? StatusPageVerdict(.operational, "operational")
            : roll < 60
                ? StatusPageVerdict(.degraded, "API: partial outage")
                : roll < 80 ? StatusPageVerdict(.major, "API: major outage") : .unknown("timed out")
        count("status-page:" + verdict.health.rawValue)
        let before = scheduler.router
        send(.statusPage(upstream: name, verdict: verdict))
        guard failure == nil, let state = scheduler.router.upstreams.first(where: { $0.spec.name == name })
        else {
            return
        }
        let breaker = scheduler.router.breaker(state.spec.domain, now: now)
        let seen = before.upstreams.first { $0.spec.name == name }
        switch verdict.health {
        case .major:
            if breaker.state != .open || breaker.heldBy == nil {
                fail(
                    "a major outage on \(name)'s page left its breaker \(breaker.state.rawValue), not held open"
                )
            }
            count("page-held")
        case .degraded:
            if state.pageLimit == nil { fail("a degraded page left \(name) unthrottled: \(describe(state))") }
        case .operational:
            if state.pageLimit != nil {
                fail("an operational page left \(name) throttled: \(describe(state))")
            }
        case .unknown:
            if seen?.pageLimit != state.pageLimit
                || before.breaker(state.spec.domain, now: now).heldBy != breaker.heldBy
            {
                fail("an unreadable page changed \(name): \(describe(state))")
            }
        }
    }

    /// Upstreams that only a person or a page would bring back (a page that holds a breaker
    /// open, a parking without an end) are brought back, so that a drain can finish.
    mutating func releaseHeldUpstreams() -> Bool {
        let router = scheduler.router
        if let held = router.upstreams.first(where: {
            $0.pageHealth == .major && router.breakers[$0.spec.domain]?.heldBy != nil
        }) {
            send(.statusPage(upstream: held.spec.name, verdict: StatusPageVerdict(.operational, "resolved")))
            return true
        }
        if let parked = router.upstreams.first(where: { $0.parked != nil && $0.parked?.until == nil }) {
            resetUpstream(parked.spec.name)
            return true
        }
        return false
    }

    /// A person resets an upstream (now and then one that does not exist).
    mutating func resetUpstream() {
        let name = chance(90) ? pick(limits.upstreams.map(\.name)) ?? "none" : "none"
        resetUpstream(name)
    }

    /// `swarm upstream reset NAME`: afterwards that upstream is enabled, unthrottled and closed.
    mutating func resetUpstream(_ name: String) {
        count("upstream-reset")
        deliver(.tick, as: .reset(name))
        guard failure == nil, let state = scheduler.router.upstreams.first(where: { $0.spec.name == name })
        else {
            return
        }
        let breaker = scheduler.router.breaker(state.spec.domain, now: now)
        if state.disabled != nil || state.limit != state.spec.concurrency || breaker.state != .closed
            || state.parked != nil || state.pageLimit != nil
        {
            fail(
                "after a reset upstream \(name) is \(describe(state)) with its breaker \(breaker.state.rawValue)"
            )
        }
    }

    /// The router's invariants after one step: each upstream's in-flight count is the number
    /// of runs on it; a half-open domain lets through at most one probe (runs started since it
    /// turned half-open); a run starts only on a configured upstream that is neither disabled
    /// nor open (as the router stood before the event, unless a person reset it, and after
    /// it), within its concurrency limit and context.
    mutating func checkRouter(before: UpstreamRouter, _ effects: [Effect], trustBefore: Bool) {
        let router = scheduler.router
        guard !router.isEmpty else { return }
        var runs: [String: Int] = [:]
        for r in scheduler.agents.values where r.active { runs[r.upstream ?? "", default: 0] += 1 }
        for state in router.upstreams where state.inFlight != runs[state.spec.name, default: 0] {
            return fail(
                "upstream \(state.spec.name) counts \(state.inFlight) runs in flight, the records "
                    + "\(runs[state.spec.name, default: 0])")
        }
        for domain in router.breakers.keys.sorted() {
            let breaker = router.breaker(domain, now: now)
            guard breaker.state == .halfOpen, let since = breaker.openUntil else { continue }
            let names = Set(router.upstreams.filter { $0.spec.domain == domain }.map(\.spec.name))
            let probes = scheduler.agents.values.filter {
                $0.active && names.contains($0.upstream ?? "") && ($0.startedAt ?? 0) >= since
            }
            if probes.count > 1 {
                return fail(
                    "half-open domain \(domain) runs \(probes.count) probes: \(probes.map(\.id).sorted())")
            }
            if !probes.isEmpty { count("probe") }
        }
        for case .start(let id, _) in effects {
            guard let r = scheduler.agents[id], let name = r.upstream,
                let state = router.upstreams.first(where: { $0.spec.name == name })
            else {
                return fail("\(id) started on no configured upstream: \(describe(id))")
            }
            count("upstream-start")
            if let first = r.preferredUpstreams.first, first != name { count("upstream-start-elsewhere") }
            for (moment, view) in [("before", before), ("after", router)]
            where moment == "after" || trustBefore {
                guard let seen = view.upstreams.first(where: { $0.spec.name == name }) else { continue }
                if seen.disabled != nil || view.breaker(seen.spec.domain, now: now).state == .open {
                    return fail("\(id) started on \(name), \(moment) the event \(describe(seen, in: view))")
                }
            }
            if let parked = state.parked, parked.holds(at: now) {
                return fail("\(id) started on \(name), which is parked: \(describe(state))")
            }
            if r.priority == .background, let first = router.firstChoice(r.preferredUpstreams), first != name,
                let firstState = router.upstreams.first(where: { $0.spec.name == first })
            {
                // background work never goes to a fallback while its first choice is out for
                // a while (open, half-open, parked, throttled by its status page)
                let health = router.health(of: first, now: now)
                if health != .disabled,
                    health == .open || health == .halfOpen || health == .parked || firstState.pageLimit != nil
                {
                    return fail(
                        "background \(id) started on \(name) while \(first) is \(describe(firstState))")
                }
                count("background-elsewhere")
            }
            if let limit = state.effectiveLimit, state.inFlight > limit {
                return fail("\(id) started on \(name) past its limit: \(describe(state))")
            }
            if let minimum = r.minimumContext, (state.spec.context ?? 0) < minimum {
                return fail("\(id) needs a context of \(minimum) but started on \(name): \(describe(state))")
            }
        }
    }

    /// Counts the background work that waits for its first choice while a fallback could take
    /// it (what `theSimulationReachesEveryRule` needs to see happen).
    mutating func noteBackgroundWaits() {
        let router = scheduler.router
        guard !router.isEmpty else { return }
        for id in scheduler.queue {
            guard let r = scheduler.agents[id], r.priority == .background, (r.notBefore ?? 0) <= now,
                upstreamFor(r) == nil,
                router.candidate(preferred: r.preferredUpstreams, minimumContext: r.minimumContext, now: now)
                    != nil
            else { continue }
            count("background-waits")
            return
        }
    }

    /// One upstream's live state, for failure messages.
    func describe(_ state: UpstreamState, in router: UpstreamRouter? = nil) -> String {
        let view = router ?? scheduler.router
        let breaker = view.breaker(state.spec.domain, now: now)
        return "\(state.spec.name) in \(state.spec.domain): \(state.inFlight) in flight of "
            + "\(state.effectiveLimit.map(String.init) ?? "any"), disabled \(state.disabled ?? "no"), breaker "
            + "\(breaker.state.rawValue) until \(breaker.openUntil.map(String.init) ?? "-") probe \(breaker.probe ?? "-")"
            + " held \(breaker.heldBy ?? "no") parked until \(state.parked.map { $0.until.map(String.init) ?? "reset" } ?? "-")"
    }

    /// One upstream's configuration, for failure messages.
    func describe(_ spec: UpstreamSpec) -> String {
        "\(spec.name)/\(spec.domain)/\(spec.concurrency.map(String.init) ?? "-")/\(spec.context.map(String.init) ?? "-")"
    }
}

/// Usage limits in the simulation.
extension Simulation {
    /// After a run that ended on its usage limit (not while being stopped): its upstream is
    /// parked (until the reset, or for good); a worker is back in the queue with its attempt
    /// given back (no retry spent) unless its orchestrator has ended; an orchestrator waits to
    /// be woken with `limit-reset`; one `usage-limit` alert at most.
    mutating func checkUsageLimit(_ id: String, _ outcome: Outcome, before: AgentRecord, _ effects: [Effect])
    {
        let limited: Bool
        switch outcome {
        case .usageLimited, .upstreamFailed(.usageLimit, _, _): limited = true
        default: limited = false
        }
        guard limited, before.active, before.stopping == nil, let after = scheduler.agents[id] else { return }
        count("usage-limited")
        if effects.alerts("usage-limit").count > 1 {
            return fail("more than one usage-limit alert for \(id)")
        }
        if let upstream = before.upstream,
            let state = scheduler.router.upstreams.first(where: { $0.spec.name == upstream }),
            state.parked == nil,
            !effects.alerts("upstream-recovered").contains(where: { $0.message.contains(upstream) })
        {
            return fail("\(id) hit the usage limit of \(upstream), which is not parked: \(describe(state))")
        }
        if before.kind == .worker {
            if after.state == .killed { return }
            // the attempt is given back: the counters follow
            counters[id]?.attempts -= 1
            let restarted = after.runs > before.runs
            if after.attempts != before.attempts - (restarted ? 0 : 1)
                || (after.state != .queued && !restarted)
            {
                return fail("\(id) hit a usage limit and is now \(describe(id)), attempts \(after.attempts)")
            }
            count("usage-limit-requeued")
        } else if !after.active && !after.state.isSettled && !after.pendingWakes.contains(.limitReset) {
            return fail("orchestrator \(id) hit a usage limit and waits for nothing: \(describe(id))")
        }
    }
}
