import SwarmCore
import SwarmProtocol

/// Builds a `ReportData` from a `ReportInput`: pure, so it is tested without a tree.
///
/// The records decide what each agent is and how it ended; the history decides how it got
/// there. An agent without history (rotated away, or a tree written before there was one) gets
/// its spans from its record alone: queued from its arrival to its last start, then its end
/// state; a history that begins after an agent's arrival leaves that stretch `unrecorded`.
public enum ReportBuilder {
    /// The report of `input`.
    public static func build(_ input: ReportInput) -> ReportData {
        let records = Dictionary(input.records.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var steps: [String: [AgentStep]] = [:]
        var breakerEvents: [HistoryEvent] = []
        var daemons: [ReportData.Mark] = []
        for event in input.events {
            switch event {
            case .agent(let step) where records[step.agent] != nil:
                steps[step.agent, default: []].append(step)
            case .agent:
                continue
            case .breaker:
                breakerEvents.append(event)
            case .daemon(let time, let started, let pid):
                breakerEvents.append(event)
                daemons.append(
                    ReportData.Mark(
                        time: time, kind: started ? "daemon-started" : "daemon-stopped",
                        text: "daemon \(pid) \(started ? "started" : "stopped")"))
            }
        }
        let (start, end) = window(input, records: records)
        let order = treeOrder(input.records)
        var agentAlerts: [String: [ReportData.Mark]] = [:]
        var upstreamAlerts: [ReportAlert] = []
        var otherAlerts: [ReportData.Mark] = []
        for alert in input.alerts {
            let mark = ReportData.Mark(time: alert.time, kind: alert.kind, text: alert.message)
            if let agent = alert.agent, records[agent] != nil {
                agentAlerts[agent, default: []].append(mark)
            } else if alert.kind.hasPrefix("upstream-") {
                upstreamAlerts.append(alert)
            } else {
                otherAlerts.append(mark)
            }
        }
        var complete = true
        var rows: [ReportData.Row] = []
        var failures: [ReportData.Failure] = []
        for (id, depth) in order {
            guard let record = records[id] else { continue }
            let agentSteps = (steps[id] ?? []).sorted { $0.time < $1.time }
            var timeline = AgentTimeline(record: record, steps: agentSteps, end: end)
            timeline.build()
            if timeline.unrecorded { complete = false }
            failures += timeline.failures
            let marks = (timeline.marks + (agentAlerts[id] ?? [])).sorted { $0.time < $1.time }
            rows.append(row(record, depth: depth, spans: timeline.spans, marks: marks))
        }
        addSubtreeTotals(&rows)
        var counts: [String: Int] = [:]
        for row in rows { counts[row.state.rawValue, default: 0] += 1 }
        let deadLetters = input.deadLetters.keys.sorted().map {
            ReportData.DeadLetterEntry(agent: $0, reason: input.deadLetters[$0] ?? "")
        }
        return ReportData(
            start: start, end: end, generatedAt: input.generatedAt, live: input.live, root: input.root,
            rows: rows,
            slots: SlotReplay.series(
                rows: rows, maxSlots: input.maxSlots, reserve: input.reserve, start: start),
            upstreams: BreakerLanes.lanes(
                upstreams: input.upstreams, events: breakerEvents, alerts: upstreamAlerts, start: start,
                end: end),
            failures: failures.sorted { ($0.time, $0.agent) < ($1.time, $1.agent) }, deadLetters: deadLetters,
            otherAlerts: otherAlerts, daemons: daemons, stateCounts: counts, historyComplete: complete)
    }

    /// The first and last recorded moment (at least a tenth of a second apart); while a daemon
    /// runs, the last is now.
    static func window(_ input: ReportInput, records: [String: AgentRecord]) -> (Millis, Millis) {
        var times: [Millis] = input.events.map(\.time) + input.alerts.map(\.time)
        for record in input.records {
            times.append(record.createdAt)
            if let started = record.startedAt { times.append(started) }
            if let finished = record.finishedAt { times.append(finished) }
        }
        if input.live { times.append(input.generatedAt) }
        guard let first = times.min(), let last = times.max() else {
            return (input.generatedAt, input.generatedAt + 100)
        }
        return (first, max(last, first + 100))
    }

    /// Ids in tree order with their depth in the tree (0 at the top): each agent followed by its
    /// children in arrival order. An agent whose parent has no record is shown at the top.
    static func treeOrder(_ records: [AgentRecord]) -> [(String, Int)] {
        let ids = Set(records.map(\.id))
        var children: [String: [AgentRecord]] = [:]
        var tops: [AgentRecord] = []
        for record in records {
            if let parent = record.parent, ids.contains(parent), parent != record.id {
                children[parent, default: []].append(record)
            } else {
                tops.append(record)
            }
        }
        var order: [(String, Int)] = []
        var seen: Set<String> = []
        var stack: [(AgentRecord, Int)] = tops.sorted { $0.sequence > $1.sequence }.map { ($0, 0) }
        while let (record, depth) = stack.popLast() {
            guard seen.insert(record.id).inserted else { continue }
            order.append((record.id, depth))
            let below = (children[record.id] ?? []).sorted { $0.sequence > $1.sequence }
            stack += below.map { ($0, depth + 1) }
        }
        return order
    }

    private static func row(
        _ record: AgentRecord, depth: Int, spans: [ReportData.Span], marks: [ReportData.Mark]
    ) -> ReportData.Row {
        ReportData.Row(
            id: record.id, parent: record.parent, depth: depth, kind: record.kind, role: record.role,
            template: record.template, state: record.state, attempts: record.attempts, runs: record.runs,
            slots: record.slots, createdAt: record.createdAt, finishedAt: record.finishedAt,
            lastFailure: record.lastFailure, tokens: record.totalTokens, cost: record.totalCost,
            subtreeTokens: record.totalTokens, subtreeCost: record.totalCost, subtreeSize: 1,
            subtreeStates: [record.state.rawValue: 1], spans: spans, marks: marks)
    }

    /// Sums each row's subtree (rows are in tree order: a subtree follows its head).
    private static func addSubtreeTotals(_ rows: inout [ReportData.Row]) {
        var index: [String: Int] = [:]
        for (i, row) in rows.enumerated() { index[row.id] = i }
        for i in rows.indices.reversed() {
            guard let parent = rows[i].parent, let p = index[parent], p < i else { continue }
            rows[p].subtreeTokens += rows[i].subtreeTokens
            rows[p].subtreeCost += rows[i].subtreeCost
            rows[p].subtreeSize += rows[i].subtreeSize
            rows[p].subtreeStates.merge(rows[i].subtreeStates, uniquingKeysWith: +)
        }
    }
}
