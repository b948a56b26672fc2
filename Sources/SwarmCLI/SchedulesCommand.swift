import SwarmCore
import SwarmProtocol
import SwarmRuntime
import SwarmSystem

/// `swarm schedules [--json]`.
enum SchedulesCommand {
    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        let now = Clock.wallMilliseconds()
        let (daemon, summaries) = ScheduleView.summaries(workspace, now: now)
        if context.has("--json") {
            Output.print(
                JSON.encode(.object(["daemon": .bool(daemon), "schedules": .array(summaries.map(\.json))])))
            return
        }
        if summaries.isEmpty {
            Output.print(
                "no schedules; write swarm/schedules/NAME.md (a task with every: 15m or every: 3 heartbeats)")
            return
        }
        let rows = summaries.map { row($0, now: now) }
        Output.print(
            Table.render(
                header: ["NAME", "EVERY", "NEXT", "LAST", "FIRINGS", "SKIPPED", "NOTE"], rows: rows))
        if !daemon { Output.print("no daemon runs: NEXT is when one started now would fire") }
    }

    private static func row(_ s: ScheduleSummary, now: Int64) -> [String] {
        let next = s.next.map { time in
            let wait = max(0, time - now)
            return StatusCommand.shortTime(Timestamp.iso8601(milliseconds: time))
                + (wait == 0
                    ? " (due)" : " (in \(DurationText.format(wait - wait % (wait >= 1000 ? 1000 : 1))))")
        }
        let last = s.last.map { "\($0.id) \($0.state)" } ?? "-"
        let skipped = ScheduleSkip.allCases.compactMap { reason -> String? in
            let count = s.skips[reason] ?? 0
            return count > 0 ? "\(reason.rawValue) \(count)" : nil
        }
        var notes: [String] = []
        if let problem = s.problem { notes.append("broken: " + problem) }
        if !s.missing.isEmpty { notes.append("missing (unchanged): " + s.missing.joined(separator: " ")) }
        if let note = s.note { notes.append(note) }
        if let reason = s.last?.reason { notes.append(reason) }
        return [
            s.name, s.every ?? "-", s.problem == nil ? (next ?? "-") : "-", last, String(s.firings),
            skipped.isEmpty ? "-" : skipped.joined(separator: ", "),
            String(notes.joined(separator: "; ").prefix(100)),
        ]
    }
}
