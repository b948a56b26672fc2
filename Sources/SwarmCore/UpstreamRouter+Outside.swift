import SwarmProtocol

/// How an upstream stands, in one word (`health` in upstreams.json).
public enum UpstreamHealth: String, Sendable, Equatable, CaseIterable {
    case healthy
    /// Its domain's breaker is open (failures, or a status page's major outage).
    case open
    case halfOpen = "half-open"
    /// Its concurrency is lowered below its own: rate limits, or a degraded status page.
    case throttled
    /// A usage limit keeps it out until its reset (or until a person resets it).
    case parked
    /// It refused our credentials: out until a person resets it.
    case disabled

    /// True for the states background work waits out rather than run on a fallback (a
    /// disabled upstream waits for a person, not for time, so it is not one of them).
    public var isDegraded: Bool {
        self == .open || self == .halfOpen || self == .throttled || self == .parked
    }
}

/// What comes from outside the runs: status pages and usage limits. Outside signals are
/// evidence, never certainty: a page that cannot be read changes nothing.
extension UpstreamRouter {
    /// The health of `state` at `now`.
    func health(_ state: UpstreamState, now: Millis) -> UpstreamHealth {
        if state.disabled != nil { return .disabled }
        if let parked = state.parked, parked.holds(at: now) { return .parked }
        switch breaker(state.spec.domain, now: now).state {
        case .open: return .open
        case .halfOpen: return .halfOpen
        case .closed: break
        }
        if state.pageLimit != nil { return .throttled }
        if let limit = state.limit, limit < (state.spec.concurrency ?? Int.max),
            state.spec.concurrency != nil || state.inFlight >= limit
        {
            return .throttled
        }
        return .healthy
    }

    /// The health of the upstream named `name` (healthy when there is none).
    public func health(of name: String, now: Millis) -> UpstreamHealth {
        upstreams.first { $0.spec.name == name }.map { health($0, now: now) } ?? .healthy
    }

    /// The status page of `name` said `verdict`. A major outage holds its domain's breaker open
    /// (no probe) until the page says otherwise; degraded halves its concurrency (its own, or
    /// `fullConcurrency` when it has none); operational lifts both, and a held breaker turns
    /// half-open at once, so the next run is its probe. Unknown changes nothing but the reading.
    public mutating func statusPage(
        _ name: String, _ verdict: StatusPageVerdict, fullConcurrency: Int, now: Millis
    ) -> [RouterNote] {
        guard let index = upstreams.firstIndex(where: { $0.spec.name == name }) else { return [] }
        upstreams[index].page = PageReading(verdict, at: now)
        let domain = upstreams[index].spec.domain
        if verdict.health != .unknown { upstreams[index].pageHealth = verdict.health }
        switch verdict.health {
        case .unknown:
            return []
        case .major:
            upstreams[index].pageLimit = nil
            var b = breaker(domain, now: now)
            let wasClosed = b.state == .closed
            b.heldBy = verdict.detail
            if b.state != .open {
                b.state = .open
                b.openings += 1
                b.openUntil = nil
                b.probe = nil
            }
            breakers[domain] = b
            return wasClosed ? [.pageOutage(domain: domain, upstream: name, detail: verdict.detail)] : []
        case .degraded:
            upstreams[index].pageLimit = max(1, (upstreams[index].spec.concurrency ?? fullConcurrency) / 2)
            releaseHold(domain, now: now)
            return []
        case .operational:
            upstreams[index].pageLimit = nil
            releaseHold(domain, now: now)
            return []
        }
    }

    /// Lets go of a breaker held open by a status page, unless another upstream of the domain
    /// still has a page that says major: it turns half-open now.
    private mutating func releaseHold(_ domain: String, now: Millis) {
        guard var b = breakers[domain], b.heldBy != nil else { return }
        let stillMajor = upstreams.contains { $0.spec.domain == domain && $0.pageHealth == .major }
        guard !stillMajor else { return }
        b.heldBy = nil
        b.openUntil = now
        breakers[domain] = b
    }

    /// A run of `agent` on `name` hit the subscription's usage limit: the upstream is parked
    /// until `until` (nil: until a person resets it; also when `resumes` is false or the
    /// upstream says not to resume). An upstream already parked keeps the later end.
    public mutating func park(
        _ name: String, reason: String, until: Millis?, resumes: Bool, now: Millis
    ) -> [RouterNote] {
        guard let index = upstreams.firstIndex(where: { $0.spec.name == name }) else { return [] }
        let end = resumes && upstreams[index].spec.resumesAfterLimit ? until : nil
        if let parked = upstreams[index].parked, parked.holds(at: now) {
            if let known = parked.until {
                upstreams[index].parked?.until = end.map { max($0, known) }
            }
            return []
        }
        upstreams[index].parked = Parking(reason: reason, since: now, until: end)
        return [.parked(upstream: name, reason: reason, until: end)]
    }

    /// Upstreams whose parking ended by `now` go back into service.
    public mutating func resumeParked(now: Millis) -> [RouterNote] {
        var notes: [RouterNote] = []
        for index in upstreams.indices {
            guard let parked = upstreams[index].parked, !parked.holds(at: now) else { continue }
            upstreams[index].parked = nil
            notes.append(.resumed(upstream: upstreams[index].spec.name, since: parked.since))
        }
        return notes
    }

    /// When the next parking ends, if any ends by itself.
    public var nextParkingEnd: Millis? {
        upstreams.compactMap { $0.parked?.until }.min()
    }
}
