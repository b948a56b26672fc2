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

    /// The upstream a task prefers: now and then one of the configured ones, or one that is
    /// not configured at all.
    mutating func randomPreference() -> String? {
        guard !limits.upstreams.isEmpty, chance(40) else { return nil }
        return chance(90) ? pick(limits.upstreams.map(\.name)) : "gone"
    }

    /// The upstream a new run of `r` would get now, if any.
    func upstreamFor(_ r: AgentRecord) -> String? {
        scheduler.router.candidate(preferred: r.preferredUpstream, minimumContext: r.minimumContext, now: now)
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
        if state.disabled != nil || state.limit != state.spec.concurrency || breaker.state != .closed {
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
            if r.preferredUpstream != nil && r.preferredUpstream != name { count("upstream-start-elsewhere") }
            for (moment, view) in [("before", before), ("after", router)]
            where moment == "after" || trustBefore {
                guard let seen = view.upstreams.first(where: { $0.spec.name == name }) else { continue }
                if seen.disabled != nil || view.breaker(seen.spec.domain, now: now).state == .open {
                    return fail("\(id) started on \(name), \(moment) the event \(describe(seen, in: view))")
                }
            }
            if let limit = state.limit, state.inFlight > limit {
                return fail("\(id) started on \(name) past its limit: \(describe(state))")
            }
            if let minimum = r.minimumContext, (state.spec.context ?? 0) < minimum {
                return fail("\(id) needs a context of \(minimum) but started on \(name): \(describe(state))")
            }
        }
    }

    /// One upstream's live state, for failure messages.
    func describe(_ state: UpstreamState, in router: UpstreamRouter? = nil) -> String {
        let view = router ?? scheduler.router
        let breaker = view.breaker(state.spec.domain, now: now)
        return "\(state.spec.name) in \(state.spec.domain): \(state.inFlight) in flight of "
            + "\(state.limit.map(String.init) ?? "any"), disabled \(state.disabled ?? "no"), breaker "
            + "\(breaker.state.rawValue) until \(breaker.openUntil.map(String.init) ?? "-") probe \(breaker.probe ?? "-")"
    }

    /// One upstream's configuration, for failure messages.
    func describe(_ spec: UpstreamSpec) -> String {
        "\(spec.name)/\(spec.domain)/\(spec.concurrency.map(String.init) ?? "-")/\(spec.context.map(String.init) ?? "-")"
    }
}
