import SwarmCore
import SwarmProtocol

/// upstreams.json: each upstream's health, breaker, concurrency, status page, parking and
/// recent errors, as `swarm upstreams` shows them. Runtime-owned, rewritten with state.json.
public struct UpstreamSnapshot: Sendable, Codable, Equatable {
    public struct Entry: Sendable, Codable, Equatable {
        public var name: String
        public var domain: String
        /// `healthy`, `open`, `half-open`, `throttled`, `parked` or `disabled` (absent in files
        /// written before it existed).
        public var health: String?
        public var breaker: String
        public var openUntil: String?
        public var concurrencyLimit: Int?
        public var inFlight: Int
        public var calls: Int
        public var failures: Int
        public var disabled: String?
        public var recentErrors: [String]
        /// What its status page said last (`operational`, `degraded`, `major`, `unknown`), why,
        /// and when it was read.
        public var page: String?
        public var pageDetail: String?
        public var pageAt: String?
        /// Why it is parked (a usage limit's message) and until when (absent: until a person
        /// resets it).
        public var parked: String?
        public var parkedUntil: String?

        public init(
            name: String, domain: String, breaker: String, openUntil: String?, concurrencyLimit: Int?,
            inFlight: Int, calls: Int, failures: Int, disabled: String?, recentErrors: [String]
        ) {
            self.name = name
            self.domain = domain
            self.breaker = breaker
            self.openUntil = openUntil
            self.concurrencyLimit = concurrencyLimit
            self.inFlight = inFlight
            self.calls = calls
            self.failures = failures
            self.disabled = disabled
            self.recentErrors = recentErrors
        }
    }
    public var updated: String
    public var upstreams: [Entry]

    static func make(_ router: UpstreamRouter, now: Millis) -> UpstreamSnapshot {
        UpstreamSnapshot(
            updated: Timestamp.iso8601(milliseconds: now),
            upstreams: router.upstreams.map { state in
                let breaker = router.breaker(state.spec.domain, now: now)
                var entry = Entry(
                    name: state.spec.name, domain: state.spec.domain, breaker: breaker.state.rawValue,
                    openUntil: breaker.state == .open
                        ? breaker.openUntil.map { Timestamp.iso8601(milliseconds: $0) } : nil,
                    concurrencyLimit: state.effectiveLimit, inFlight: state.inFlight, calls: state.calls,
                    failures: state.failures, disabled: state.disabled, recentErrors: state.recentErrors)
                entry.health = router.health(of: state.spec.name, now: now).rawValue
                entry.page = state.page?.verdict.health.rawValue
                entry.pageDetail = state.page?.verdict.detail
                entry.pageAt = state.page.map { Timestamp.iso8601(milliseconds: $0.at) }
                if let parked = state.parked, parked.holds(at: now) {
                    entry.parked = parked.reason
                    entry.parkedUntil = parked.until.map { Timestamp.iso8601(milliseconds: $0) }
                }
                return entry
            })
    }

    /// Why queued `record` waits, when it is background work whose first-choice upstream is
    /// degraded (`UpstreamHealth.isDegraded`): it starts there once that upstream is healthy
    /// (or as its probe), never on a fallback. Nil otherwise.
    public func backgroundWait(_ record: AgentRecord) -> String? {
        guard record.state == .queued, record.priority == .background else { return nil }
        let first =
            record.preferredUpstreams.first { name in upstreams.contains { $0.name == name } }
            ?? upstreams.first?.name
        guard let first, let entry = upstreams.first(where: { $0.name == first }),
            let health = entry.health.flatMap(UpstreamHealth.init(rawValue:)), health.isDegraded
        else { return nil }
        var why = "background work waits while upstream \(first) is \(health.rawValue)"
        if let detail = entry.parked {
            why += " (\(detail))"
        } else if let page = entry.page, page != "operational", page != "unknown",
            let detail = entry.pageDetail
        {
            why += " (status page: \(detail))"
        }
        return why
    }
}
