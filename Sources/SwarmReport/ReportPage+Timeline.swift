import SwarmCore
import SwarmProtocol

/// The timeline: an axis, a legend, then one row per agent in tree order, each orchestrator's
/// subtree folded into a `<details>` element.
extension ReportPage {
    func timeline() -> String {
        guard !data.rows.isEmpty else {
            return "<p class=\"sub\">No agents yet: drop a task file into swarm/inbox/ or use "
                + "<code>swarm submit</code>.</p>\n"
        }
        var out = legend()
        out += "<div class=\"tl\">\n"
        out += "<div class=\"r axis\"><span class=\"n\">agent</span>\(axis())</div>\n"
        let rows = data.rows
        let foldHealthy = rows.count > Self.openAll
        // The rows are in tree order: a subtree is the run of rows below its head with a
        // greater depth. Open `<details>` are closed as the depth falls back.
        var open: [Int] = []
        for (i, row) in rows.enumerated() {
            while let depth = open.last, depth >= row.depth {
                out += "</details>\n"
                open.removeLast()
            }
            let hasChildren = i + 1 < rows.count && rows[i + 1].depth > row.depth
            if hasChildren {
                let troubled = row.subtreeStates.keys.contains { $0 != AgentState.done.rawValue }
                let expanded = !foldHealthy || row.depth == 0 || troubled
                out += "<details\(expanded ? " open" : "")><summary>\(rowLine(row, folder: true))</summary>\n"
                open.append(row.depth)
            } else {
                out += rowLine(row, folder: false) + "\n"
            }
        }
        out += String(repeating: "</details>\n", count: open.count)
        out += "</div>\n"
        return out
    }

    private func legend() -> String {
        var out = "<p class=\"legend\">"
        let phases: [(ReportData.Phase, String)] = [
            (.queued, "queued"), (.backoff, "backoff before a retry"), (.running, "running"),
            (.idle, "orchestrator waiting for its children"), (.waiting, "waiting for a human"),
            (.stopping, "being stopped"), (.unrecorded, "not recorded"),
        ]
        for (phase, words) in phases {
            out +=
                "<span><svg width=\"12\" height=\"10\"><rect class=\"p-\(phase.rawValue)\" width=\"12\" height=\"10\" rx=\"2\"/></svg> \(words)</span>"
        }
        out +=
            "<span><svg width=\"10\" height=\"10\"><path class=\"m-alert\" d=\"M5 0L10 5L5 10L0 5Z\"/></svg> alert</span>"
        out +=
            "<span><svg width=\"4\" height=\"10\"><rect class=\"m-attempt\" width=\"2\" height=\"10\"/></svg> next attempt</span>"
        out +=
            "<span><svg width=\"10\" height=\"10\"><circle class=\"e-done\" cx=\"5\" cy=\"5\" r=\"4\"/></svg> end (colour of its state)</span>"
        out += "</p>\n<p class=\"sub\">Hover over a bar or a mark for its details. Folded subtrees "
        out += "(▸) hold only agents that finished done.</p>\n"
        return out
    }

    /// Time ticks across a lane, labelled from the start of the run.
    func axis() -> String {
        let total = data.end - data.start
        let step = Self.tickStep(total)
        var out = "<svg class=\"lane\" width=\"\(Int(Self.laneWidth))\" height=\"\(Int(Self.rowHeight))\">"
        var t: Millis = 0
        while t <= total {
            let px = HTML.number(x(data.start + t))
            out += "<line class=\"tick\" x1=\"\(px)\" x2=\"\(px)\" y1=\"12\" y2=\"18\"/>"
            let anchor = t == 0 ? "start" : (x(data.start + t) > Self.laneWidth - 30 ? "end" : "middle")
            out += "<text x=\"\(px)\" y=\"10\" text-anchor=\"\(anchor)\">\(HTML.duration(t))</text>"
            t += step
        }
        return out + "</svg>"
    }

    /// A round step that gives at most eight ticks over `total` milliseconds.
    static func tickStep(_ total: Millis) -> Millis {
        let steps: [Millis] = [
            100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
            900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
        ]
        return steps.first { total / $0 <= 8 } ?? Swift.max(1, total / 8)
    }

    private func rowLine(_ row: ReportData.Row, folder: Bool) -> String {
        let indent = HTML.number(Double(row.depth) * 14 + (folder ? 0 : 12))
        var name =
            "<span class=\"n\" style=\"padding-left:\(indent)px\" title=\"\(HTML.escape(rowTitle(row)))\">"
        name +=
            HTML.escape(row.id) + " <small class=\"s-\(row.state.rawValue)\">\(row.state.rawValue)</small>"
        if folder {
            let trouble = AgentState.allCases.filter { $0 != .done }.compactMap { state in
                row.subtreeStates[state.rawValue].map { "\($0) \(state.rawValue)" }
            }
            let words = trouble.isEmpty ? "all done" : trouble.joined(separator: ", ")
            name += " <small class=\"sub\">\(row.subtreeSize) agents, \(words)</small>"
        }
        name += "</span>"
        return "<span class=\"r\">\(name)\(lane(row))</span>"
    }

    private func rowTitle(_ row: ReportData.Row) -> String {
        var text =
            "\(row.id): \(row.kind.rawValue), role \(row.role), template \(row.template), \(row.state.rawValue)"
        text +=
            ", \(row.attempts) attempt\(row.attempts == 1 ? "" : "s"), \(row.runs) run\(row.runs == 1 ? "" : "s")"
        if row.kind == .orchestrator { text += ", \(row.slots) slots" }
        if row.tokens > 0 || row.cost > 0 {
            text += ", \(HTML.grouped(row.tokens)) tokens, \(HTML.dollars(row.cost))"
        }
        if let reason = row.lastFailure { text += "\nlast failure: \(reason)" }
        return text
    }

    private func lane(_ row: ReportData.Row) -> String {
        var out = "<svg class=\"lane\" width=\"\(Int(Self.laneWidth))\" height=\"\(Int(Self.rowHeight))\">"
        for span in row.spans {
            let x0 = x(span.start)
            let width = Swift.max(1, x(span.end) - x0)
            var title =
                "\(row.id): \(span.phase.rawValue), attempt \(span.attempt), \(HTML.duration(span.end - span.start))"
            title += " from +\(HTML.duration(span.start - data.start))"
            if let upstream = span.upstream { title += " on \(upstream)" }
            out +=
                "<rect class=\"p-\(span.phase.rawValue)\" x=\"\(HTML.number(x0))\" y=\"4\" width=\"\(HTML.number(width))\" height=\"10\" rx=\"2\">"
            out += "<title>\(HTML.escape(title))</title></rect>"
        }
        for mark in row.marks {
            let px = x(mark.time)
            let at = " at +\(HTML.duration(mark.time - data.start))"
            switch mark.kind {
            case "attempt":
                out +=
                    "<rect class=\"m-attempt\" x=\"\(HTML.number(px - 1))\" y=\"2\" width=\"2\" height=\"14\">"
            case "end":
                let state = (mark.state ?? .done).rawValue
                out += "<circle class=\"e-\(state)\" cx=\"\(HTML.number(px))\" cy=\"9\" r=\"4\">"
            default:
                let p = HTML.number(px)
                out += "<path class=\"m-alert k-\(HTML.escape(mark.kind))\" d=\"M\(p) 0l4 4l-4 4l-4 -4z\">"
            }
            out += "<title>\(HTML.escape(mark.kind + at + ": " + mark.text))</title>"
            out += mark.kind == "attempt" ? "</rect>" : mark.kind == "end" ? "</circle>" : "</path>"
        }
        return out + "</svg>"
    }
}
