import SwarmCore
import SwarmProtocol

/// The report as one self-contained HTML page: inline CSS and SVG, no script, nothing loaded
/// from anywhere. Subtrees are `<details>` elements, so a run of hundreds of agents opens
/// with its healthy subtrees folded and every failure in view. Every text taken from the tree
/// (ids, roles, reasons, alert messages) is escaped.
public struct ReportPage {
    let data: ReportData
    /// Width of a timeline lane in pixels; the name column is beside it.
    static let laneWidth = 760.0
    static let rowHeight = 18.0
    /// Up to this many rows, every subtree starts open.
    static let openAll = 120
    /// Failure rows shown; the rest are counted (all of them are in `--json`).
    static let failureLimit = 500

    /// The page of `data`.
    public init(_ data: ReportData) {
        self.data = data
    }

    /// The x coordinate of `time` in a lane.
    func x(_ time: Millis) -> Double {
        let span = Double(max(1, data.end - data.start))
        return Swift.min(Self.laneWidth, Swift.max(0, Double(time - data.start) / span * Self.laneWidth))
    }

    /// The whole page.
    public func render() -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out +=
            "<title>swarm report: \(HTML.escape(data.root))</title>\n<style>\n\(Self.css)</style>\n</head>\n<body>\n"
        out += header()
        out += section("Timeline", timeline())
        out += section("Slots in use", slotCharts())
        out += section("Tokens and cost per subtree", usageTable())
        out += section("Upstreams", upstreamLanes())
        out += section("Failures", failureTable())
        out += section("Dead letters", deadLetterList())
        if !data.otherAlerts.isEmpty { out += section("Other alerts", otherAlertTable()) }
        out +=
            "<footer>Made by <code>swarm report</code> from the tree at \(HTML.escape(HTML.clock(data.generatedAt))).</footer>\n"
        out += "</body>\n</html>\n"
        return out
    }

    private func section(_ title: String, _ body: String) -> String {
        "<section>\n<h2>\(title)</h2>\n\(body)</section>\n"
    }

    private func header() -> String {
        let rows = data.rows
        let attempts = rows.reduce(0) { $0 + $1.attempts }
        let retries = rows.reduce(0) { $0 + Swift.max(0, $1.attempts - 1) }
        let tokens = rows.reduce(Int64(0)) { $0 + $1.tokens }
        let cost = rows.reduce(0.0) { $0 + $1.cost }
        let incidents = data.upstreams.reduce(0) {
            $0 + $1.marks.filter { $0.kind == "upstream-incident" }.count
        }
        var out =
            "<header>\n<h1>swarm report</h1>\n<p class=\"sub\"><code>\(HTML.escape(data.root))</code></p>\n"
        out += "<p>\(HTML.escape(HTML.clock(data.start))) to \(HTML.escape(HTML.clock(data.end))) "
        out +=
            "(\(HTML.duration(data.end - data.start))): <b>\(rows.count)</b> agent\(rows.count == 1 ? "" : "s"), "
        out +=
            "\(attempts) attempt\(attempts == 1 ? "" : "s") (\(retries) retr\(retries == 1 ? "y" : "ies")), "
        out += "\(HTML.grouped(tokens)) tokens, \(HTML.dollars(cost)), "
        out += "\(data.failures.count) failed attempt\(data.failures.count == 1 ? "" : "s"), "
        out += "\(incidents) upstream incident\(incidents == 1 ? "" : "s").</p>\n<p class=\"chips\">"
        for state in AgentState.allCases {
            guard let count = data.stateCounts[state.rawValue] else { continue }
            out += "<span class=\"chip s-\(state.rawValue)\">\(state.rawValue) \(count)</span>"
        }
        out += "</p>\n"
        if data.live {
            out += "<p class=\"note\">A daemon runs on this tree: this is the run so far, and what is still "
            out += "under way is drawn up to \(HTML.escape(HTML.clock(data.generatedAt))).</p>\n"
        }
        if !data.historyComplete {
            out +=
                "<p class=\"note\">The history (swarm/events.jsonl) does not cover the whole run (it was "
                + "rotated, or the tree predates it): grey stretches were not recorded, and rows without "
                + "history are drawn from meta.json alone.</p>\n"
        }
        return out + "</header>\n"
    }
}
