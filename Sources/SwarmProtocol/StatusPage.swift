/// What a status page says about one upstream, in the words the router acts on.
public enum StatusPageHealth: String, Sendable, Equatable, CaseIterable {
    /// Every component that matters is operational.
    case operational
    /// A component that matters has degraded performance, a partial outage or maintenance.
    case degraded
    /// A component that matters has a major outage.
    case major
    /// The page could not be read or says nothing about the components that matter: evidence
    /// of nothing, so nothing changes.
    case unknown
}

/// One reading of a status page for one upstream: its health and a line for a person.
public struct StatusPageVerdict: Sendable, Equatable {
    public var health: StatusPageHealth
    /// What the page said ("Claude API: major outage; incident \"Elevated errors\""), or why
    /// it could not be read ("timed out after 10 s").
    public var detail: String

    public init(_ health: StatusPageHealth, _ detail: String) {
        self.health = health
        self.detail = detail
    }

    /// A page that could not be read: `unknown`, with the reason.
    public static func unknown(_ why: String) -> StatusPageVerdict { StatusPageVerdict(.unknown, why) }
}

/// A Statuspage `summary.json` (API v2, the shape status.claude.com serves): the page, its
/// components with their status, its unresolved incidents and its overall indicator.
public struct StatusPageReport: Sendable, Equatable {
    /// A component's status, as the page words it.
    public enum ComponentStatus: String, Sendable, Equatable, CaseIterable {
        case operational
        case degradedPerformance = "degraded_performance"
        case partialOutage = "partial_outage"
        case majorOutage = "major_outage"
        case underMaintenance = "under_maintenance"

        /// The status in words ("major outage").
        public var words: String { rawValue.replacing("_", with: " ") }

        /// What it means for an upstream that depends on the component.
        public var health: StatusPageHealth {
            switch self {
            case .operational: .operational
            case .degradedPerformance, .partialOutage, .underMaintenance: .degraded
            case .majorOutage: .major
            }
        }
    }

    /// One component; a status the page gives that this enum does not know is kept as nil.
    public struct Component: Sendable, Equatable {
        public var id: String?
        public var name: String
        public var status: ComponentStatus?

        public init(id: String? = nil, name: String, status: ComponentStatus?) {
            self.id = id
            self.name = name
            self.status = status
        }
    }

    /// One unresolved incident.
    public struct Incident: Sendable, Equatable {
        public var name: String
        /// `investigating`, `identified`, `monitoring`, `resolved`, `postmortem`.
        public var status: String
        /// `none`, `minor`, `major`, `critical`, `maintenance`.
        public var impact: String
        /// The names of the components it affects, when the page lists them.
        public var components: [String]

        public init(name: String, status: String, impact: String, components: [String] = []) {
            self.name = name
            self.status = status
            self.impact = impact
            self.components = components
        }
    }

    public var pageName: String?
    /// `status.indicator`: `none`, `minor`, `major`, `critical`.
    public var indicator: String?
    /// `status.description`: "All Systems Operational", "Partial System Outage"...
    public var description: String?
    public var components: [Component]
    public var incidents: [Incident]

    public init(
        pageName: String? = nil, indicator: String? = nil, description: String? = nil,
        components: [Component] = [], incidents: [Incident] = []
    ) {
        self.pageName = pageName
        self.indicator = indicator
        self.description = description
        self.components = components
        self.incidents = incidents
    }

    /// Parses a `summary.json` body. A body that is not JSON, not an object, or has no
    /// `components` array is an error; fields the page leaves out or words differently are
    /// tolerated (an unknown component status is kept as nil, an incident without a name is
    /// left out).
    public static func parse(_ bytes: [UInt8]) throws(ProtocolError) -> StatusPageReport {
        let value = try JSON.parse(bytes)
        guard let object = value.objectValue else {
            throw ProtocolError("the status page answered \(value.typeName), not a JSON object")
        }
        guard let list = object["components"]?.arrayValue else {
            throw ProtocolError(
                "the status page's JSON has no \"components\" array",
                hint: "point statusPage at a Statuspage summary.json (…/api/v2/summary.json)")
        }
        var report = StatusPageReport(
            pageName: object["page"]?["name"]?.stringValue,
            indicator: object["status"]?["indicator"]?.stringValue,
            description: object["status"]?["description"]?.stringValue)
        for entry in list {
            guard let name = entry["name"]?.stringValue else { continue }
            report.components.append(
                Component(
                    id: entry["id"]?.stringValue, name: name,
                    status: entry["status"]?.stringValue.flatMap(ComponentStatus.init(rawValue:))))
        }
        for entry in object["incidents"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue else { continue }
            let status = entry["status"]?.stringValue ?? "investigating"
            if status == "resolved" || status == "postmortem" { continue }
            report.incidents.append(
                Incident(
                    name: name, status: status, impact: entry["impact"]?.stringValue ?? "none",
                    components: (entry["components"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                ))
        }
        return report
    }

    /// The components `names` pick (by name, ignoring case, or by id); every component when
    /// `names` is empty.
    public func components(named names: [String]) -> [Component] {
        guard !names.isEmpty else { return components }
        let wanted = Set(names.map { $0.lowercased() })
        return components.filter {
            wanted.contains($0.name.lowercased()) || $0.id.map(wanted.contains) == true
        }
    }

    /// What the page says for an upstream that depends on the components `names` (every
    /// component when empty): the worst of their statuses, with the affected components and
    /// the incident that names one of them (else the most severe unresolved one). Unknown when
    /// the page lists none of them.
    public func verdict(for names: [String]) -> StatusPageVerdict {
        let picked = components(named: names)
        let known = picked.filter { $0.status != nil }
        guard !known.isEmpty else {
            let listed = components.prefix(8).map { Quote.show($0.name) }.joined(separator: ", ")
            let asked = names.map { Quote.show($0) }.joined(separator: ", ")
            return .unknown(
                names.isEmpty
                    ? "the page lists no component with a known status"
                    : "the page lists none of \(asked)" + (listed.isEmpty ? "" : "; it lists \(listed)"))
        }
        let worst = known.map { $0.status! }.max { rank($0) < rank($1) }!
        guard worst != .operational else {
            return StatusPageVerdict(
                .operational, "operational (\(known.map(\.name).joined(separator: ", ")))")
        }
        let affected = known.filter { rank($0.status!) == rank(worst) }.map(\.name)
        var detail = affected.joined(separator: ", ") + ": " + worst.words
        if let incident = incident(for: affected) {
            detail +=
                "; incident \(Quote.show(incident.name)) (\(incident.status), impact \(incident.impact))"
        }
        return StatusPageVerdict(worst.health, detail)
    }

    /// The unresolved incident that names one of `affected`, else the most severe one.
    func incident(for affected: [String]) -> Incident? {
        let wanted = Set(affected.map { $0.lowercased() })
        if let named = incidents.first(where: { $0.components.contains { wanted.contains($0.lowercased()) } })
        {
            return named
        }
        let order = ["critical", "major", "minor", "maintenance", "none"]
        return incidents.min {
            (order.firstIndex(of: $0.impact) ?? 9) < (order.firstIndex(of: $1.impact) ?? 9)
        }
    }

    private func rank(_ status: ComponentStatus) -> Int {
        switch status {
        case .operational: 0
        case .underMaintenance: 1
        case .degradedPerformance: 2
        case .partialOutage: 3
        case .majorOutage: 4
        }
    }
}
