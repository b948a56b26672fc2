import SwarmCore
import SwarmProtocol

/// Everything a report is made from, read from the tree by the caller: the records (the
/// truth about every agent), the history (`events.jsonl`, possibly rotated or torn), the
/// alerts, the budgets of swarm.json and the dead letters' reasons. Values only, so the
/// report can be built and tested without a file system.
public struct ReportInput: Sendable {
    /// Every agent's record (meta.json), in any order.
    public var records: [AgentRecord]
    /// The history, oldest first (events.jsonl.1, then events.jsonl).
    public var events: [HistoryEvent]
    /// alerts.jsonl, oldest first.
    public var alerts: [ReportAlert]
    /// swarm.json's `maxSlots` and `reserve`: the top budget.
    public var maxSlots: Int
    public var reserve: Int
    /// The upstreams of swarm.json: name and failure domain, in order of preference.
    public var upstreams: [(name: String, domain: String)]
    /// `dead-letter/<id>/reason.md` of each dead letter, by id.
    public var deadLetters: [String: String]
    /// The workspace root, shown in the heading.
    public var root: String
    /// When the report was made (shown; the timeline ends at the last recorded moment, or
    /// now while a daemon runs).
    public var generatedAt: Millis
    /// True while a daemon runs on the tree: what is still under way lasts until now.
    public var live: Bool

    /// The input; every part but the records, history, alerts and budgets may be left out.
    public init(
        records: [AgentRecord], events: [HistoryEvent], alerts: [ReportAlert], maxSlots: Int, reserve: Int,
        upstreams: [(name: String, domain: String)] = [], deadLetters: [String: String] = [:],
        root: String = "", generatedAt: Millis = 0, live: Bool = false
    ) {
        self.records = records
        self.events = events
        self.alerts = alerts
        self.maxSlots = maxSlots
        self.reserve = reserve
        self.upstreams = upstreams
        self.deadLetters = deadLetters
        self.root = root
        self.generatedAt = generatedAt
        self.live = live
    }
}

/// One line of alerts.jsonl.
public struct ReportAlert: Sendable, Equatable {
    /// The alert's time, kind, agent (nil when it concerns none) and message.
    public var time: Millis
    public var kind: String
    public var agent: String?
    public var message: String

    /// An alert with these fields.
    public init(time: Millis, kind: String, agent: String?, message: String) {
        self.time = time
        self.kind = kind
        self.agent = agent
        self.message = message
    }

    /// Every alert in the bytes of alerts.jsonl, skipping lines that cannot be read.
    public static func parseAll(_ bytes: [UInt8]) -> [ReportAlert] {
        bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let o = (try? JSON.parse(Array(line)))?.objectValue,
                let time = o["time"]?.stringValue.flatMap(Timestamp.parse),
                let kind = o["kind"]?.stringValue
            else { return nil }
            return ReportAlert(
                time: time, kind: kind, agent: o["agent"]?.stringValue,
                message: o["message"]?.stringValue ?? "")
        }
    }
}
