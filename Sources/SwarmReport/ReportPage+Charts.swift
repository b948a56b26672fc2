import SwarmCore
import SwarmProtocol

/// The slots charts and the upstream lanes, on the timeline's time axis.
extension ReportPage {
    /// Orchestrator charts shown before the rest are folded away.
    static let chartsShown = 6

    func slotCharts() -> String {
        guard let top = data.slots.first else { return "" }
        var out = "<p class=\"sub\">Slots held in each budget over time, against the budget (dashed)"
        out += "; the top pool's reserve, which only urgent work may take, is shaded.</p>\n"
        out += "<div class=\"charts\">\n"
        out += chart(top, label: "top pool", caption: "\(top.total) slots, reserve \(top.reserve)")
        let orchestrators = data.slots.dropFirst().sorted { ($0.peak, $1.holder) > ($1.peak, $0.holder) }
        for series in orchestrators.prefix(Self.chartsShown) {
            out += chart(series, label: series.holder, caption: "subtree budget \(series.total)")
        }
        if orchestrators.count > Self.chartsShown {
            out +=
                "<details><summary class=\"sub\">\(orchestrators.count - Self.chartsShown) more orchestrators</summary>\n"
            for series in orchestrators.dropFirst(Self.chartsShown) {
                out += chart(series, label: series.holder, caption: "subtree budget \(series.total)")
            }
            out += "</details>\n"
        }
        return out + "</div>\n"
    }

    private func chart(_ series: ReportData.SlotSeries, label: String, caption: String) -> String {
        let height = 56.0
        let scale = Double(Swift.max(series.total, series.peak, 1))
        let level = { (used: Int) -> Double in height - 2 - Double(used) / scale * (height - 6) }
        let y = { (used: Int) in HTML.number(level(used)) }
        var path = "M0 \(y(0))"
        var last = 0
        for point in series.points {
            let px = HTML.number(x(point.time))
            path += "L\(px) \(y(last))L\(px) \(y(point.used))"
            last = point.used
        }
        path += "L\(Int(Self.laneWidth)) \(y(last))L\(Int(Self.laneWidth)) \(y(0))Z"
        var out = "<div class=\"r chart\"><span class=\"n\"><b>\(HTML.escape(label))</b><br>"
        out += "<small class=\"sub\">peak \(series.peak) of \(caption)</small></span>"
        out += "<svg class=\"lane\" width=\"\(Int(Self.laneWidth))\" height=\"\(Int(height))\">"
        if series.reserve > 0 {
            let top = level(series.total)
            let bottom = level(series.total - series.reserve)
            out +=
                "<rect class=\"reserve\" x=\"0\" y=\"\(HTML.number(top))\" width=\"\(Int(Self.laneWidth))\" "
            out += "height=\"\(HTML.number(bottom - top))\"/>"
        }
        out +=
            "<path class=\"used\" d=\"\(path)\"><title>\(HTML.escape(label)): at most \(series.peak) of \(series.total) slots</title></path>"
        out +=
            "<line class=\"budget\" x1=\"0\" x2=\"\(Int(Self.laneWidth))\" y1=\"\(y(series.total))\" y2=\"\(y(series.total))\"/>"
        return out + "</svg></div>\n"
    }

    func upstreamLanes() -> String {
        guard !data.upstreams.isEmpty else {
            return
                "<p class=\"sub\">No upstreams are configured in swarm.json and no upstream alert was raised: "
                + "agents inherit the daemon's environment.</p>\n"
        }
        var out = "<p class=\"legend\">"
        for (state, words) in [
            ("closed", "breaker closed"), ("open", "open"), ("half-open", "half-open (one probe)"),
        ] {
            out +=
                "<span><svg width=\"12\" height=\"10\"><rect class=\"b-\(state)\" width=\"12\" height=\"10\" rx=\"2\"/></svg> \(words)</span>"
        }
        out +=
            "<span><svg width=\"10\" height=\"10\"><path class=\"m-alert k-upstream-incident\" d=\"M5 0L10 5L5 10L0 5Z\"/></svg> incident, recovery or disabled upstream</span></p>\n"
        out +=
            "<div class=\"tl\">\n<div class=\"r axis\"><span class=\"n\">failure domain</span>\(axis())</div>\n"
        for lane in data.upstreams {
            let name = lane.domain.isEmpty ? "(other upstream alerts)" : lane.domain
            let members =
                lane.upstreams == [lane.domain] || lane.upstreams.isEmpty
                ? "" : " <small class=\"sub\">\(HTML.escape(lane.upstreams.joined(separator: ", ")))</small>"
            out += "<div class=\"r\"><span class=\"n\">\(HTML.escape(name))\(members)</span>"
            out += "<svg class=\"lane\" width=\"\(Int(Self.laneWidth))\" height=\"\(Int(Self.rowHeight))\">"
            for span in lane.spans {
                let x0 = x(span.start)
                out += "<rect class=\"b-\(span.state.rawValue)\" x=\"\(HTML.number(x0))\" y=\"5\" "
                out +=
                    "width=\"\(HTML.number(Swift.max(1, x(span.end) - x0)))\" height=\"8\" rx=\"2\"><title>"
                out += HTML.escape(
                    "\(name): breaker \(span.state.rawValue) for \(HTML.duration(span.end - span.start)) from +\(HTML.duration(span.start - data.start))"
                )
                out += "</title></rect>"
            }
            for mark in lane.marks {
                let p = HTML.number(x(mark.time))
                out +=
                    "<path class=\"m-alert k-\(HTML.escape(mark.kind))\" d=\"M\(p) 1l5 5l-5 5l-5 -5z\"><title>"
                out += HTML.escape("\(mark.kind) at +\(HTML.duration(mark.time - data.start)): \(mark.text)")
                out += "</title></path>"
            }
            out += "</svg></div>\n"
        }
        out += "</div>\n"
        let alerts = data.upstreams.flatMap(\.marks).sorted { $0.time < $1.time }
        if !alerts.isEmpty {
            out += "<table><tr><th>when</th><th>alert</th><th>message</th></tr>\n"
            for mark in alerts {
                out +=
                    "<tr><td>+\(HTML.duration(mark.time - data.start))</td><td>\(HTML.escape(mark.kind))</td>"
                out += "<td>\(HTML.escape(mark.text))</td></tr>\n"
            }
            out += "</table>\n"
        }
        return out
    }
}
