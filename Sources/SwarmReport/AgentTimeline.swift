import SwarmCore
import SwarmProtocol

/// One agent's spans, marks and failed attempts, from its record and its history steps.
struct AgentTimeline {
    let record: AgentRecord
    /// Its history, oldest first.
    let steps: [AgentStep]
    /// Where a span still open at the last step ends: the report's end.
    let end: Millis
    private(set) var spans: [ReportData.Span] = []
    private(set) var marks: [ReportData.Mark] = []
    private(set) var failures: [ReportData.Failure] = []
    /// True when the history begins after the agent's arrival.
    private(set) var unrecorded = false

    init(record: AgentRecord, steps: [AgentStep], end: Millis) {
        self.record = record
        self.steps = steps
        self.end = end
    }

    mutating func build() {
        if steps.isEmpty {
            fromRecord()
        } else {
            fromSteps()
        }
        if record.state.isSettled {
            let time = record.finishedAt ?? spans.last?.end ?? record.createdAt
            clip(at: time)
            marks.append(ReportData.Mark(time: time, kind: "end", text: endText(), state: record.state))
        }
        if failures.isEmpty, let reason = record.lastFailure, record.state.isSettled, record.state != .done {
            failures.append(
                ReportData.Failure(
                    time: record.finishedAt ?? record.createdAt, agent: record.id, attempt: record.attempts,
                    kind: record.lastFailureKind?.rawValue ?? "", reason: reason,
                    outcome: record.state.rawValue))
        }
    }

    /// No history: queued from arrival to the last start, then running until the end.
    private mutating func fromRecord() {
        unrecorded = true
        let started =
            record.startedAt ?? record.finishedAt ?? (record.state == .queued ? end : record.createdAt)
        add(record.createdAt, started, .queued, attempt: max(record.attempts, 1), upstream: nil)
        guard record.startedAt != nil else { return }
        let phase: ReportData.Phase =
            record.state == .waiting ? .waiting : record.state == .queued ? .queued : .running
        add(
            started, record.finishedAt ?? end, phase, attempt: max(record.attempts, 1),
            upstream: record.upstream)
    }

    private mutating func fromSteps() {
        let first = steps[0]
        if first.time > record.createdAt {
            let fresh = first.attempt <= 1 && first.run <= 1
            if !fresh { unrecorded = true }
            add(
                record.createdAt, first.time, fresh ? .queued : .unrecorded, attempt: max(first.attempt, 1),
                upstream: nil)
        }
        var attempt = first.attempt
        for (i, step) in steps.enumerated() {
            let until = i + 1 < steps.count ? steps[i + 1].time : end
            if step.attempt > attempt, step.attempt > 1 {
                marks.append(
                    ReportData.Mark(time: step.time, kind: "attempt", text: "attempt \(step.attempt) starts"))
            }
            attempt = max(attempt, step.attempt)
            if let reason = step.failure {
                failures.append(
                    ReportData.Failure(
                        time: step.time, agent: record.id, attempt: step.attempt,
                        kind: step.failureKind?.rawValue ?? "", reason: reason,
                        outcome: step.state == .queued ? "retry" : step.state.rawValue))
            }
            if step.state.isSettled {
                if i + 1 < steps.count {
                    marks.append(
                        ReportData.Mark(
                            time: step.time, kind: "end", text: "\(step.state.rawValue), then retried",
                            state: step.state))
                }
                continue
            }
            let attemptShown = max(step.attempt, 1)
            if step.state == .queued, let due = step.notBefore, due > step.time {
                add(step.time, min(due, until), .backoff, attempt: attemptShown, upstream: step.upstream)
                if due < until { add(due, until, .queued, attempt: attemptShown, upstream: step.upstream) }
                continue
            }
            add(step.time, until, phase(of: step), attempt: attemptShown, upstream: step.upstream)
        }
    }

    private func phase(of step: AgentStep) -> ReportData.Phase {
        if step.stopping != nil && step.active { return .stopping }
        switch step.state {
        case .waiting: return .waiting
        case .running where step.active: return .running
        case .running: return record.kind == .orchestrator && step.run > 0 ? .idle : .queued
        default: return .queued
        }
    }

    /// Appends a span, merged with the last one when it continues it.
    private mutating func add(
        _ start: Millis, _ stop: Millis, _ phase: ReportData.Phase, attempt: Int, upstream: String?
    ) {
        guard stop > start else { return }
        if var last = spans.last, last.phase == phase, last.attempt == attempt, last.upstream == upstream,
            last.end == start
        {
            last.end = stop
            spans[spans.count - 1] = last
            return
        }
        spans.append(
            ReportData.Span(start: start, end: stop, phase: phase, attempt: attempt, upstream: upstream))
    }

    /// Nothing runs past the recorded end of a settled agent.
    private mutating func clip(at time: Millis) {
        spans = spans.compactMap { span in
            guard span.start < time else { return nil }
            var clipped = span
            clipped.end = min(span.end, time)
            return clipped
        }
    }

    private func endText() -> String {
        var text = record.state.rawValue
        text += " after \(record.attempts) attempt\(record.attempts == 1 ? "" : "s")"
        if record.state != .done, let reason = record.lastFailure { text += ": " + reason }
        return text
    }
}
