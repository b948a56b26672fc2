import SwarmCore
import SwarmProtocol

/// The tables: usage per subtree, failures, dead letters, other alerts.
extension ReportPage {
    func usageTable() -> String {
        let heads = data.rows.filter { $0.kind == .orchestrator || $0.depth == 0 }
        guard data.rows.contains(where: { $0.tokens > 0 || $0.cost > 0 }) else {
            return
                "<p class=\"sub\">No agent reported tokens or cost (see PROTOCOL.md, Budgets per branch).</p>\n"
        }
        let most = Swift.max(1, heads.map(\.subtreeTokens).max() ?? 1)
        var out = "<table class=\"usage\"><tr><th>subtree</th><th>agents</th><th>tokens</th><th></th>"
        out += "<th>cost</th><th>own tokens</th></tr>\n"
        for row in heads {
            let width = HTML.number(Double(row.subtreeTokens) / Double(most) * 240)
            let indent = HTML.number(Double(row.depth) * 14)
            out += "<tr><td style=\"padding-left:\(indent)px\"><code>\(HTML.escape(row.id))</code></td>"
            out += "<td>\(row.subtreeSize)</td><td class=\"num\">\(HTML.grouped(row.subtreeTokens))</td>"
            out +=
                "<td><svg width=\"240\" height=\"10\"><rect class=\"bar\" width=\"\(width)\" height=\"10\" rx=\"2\"/></svg></td>"
            out +=
                "<td class=\"num\">\(HTML.dollars(row.subtreeCost))</td><td class=\"num\">\(HTML.grouped(row.tokens))</td></tr>\n"
        }
        return out + "</table>\n"
    }

    func failureTable() -> String {
        guard !data.failures.isEmpty else { return "<p class=\"sub\">No attempt failed.</p>\n" }
        var out =
            "<table><tr><th>when</th><th>agent</th><th>attempt</th><th>class</th><th>reason</th><th>then</th></tr>\n"
        for failure in data.failures.prefix(Self.failureLimit) {
            out += "<tr><td>+\(HTML.duration(failure.time - data.start))</td>"
            out += "<td><code>\(HTML.escape(failure.agent))</code></td><td>\(failure.attempt)</td>"
            out += "<td>\(HTML.escape(failure.kind))</td><td>\(HTML.escape(failure.reason))</td>"
            out +=
                "<td class=\"s-\(HTML.escape(failure.outcome))\">\(HTML.escape(failure.outcome))</td></tr>\n"
        }
        out += "</table>\n"
        if data.failures.count > Self.failureLimit {
            out +=
                "<p class=\"sub\">\(data.failures.count - Self.failureLimit) more in <code>swarm report --json</code>.</p>\n"
        }
        return out
    }

    func deadLetterList() -> String {
        guard !data.deadLetters.isEmpty else { return "<p class=\"sub\">No dead letters.</p>\n" }
        var out = "<p class=\"sub\">Each is kept in <code>swarm/dead-letter/ID/</code>; "
        out += "<code>swarm retry ID</code> queues it again.</p>\n"
        for entry in data.deadLetters {
            let first =
                entry.reason.split(separator: "\n").first { !$0.allSatisfy { $0 == " " || $0 == "#" } } ?? ""
            out += "<details class=\"dl\"><summary><code>\(HTML.escape(entry.agent))</code> "
            out +=
                "<span class=\"sub\">\(HTML.escape(String(first.drop { $0 == "#" || $0 == " " })))</span></summary>"
            out += "<pre>\(HTML.escape(entry.reason))</pre></details>\n"
        }
        return out
    }

    func otherAlertTable() -> String {
        var out = "<table><tr><th>when</th><th>alert</th><th>message</th></tr>\n"
        for mark in data.otherAlerts {
            out += "<tr><td>+\(HTML.duration(mark.time - data.start))</td><td>\(HTML.escape(mark.kind))</td>"
            out += "<td>\(HTML.escape(mark.text))</td></tr>\n"
        }
        return out + "</table>\n"
    }

    static let css = """
        :root { color-scheme: light; }
        body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
          color: #1f2937; background: #fff; margin: 24px auto; max-width: 1120px; padding: 0 16px; }
        h1 { font-size: 22px; margin: 0 0 2px; }
        h2 { font-size: 15px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #e5e7eb; }
        code, .n { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; }
        .sub { color: #6b7280; }
        small { font-size: 11px; }
        .note { background: #fef3c7; padding: 6px 10px; border-radius: 4px; }
        .chip { display: inline-block; padding: 1px 9px; margin: 0 6px 4px 0; border-radius: 10px;
          background: #f3f4f6; font-weight: 600; }
        .legend span { margin-right: 14px; white-space: nowrap; }
        .legend svg { vertical-align: -1px; }
        .tl { border: 1px solid #e5e7eb; border-radius: 6px; padding: 2px 0; }
        .r { display: flex; align-items: center; min-height: 18px; }
        .tl .r:hover { background: #f9fafb; }
        .n { width: 320px; flex: none; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
          padding-right: 8px; box-sizing: border-box; }
        .axis { border-bottom: 1px solid #e5e7eb; color: #6b7280; }
        .axis text { font-size: 10px; fill: #6b7280; }
        .tick { stroke: #9ca3af; }
        .lane { flex: none; overflow: visible; }
        details > summary { list-style: none; cursor: pointer; }
        details > summary::-webkit-details-marker { display: none; }
        .tl details > summary .n::before { content: "\\25B8  "; color: #6b7280; }
        .tl details[open] > summary .n::before { content: "\\25BE  "; }
        .p-queued { fill: #cbd5e1; } .p-backoff { fill: #f59e0b; } .p-running { fill: #2563eb; }
        .p-idle { fill: #93c5fd; } .p-waiting { fill: #a855f7; } .p-stopping { fill: #f97316; }
        .p-unrecorded { fill: #e5e7eb; }
        .m-attempt { fill: #111827; }
        .m-alert { fill: #f59e0b; stroke: #fff; stroke-width: 1; }
        .k-dead-letter, .k-killed, .k-contract-violation, .k-over-budget, .k-upstream-incident,
        .k-upstream-disabled, .k-disk-full { fill: #dc2626; }
        .k-waiting-for-human { fill: #a855f7; } .k-upstream-recovered, .k-disk-recovered { fill: #16a34a; }
        .e-done { fill: #16a34a; } .e-failed { fill: #dc2626; } .e-dead-letter { fill: #7f1d1d; }
        .e-killed { fill: #111827; } .e-skipped { fill: #9ca3af; }
        .e-done, .e-failed, .e-dead-letter, .e-killed, .e-skipped { stroke: #fff; stroke-width: 1; }
        .s-done { color: #15803d; } .s-failed, .s-dead-letter { color: #b91c1c; } .s-killed { color: #111827; }
        .s-running { color: #1d4ed8; } .s-waiting { color: #7e22ce; } .s-queued, .s-skipped { color: #6b7280; }
        .s-retry { color: #b45309; }
        .chip.s-done { background: #dcfce7; } .chip.s-dead-letter, .chip.s-failed { background: #fee2e2; }
        .chip.s-running { background: #dbeafe; } .chip.s-waiting { background: #f3e8ff; }
        .chart { margin: 4px 0; }
        .used { fill: #bfdbfe; stroke: #2563eb; stroke-width: 1.2; }
        .budget { stroke: #374151; stroke-dasharray: 4 3; }
        .reserve { fill: #fee2e2; }
        .b-closed { fill: #bbf7d0; } .b-open { fill: #dc2626; } .b-half-open { fill: #f59e0b; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
        th { font-weight: 600; background: #f9fafb; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .bar { fill: #2563eb; }
        .dl summary { padding: 3px 0; }
        pre { white-space: pre-wrap; background: #f9fafb; padding: 8px 10px; border-radius: 4px; margin: 4px 0 10px; }
        footer { margin-top: 32px; color: #9ca3af; font-size: 11px; }

        """
}
