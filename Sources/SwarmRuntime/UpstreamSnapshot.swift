import SwarmCore
import SwarmProtocol

/// upstreams.json: each upstream's health, breaker, concurrency, status page, parking and
/// recent errors, as `swarm upstreams` shows them. Runtime-owned, rewritten with state.json.
public struct UpstreamSnapshot: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
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

        /// The entry as one member of upstreams.json's `upstreams`.
        public var json: JSONValue {
            var o = JSONObject()
            o["name"] = .string(name)
            o["domain"] = .string(domain)
            if let health { o["health"] = .string(health) }
            o["breaker"] = .string(breaker)
            if let openUntil { o["openUntil"] = .string(openUntil) }
            if let concurrencyLimit { o["concurrencyLimit"] = .integer(Int64(concurrencyLimit)) }
            o["inFlight"] = .integer(Int64(inFlight))
            o["calls"] = .integer(Int64(calls))
            o["failures"] = .integer(Int64(failures))
            if let disabled { o["disabled"] = .string(disabled) }
            o["recentErrors"] = .array(recentErrors.map { .string($0) })
            if let page { o["page"] = .string(page) }
            if let pageDetail { o["pageDetail"] = .string(pageDetail) }
            if let pageAt { o["pageAt"] = .string(pageAt) }
            if let parked { o["parked"] = .string(parked) }
            if let parkedUntil { o["parkedUntil"] = .string(parkedUntil) }
            return .object(o)
        }

        /// Reads one member of upstreams.json's `upstreams`; nil when it is not one.
        public init?(json value: JSONValue) {
            guard let name = value["name"]?.stringValue, let domain = value["domain"]?.stringValue,
                let breaker = value["breaker"]?.stringValue, let inFlight = value["inFlight"]?.intValue,
                let calls = value["calls"]?.intValue, let failures = value["failures"]?.intValue,
                let errors = value["recentErrors"]?.arrayValue
            else { return nil }
            self.init(
                name: name, domain: domain, breaker: breaker, openUntil: value["openUntil"]?.stringValue,
                concurrencyLimit: value["concurrencyLimit"]?.intValue.map { Int($0) },
                inFlight: Int(inFlight),
                calls: Int(calls), failures: Int(failures), disabled: value["disabled"]?.stringValue,
                recentErrors: errors.compactMap(\.stringValue))
            health = value["health"]?.stringValue
            page = value["page"]?.stringValue
            pageDetail = value["pageDetail"]?.stringValue
            pageAt = value["pageAt"]?.stringValue
            parked = value["parked"]?.stringValue
            parkedUntil = value["parkedUntil"]?.stringValue
        }
    }
    public var updated: String
    public var upstreams: [Entry]

    /// upstreams.json as a JSON value: the members named as the properties are, an absent
    /// optional left out.
    public var json: JSONValue {
        .object(["updated": .string(updated), "upstreams": .array(upstreams.map(\.json))])
    }

    /// Reads upstreams.json; nil when it is not such a document.
    public init?(json value: JSONValue) {
        guard let updated = value["updated"]?.stringValue, let list = value["upstreams"]?.arrayValue else {
            return nil
        }
        var upstreams: [Entry] = []
        for item in list {
            guard let entry = Entry(json: item) else { return nil }
            upstreams.append(entry)
        }
        self.init(updated: updated, upstreams: upstreams)
    }

    init(updated: String, upstreams: [Entry]) {
        self.updated = updated
        self.upstreams = upstreams
    }

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
