import SwarmCore
import SwarmProtocol

/// Slots in use over time, replayed from the rows' spans: a worker holds 1 slot of its
/// parent's budget (the top pool at the top) while its command runs, waits for an answer or
/// is being stopped; an orchestrator holds 1 + its `slots` from its first start until it
/// settles, idle spans included.
enum SlotReplay {
    static func series(rows: [ReportData.Row], maxSlots: Int, reserve: Int, start: Millis) -> [ReportData
        .SlotSeries]
    {
        let ids = Set(rows.map(\.id))
        var changes: [String: [(time: Millis, delta: Int)]] = [:]
        for row in rows {
            let holder = row.parent.flatMap { ids.contains($0) ? $0 : nil } ?? ""
            let footprint = row.kind == .orchestrator ? 1 + row.slots : 1
            for span in row.spans where holds(span.phase) {
                changes[holder, default: []].append((span.start, footprint))
                changes[holder, default: []].append((span.end, -footprint))
            }
        }
        var result = [replay("", total: maxSlots, reserve: reserve, changes: changes[""] ?? [], start: start)]
        for row in rows where row.kind == .orchestrator {
            result.append(
                replay(row.id, total: row.slots, reserve: 0, changes: changes[row.id] ?? [], start: start))
        }
        return result
    }

    static func holds(_ phase: ReportData.Phase) -> Bool {
        switch phase {
        case .running, .idle, .waiting, .stopping: true
        case .queued, .backoff, .unrecorded: false
        }
    }

    private static func replay(
        _ holder: String, total: Int, reserve: Int, changes: [(time: Millis, delta: Int)], start: Millis
    ) -> ReportData.SlotSeries {
        // at one moment, releases count before takes, so a slot handed on shows no peak
        let sorted = changes.sorted { ($0.time, $0.delta) < ($1.time, $1.delta) }
        var points = [ReportData.SlotPoint(time: start, used: 0)]
        var used = 0
        var peak = 0
        for change in sorted {
            used += change.delta
            peak = max(peak, used)
            if let last = points.last, last.time == change.time {
                points[points.count - 1].used = used
            } else {
                points.append(ReportData.SlotPoint(time: change.time, used: used))
            }
        }
        return ReportData.SlotSeries(
            holder: holder, total: total, reserve: reserve, points: points, peak: peak)
    }
}
