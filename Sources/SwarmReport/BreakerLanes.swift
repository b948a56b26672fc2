import SwarmCore
import SwarmProtocol

/// Each failure domain's breaker over time, from the history's breaker lines, with the
/// upstream alerts placed on the domain they name. A daemon that starts has every breaker
/// closed (breakers live in its memory), so each daemon start closes them all.
enum BreakerLanes {
    static func lanes(
        upstreams: [(name: String, domain: String)], events: [HistoryEvent], alerts: [ReportAlert],
        start: Millis, end: Millis
    ) -> [ReportData.UpstreamLane] {
        var domains: [String] = []
        var members: [String: [String]] = [:]
        for upstream in upstreams {
            if members[upstream.domain] == nil { domains.append(upstream.domain) }
            members[upstream.domain, default: []].append(upstream.name)
        }
        var changes: [String: [(Millis, BreakerState, Millis?)]] = [:]
        for case .breaker(let time, let domain, let state, let until) in events {
            if members[domain] == nil {
                domains.append(domain)
                members[domain] = []
            }
            changes[domain, default: []].append((time, state, until))
        }
        for case .daemon(let time, true, _) in events {
            for domain in domains { changes[domain, default: []].append((time, .closed, nil)) }
        }
        var marks: [String: [ReportData.Mark]] = [:]
        for alert in alerts {
            let mark = ReportData.Mark(time: alert.time, kind: alert.kind, text: alert.message)
            marks[domain(of: alert.message, domains: domains, members: members) ?? "", default: []].append(
                mark)
        }
        var lanes = domains.map { domain in
            ReportData.UpstreamLane(
                domain: domain, upstreams: members[domain] ?? [],
                spans: spans(changes[domain] ?? [], start: start, end: end), marks: marks[domain] ?? [])
        }
        if let unplaced = marks[""] {
            lanes.append(ReportData.UpstreamLane(domain: "", upstreams: [], spans: [], marks: unplaced))
        }
        return lanes
    }

    /// The domain an upstream alert is about: the word after its first `domain` (`upstream
    /// domain primary is failing`), else the domain of the upstream after its first `upstream`
    /// (`upstream primary refused our credentials`), else none.
    static func domain(of message: String, domains: [String], members: [String: [String]]) -> String? {
        let words = message.split {
            $0 == " " || $0 == "(" || $0 == ")" || $0 == ";" || $0 == "," || $0 == "`"
        }
        .map { $0.hasSuffix(".") || $0.hasSuffix(":") ? String($0.dropLast()) : String($0) }
        for (i, word) in words.enumerated() where i + 1 < words.count {
            if word == "domain", domains.contains(words[i + 1]) { return words[i + 1] }
            if word == "upstream",
                let d = domains.first(where: { members[$0]?.contains(words[i + 1]) == true })
            {
                return d
            }
        }
        return nil
    }

    /// Closed until the first change; an open breaker turns half-open at its `until`.
    private static func spans(
        _ changes: [(Millis, BreakerState, Millis?)], start: Millis, end: Millis
    ) -> [ReportData.BreakerSpan] {
        var result: [ReportData.BreakerSpan] = []
        func add(_ from: Millis, _ to: Millis, _ state: BreakerState) {
            guard to > from else { return }
            if let last = result.last, last.state == state, last.end == from {
                result[result.count - 1].end = to
            } else {
                result.append(ReportData.BreakerSpan(start: from, end: to, state: state))
            }
        }
        var time = start
        var state = BreakerState.closed
        var until: Millis?
        // stable: a breaker line and a daemon start at one moment keep their order
        let ordered = changes.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }
        for (at, next, nextUntil) in ordered.map(\.element) {
            if state == .open, let until, until < at {
                add(time, until, .open)
                add(until, at, .halfOpen)
            } else {
                add(time, at, state)
            }
            time = at
            state = next
            until = nextUntil
        }
        if state == .open, let until, until < end {
            add(time, until, .open)
            add(until, end, .halfOpen)
        } else {
            add(time, end, state)
        }
        return result
    }
}
