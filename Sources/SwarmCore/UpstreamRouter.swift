import SwarmProtocol

/// One upstream as the router sees it: its place in the preference order, failure domain and
/// concurrency limit.
public struct UpstreamSpec: Sendable, Equatable {
    public var name: String
    /// Upstreams that share a domain share one circuit breaker.
    public var domain: String
    /// The most runs it may serve at once; nil means no limit of its own.
    public var concurrency: Int?
    /// The largest context its model takes, when declared.
    public var context: Int?
    /// False keeps it parked after a usage limit until a person resets it.
    public var resumesAfterLimit: Bool

    public init(
        name: String, domain: String? = nil, concurrency: Int? = nil, context: Int? = nil,
        resumesAfterLimit: Bool = true
    ) {
        self.name = name
        self.domain = domain ?? name
        self.concurrency = concurrency
        self.context = context
        self.resumesAfterLimit = resumesAfterLimit
    }
}

/// The circuit breaker's numbers (see HEARTBEAT.md for why these defaults).
public struct BreakerPolicy: Sendable, Equatable {
    /// Consecutive failures that open the breaker (Envoy's outlier detection uses 5).
    public var consecutiveFailures = 5
    /// The failure-rate rule: over the last `window` calls, with at least `minimumCalls`, a
    /// failure rate of `failureRatePercent` or more opens the breaker.
    public var window = 20
    public var minimumCalls = 10
    public var failureRatePercent = 50
    /// How long the breaker stays open the first time; doubled for each opening in a row,
    /// capped, with ±10 % jitter (Envoy's base ejection time is 30 s).
    public var openFor: Millis = 30_000
    public var maxOpenFor: Millis = 300_000
    /// The longest a rate-limited task waits before its retry, whatever retry-after says.
    public var maxRetryAfter: Millis = 60_000
    /// How long an upstream whose quota is exhausted is left alone when it gives no reset; also
    /// how long one parked by a usage limit whose reset time is not known stays parked.
    public var quotaPause: Millis = 900_000
    /// The longest a usage limit parks an upstream, whatever reset it names (a weekly limit
    /// and a day to spare).
    public var longestPark: Millis = 8 * 86_400_000

    public init() {}
}

/// A breaker's state.
public enum BreakerState: String, Sendable, Equatable {
    case closed
    case open
    case halfOpen = "half-open"
}

/// One failure domain's breaker.
public struct Breaker: Sendable, Equatable {
    public var state: BreakerState = .closed
    public var consecutiveFailures = 0
    /// The outcomes of the most recent calls, newest last (true = failure).
    public var recent: [Bool] = []
    /// Openings since the breaker was last closed by a success.
    public var openings = 0
    public var openUntil: Millis?
    /// The agent whose run is the half-open probe.
    public var probe: String?
    /// While a status page says a major outage: what it said. The breaker stays open (no
    /// probe) until the page says otherwise.
    public var heldBy: String?
}

/// Live state of one upstream.
public struct UpstreamState: Sendable, Equatable {
    public var spec: UpstreamSpec
    /// The concurrency limit now: lowered on rate limits, grown back one by one on success.
    public var limit: Int?
    public var inFlight = 0
    /// Set when the upstream answered with an authentication or configuration error: it stays
    /// out until a person resets it.
    public var disabled: String?
    public var calls = 0
    public var failures = 0
    /// The last few failure reasons, newest last.
    public var recentErrors: [String] = []
    /// What its status page said last, and when (nil: no page, or not read yet).
    public var page: PageReading?
    /// The last health its page gave that was not `unknown`: a page that cannot be read
    /// leaves what it said before in force.
    public var pageHealth: StatusPageHealth?
    /// While its status page says degraded: the concurrency it may use (half its own).
    public var pageLimit: Int?
    /// Set while a usage limit keeps it out of service.
    public var parked: Parking?

    /// The concurrency limit in force: the lower of the rate-limit one and the page's.
    public var effectiveLimit: Int? {
        switch (limit, pageLimit) {
        case (let a?, let b?): min(a, b)
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): nil
        }
    }
}

/// One reading of an upstream's status page, as the router keeps it.
public struct PageReading: Sendable, Equatable {
    public var verdict: StatusPageVerdict
    public var at: Millis

    public init(_ verdict: StatusPageVerdict, at: Millis) {
        self.verdict = verdict
        self.at = at
    }
}

/// Why and how long an upstream is parked after its usage limit.
public struct Parking: Sendable, Equatable {
    /// What the agent's CLI said.
    public var reason: String
    public var since: Millis
    /// When it goes back into service by itself; nil: only when a person resets it.
    public var until: Millis?

    public init(reason: String, since: Millis, until: Millis?) {
        self.reason = reason
        self.since = since
        self.until = until
    }

    /// True while it keeps the upstream out at `now`.
    public func holds(at now: Millis) -> Bool { until.map { $0 > now } ?? true }
}

/// What the router wants said about a change of an upstream's health.
public enum RouterNote: Sendable, Equatable {
    case opened(domain: String, reason: String, until: Millis)
    case closed(domain: String)
    case disabled(upstream: String, reason: String)
    case throttled(upstream: String, limit: Int)
    /// A status page's major outage opened (or now holds) a closed breaker.
    case pageOutage(domain: String, upstream: String, detail: String)
    /// A usage limit parked the upstream, until a time or (nil) until a person resets it.
    case parked(upstream: String, reason: String, until: Millis?)
    /// A parked upstream's limit has reset: it is in service again.
    case resumed(upstream: String, since: Millis)
}

/// Chooses an upstream for each run and keeps the breakers. Pure: time comes in as a value.
public struct UpstreamRouter: Sendable, Equatable {
    public internal(set) var upstreams: [UpstreamState]
    public internal(set) var breakers: [String: Breaker] = [:]
    public var policy: BreakerPolicy
    private var random: SplitMix64

    public init(_ specs: [UpstreamSpec], policy: BreakerPolicy = BreakerPolicy(), seed: UInt64 = 0xB4EA) {
        upstreams = specs.map { UpstreamState(spec: $0, limit: $0.concurrency) }
        self.policy = policy
        random = SplitMix64(seed: seed)
        for spec in specs { breakers[spec.domain] = Breaker() }
    }

    /// True when no upstream is configured: agents inherit the daemon's environment.
    public var isEmpty: Bool { upstreams.isEmpty }

    /// The breaker of `domain` as of `now` (an open breaker whose time is up is half-open).
    public func breaker(_ domain: String, now: Millis) -> Breaker {
        var b = breakers[domain] ?? Breaker()
        if b.state == .open, b.heldBy == nil, let until = b.openUntil, until <= now {
            b.state = .halfOpen
            b.probe = nil
        }
        return b
    }

    /// The upstream a new run would get now, in preference order (`preferred` first, best
    /// first, then the rest in configured order; `avoiding` last: the retry of a run that its
    /// upstream failed goes elsewhere if it can). With `waitsForPreferred` (background work),
    /// while the first upstream of that order is open, half-open, throttled or parked, only
    /// it may be chosen: the work waits rather than run on a fallback.
    public func candidate(
        preferred: [String], avoiding: String? = nil, minimumContext: Int? = nil,
        waitsForPreferred: Bool = false, now: Millis
    ) -> String? {
        var order = ordered(preferred, avoiding)
        if waitsForPreferred, let head = ordered(preferred, nil).first, health(head, now: now).isDegraded {
            order = [head]
        }
        for state in order where usable(state, now: now) {
            if let minimumContext, (state.spec.context ?? 0) < minimumContext { continue }
            return state.spec.name
        }
        return nil
    }

    /// The upstream `preferred` names first (the first configured one among them), else the
    /// first configured upstream: the one background work waits for.
    public func firstChoice(_ preferred: [String]) -> String? {
        ordered(preferred, nil).first?.spec.name
    }

    /// The declared context of `name`, if any.
    public func context(of name: String) -> Int? {
        upstreams.first { $0.spec.name == name }?.spec.context
    }

    /// True when some upstream declares a context of at least `minimum` (usable or not now).
    public func offersContext(_ minimum: Int) -> Bool {
        upstreams.contains { $0.disabled == nil && ($0.spec.context ?? 0) >= minimum }
    }

    /// A usable upstream other than `excluded`, if any.
    public func alternative(to excluded: String?, now: Millis) -> String? {
        upstreams.first { $0.spec.name != excluded && usable($0, now: now) }?.spec.name
    }

    private func ordered(_ preferred: [String], _ avoiding: String?) -> [UpstreamState] {
        var order = upstreams
        for name in preferred.reversed() {
            if let index = order.firstIndex(where: { $0.spec.name == name }) {
                order.insert(order.remove(at: index), at: 0)
            }
        }
        if let avoiding, let index = order.firstIndex(where: { $0.spec.name == avoiding }) {
            order.append(order.remove(at: index))
        }
        return order
    }

    func usable(_ state: UpstreamState, now: Millis) -> Bool {
        if state.disabled != nil { return false }
        if let parked = state.parked, parked.holds(at: now) { return false }
        if let limit = state.effectiveLimit, state.inFlight >= limit { return false }
        let b = breaker(state.spec.domain, now: now)
        switch b.state {
        case .closed: return true
        case .open: return false
        case .halfOpen: return b.probe == nil
        }
    }

    /// Takes an upstream for `agent`'s run; a half-open breaker lets exactly this run through
    /// as its probe.
    public mutating func acquire(
        preferred: [String], avoiding: String? = nil, minimumContext: Int? = nil,
        waitsForPreferred: Bool = false,
        agent: String, now: Millis
    ) -> String? {
        guard
            let name = candidate(
                preferred: preferred, avoiding: avoiding, minimumContext: minimumContext,
                waitsForPreferred: waitsForPreferred, now: now),
            let index = upstreams.firstIndex(where: { $0.spec.name == name })
        else { return nil }
        upstreams[index].inFlight += 1
        upstreams[index].calls += 1
        let domain = upstreams[index].spec.domain
        var b = breaker(domain, now: now)
        if b.state == .halfOpen { b.probe = agent }
        breakers[domain] = b
        return name
    }

    /// True when `agent`'s run on `name` is its domain's half-open probe.
    public func isProbe(_ name: String, agent: String) -> Bool {
        guard let state = upstreams.first(where: { $0.spec.name == name }) else { return false }
        return breakers[state.spec.domain]?.probe == agent
    }

    /// The run of `agent` on `name` ended without telling anything about the upstream
    /// (killed, or an orchestrator that just went idle).
    public mutating func release(_ name: String, agent: String) {
        guard let index = upstreams.firstIndex(where: { $0.spec.name == name }) else { return }
        upstreams[index].inFlight = max(0, upstreams[index].inFlight - 1)
        let domain = upstreams[index].spec.domain
        if breakers[domain]?.probe == agent { breakers[domain]?.probe = nil }
    }

    /// The run on `name` succeeded: the breaker closes, throttling eases by one.
    public mutating func succeeded(_ name: String, agent: String, now: Millis) -> [RouterNote] {
        release(name, agent: agent)
        guard let index = upstreams.firstIndex(where: { $0.spec.name == name }) else { return [] }
        let domain = upstreams[index].spec.domain
        if let limit = upstreams[index].limit {
            upstreams[index].limit = min(limit + 1, upstreams[index].spec.concurrency ?? Int.max)
        }
        var b = breaker(domain, now: now)
        record(&b, failed: false)
        if b.state == .open || (b.state == .halfOpen && b.probe != nil && b.probe != agent) {
            // A run that started before the breaker opened says nothing about the upstream now:
            // only the half-open probe closes it.
            breakers[domain] = b
            return []
        }
        var notes: [RouterNote] = []
        if b.state != .closed {
            notes.append(.closed(domain: domain))
            ramp(domain)
        }
        b.state = .closed
        b.openings = 0
        b.openUntil = nil
        b.probe = nil
        breakers[domain] = b
        return notes
    }

    /// After a domain recovers, its upstreams start again at a small concurrency and grow back
    /// one by one with each success, so the queue drains gently.
    private mutating func ramp(_ domain: String) {
        for index in upstreams.indices where upstreams[index].spec.domain == domain {
            upstreams[index].limit = min(upstreams[index].limit ?? 2, 2)
        }
    }

    /// The run on `name` failed with `errorClass`; returns what changed.
    public mutating func failed(
        _ name: String, agent: String, errorClass: UpstreamErrorClass, reason: String,
        retryAfter: Millis?, now: Millis
    ) -> [RouterNote] {
        release(name, agent: agent)
        guard let index = upstreams.firstIndex(where: { $0.spec.name == name }) else { return [] }
        upstreams[index].failures += 1
        upstreams[index].recentErrors = Array((upstreams[index].recentErrors + [reason]).suffix(5))
        let domain = upstreams[index].spec.domain
        switch errorClass {
        case .rateLimited:
            let current = max(upstreams[index].inFlight + 1, 1)
            let halved = max(1, min(upstreams[index].limit ?? current, current) / 2)
            upstreams[index].limit = halved
            return [.throttled(upstream: name, limit: halved)]
        case .auth:
            guard upstreams[index].disabled == nil else { return [] }
            upstreams[index].disabled = reason
            return [.disabled(upstream: name, reason: reason)]
        case .quotaExhausted:
            return open(
                domain, reason: "quota exhausted: \(reason)", now: now,
                duration: retryAfter ?? policy.quotaPause)
        case .usageLimit:
            return park(
                name, reason: reason, until: now + (retryAfter ?? policy.quotaPause), resumes: true, now: now)
        case .overloaded, .connection:
            var b = breaker(domain, now: now)
            record(&b, failed: true)
            breakers[domain] = b
            if b.state == .halfOpen || shouldOpen(b) {
                return open(domain, reason: reason, now: now, duration: nil)
            }
            return []
        case .contextTooLong, .badOutput, .unknown:
            return []
        }
    }

    private func shouldOpen(_ b: Breaker) -> Bool {
        if b.state == .open { return false }
        if b.consecutiveFailures >= policy.consecutiveFailures { return true }
        guard b.recent.count >= policy.minimumCalls else { return false }
        let failures = b.recent.filter { $0 }.count
        return failures * 100 >= policy.failureRatePercent * b.recent.count
    }

    private mutating func record(_ b: inout Breaker, failed: Bool) {
        b.consecutiveFailures = failed ? b.consecutiveFailures + 1 : 0
        b.recent = Array((b.recent + [failed]).suffix(policy.window))
    }

    mutating func open(_ domain: String, reason: String, now: Millis, duration: Millis?) -> [RouterNote] {
        var b = breaker(domain, now: now)
        let wasClosed = b.state == .closed
        let base = duration ?? min(policy.maxOpenFor, policy.openFor << Millis(min(b.openings, 20)))
        let jitter = duration == nil ? random.next(upTo: base / 5) - base / 10 : 0
        b.state = .open
        b.openings += 1
        b.openUntil = now + max(1, base + jitter)
        b.probe = nil
        b.consecutiveFailures = 0
        b.recent = []
        breakers[domain] = b
        return wasClosed ? [.opened(domain: domain, reason: reason, until: b.openUntil ?? now)] : []
    }

    /// A person reset `name` (`swarm upstream reset`): enabled, unparked, unthrottled, its
    /// breaker closed (a status page that still says major holds it again at its next reading).
    public mutating func reset(_ name: String) -> Bool {
        guard let index = upstreams.firstIndex(where: { $0.spec.name == name }) else { return false }
        upstreams[index].disabled = nil
        upstreams[index].parked = nil
        upstreams[index].pageLimit = nil
        upstreams[index].limit = upstreams[index].spec.concurrency
        breakers[upstreams[index].spec.domain] = Breaker()
        return true
    }

    /// Rebuilds the in-flight counts from the runs that are going on (after a restart).
    public mutating func restore(inFlight: [String: Int]) {
        for index in upstreams.indices {
            upstreams[index].inFlight = inFlight[upstreams[index].spec.name] ?? 0
        }
    }
}
