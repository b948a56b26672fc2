import SwarmCore
import SwarmProtocol

/// `swarm report --json`: the report's data as one JSON document. Times are ISO-8601 (UTC).
extension ReportData {
    /// The whole report as one JSON object.
    public var json: JSONValue {
        var o = JSONObject()
        o["root"] = .string(root)
        o["generated"] = isoTime(generatedAt)
        o["live"] = .bool(live)
        o["start"] = isoTime(start)
        o["end"] = isoTime(end)
        o["history_complete"] = .bool(historyComplete)
        o["states"] = .object(
            JSONObject(stateCounts.sorted { $0.key < $1.key }.map { ($0.key, .integer(Int64($0.value))) }))
        o["agents"] = .array(rows.map(\.json))
        o["slots"] = .array(slots.map(\.json))
        o["upstreams"] = .array(upstreams.map(\.json))
        o["failures"] = .array(failures.map(\.json))
        o["dead_letters"] = .array(
            deadLetters.map { .object(["agent": .string($0.agent), "reason": .string($0.reason)]) })
        o["other_alerts"] = .array(otherAlerts.map(\.json))
        o["daemons"] = .array(daemons.map(\.json))
        return .object(o)
    }
}

func isoTime(_ millis: Millis) -> JSONValue { .string(Timestamp.iso8601(milliseconds: millis)) }

extension ReportData.Row {
    var json: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        o["parent"] = parent.map { .string($0) } ?? .null
        o["depth"] = .integer(Int64(depth))
        o["kind"] = .string(kind.rawValue)
        o["role"] = .string(role)
        o["template"] = .string(template)
        o["state"] = .string(state.rawValue)
        o["attempts"] = .integer(Int64(attempts))
        o["runs"] = .integer(Int64(runs))
        o["slots"] = .integer(Int64(slots))
        o["created"] = isoTime(createdAt)
        o["finished"] = finishedAt.map(isoTime) ?? .null
        o["reason"] = lastFailure.map { .string($0) } ?? .null
        o["tokens"] = .integer(tokens)
        o["cost"] = .number(cost)
        o["subtree"] = .object([
            "agents": .integer(Int64(subtreeSize)), "tokens": .integer(subtreeTokens),
            "cost": .number(subtreeCost),
            "states": .object(
                JSONObject(
                    subtreeStates.sorted { $0.key < $1.key }.map { ($0.key, .integer(Int64($0.value))) })),
        ])
        o["spans"] = .array(
            spans.map { span in
                var s = JSONObject()
                s["phase"] = .string(span.phase.rawValue)
                s["start"] = isoTime(span.start)
                s["end"] = isoTime(span.end)
                s["attempt"] = .integer(Int64(span.attempt))
                if let upstream = span.upstream { s["upstream"] = .string(upstream) }
                return .object(s)
            })
        o["marks"] = .array(marks.map(\.json))
        return .object(o)
    }
}

extension ReportData.Mark {
    var json: JSONValue {
        var o: JSONObject = ["time": isoTime(time), "kind": .string(kind), "text": .string(text)]
        if let state { o["state"] = .string(state.rawValue) }
        return .object(o)
    }
}

extension ReportData.SlotSeries {
    var json: JSONValue {
        .object([
            "holder": .string(holder), "total": .integer(Int64(total)), "reserve": .integer(Int64(reserve)),
            "peak": .integer(Int64(peak)),
            "points": .array(
                points.map { .object(["time": isoTime($0.time), "used": .integer(Int64($0.used))]) }),
        ])
    }
}

extension ReportData.UpstreamLane {
    var json: JSONValue {
        .object([
            "domain": .string(domain), "upstreams": .array(upstreams.map { .string($0) }),
            "breaker": .array(
                spans.map {
                    .object([
                        "state": .string($0.state.rawValue), "start": isoTime($0.start),
                        "end": isoTime($0.end),
                    ])
                }),
            "alerts": .array(marks.map(\.json)),
        ])
    }
}

extension ReportData.Failure {
    var json: JSONValue {
        .object([
            "time": isoTime(time), "agent": .string(agent), "attempt": .integer(Int64(attempt)),
            "kind": .string(kind),
            "reason": .string(reason), "outcome": .string(outcome),
        ])
    }
}
