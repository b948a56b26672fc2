import SwarmCore
import SwarmProtocol

/// upstreams.json: each upstream's breaker, concurrency and recent errors, as `swarm upstreams`
/// shows them. Runtime-owned, rewritten with state.json.
public struct UpstreamSnapshot: Sendable, Codable, Equatable {
    public struct Entry: Sendable, Codable, Equatable {
        public var name: String
        public var domain: String
        public var breaker: String
        public var openUntil: String?
        public var concurrencyLimit: Int?
        public var inFlight: Int
        public var calls: Int
        public var failures: Int
        public var disabled: String?
        public var recentErrors: [String]

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
                return Entry(
                    name: state.spec.name, domain: state.spec.domain, breaker: breaker.state.rawValue,
                    openUntil: breaker.state == .open ? breaker.openUntil.map { Timestamp.iso8601(milliseconds: $0) } : nil,
                    concurrencyLimit: state.limit, inFlight: state.inFlight, calls: state.calls,
                    failures: state.failures, disabled: state.disabled, recentErrors: state.recentErrors)
            })
    }
}
