import SwarmProtocol

/// One line of `swarm/events.jsonl`: the history `swarm report` draws its timeline from. It
/// records what changed, never what is true now: an agent's truth is its meta.json, and a
/// reader copes with lines that are missing (rotated away), torn (a daemon killed mid-write)
/// or of a kind it does not know (skipped).
public enum HistoryEvent: Sendable, Equatable {
    /// An agent's record changed in what a timeline shows: its state, whether a run is in
    /// progress, its attempt or run count, its upstream, its backoff or its last failure.
    case agent(AgentStep)
    /// A failure domain's breaker changed state (`until`: when an open breaker turns half-open).
    case breaker(time: Millis, domain: String, state: BreakerState, until: Millis?)
    /// A daemon started (`started: true`) or stopped on this tree.
    case daemon(time: Millis, started: Bool, pid: Int32)

    /// When it happened.
    public var time: Millis {
        switch self {
        case .agent(let step): step.time
        case .breaker(let time, _, _, _), .daemon(let time, _, _): time
        }
    }
}

/// What a timeline needs of one agent's record at one moment.
public struct AgentStep: Sendable, Equatable {
    /// When, which agent, and its state (meta.json's `state`).
    public var time: Millis
    public var agent: String
    public var state: AgentState
    /// True while its command runs.
    public var active: Bool
    /// meta.json's `attempts`, `runs` and `upstream`.
    public var attempt: Int
    public var run: Int
    public var upstream: String?
    /// A queued retry's backoff: when it may start.
    public var notBefore: Millis?
    /// Why the runtime is stopping it, while it does.
    public var stopping: StopReason?
    /// Set on the step where a failure was recorded: its class and the reason in words.
    public var failureKind: FailureKind?
    public var failure: String?

    /// A step with these fields.
    public init(
        time: Millis, agent: String, state: AgentState, active: Bool, attempt: Int, run: Int,
        upstream: String? = nil, notBefore: Millis? = nil, stopping: StopReason? = nil,
        failureKind: FailureKind? = nil, failure: String? = nil
    ) {
        self.time = time
        self.agent = agent
        self.state = state
        self.active = active
        self.attempt = attempt
        self.run = run
        self.upstream = upstream
        self.notBefore = notBefore
        self.stopping = stopping
        self.failureKind = failureKind
        self.failure = failure
    }

    /// The step `record` stands for at `time`; the failure only when `newFailure` (the record's
    /// failure differs from the one already told).
    public init(_ record: AgentRecord, time: Millis, newFailure: Bool) {
        self.init(
            time: time, agent: record.id, state: record.state, active: record.active,
            attempt: record.attempts, run: record.runs, upstream: record.upstream,
            notBefore: record.notBefore, stopping: record.stopping,
            failureKind: newFailure ? record.lastFailureKind : nil,
            failure: newFailure ? record.lastFailure : nil)
    }

    /// True when `other` differs from this step in anything but its time and failure.
    public func changes(from other: AgentStep) -> Bool {
        state != other.state || active != other.active || attempt != other.attempt || run != other.run
            || upstream != other.upstream || notBefore != other.notBefore || stopping != other.stopping
    }
}

extension HistoryEvent {
    /// The line for this event: one compact JSON object and a newline.
    public var line: String {
        var o = JSONObject()
        o["time"] = .string(Timestamp.iso8601(milliseconds: time))
        switch self {
        case .agent(let step):
            o["agent"] = .string(step.agent)
            o["state"] = .string(step.state.rawValue)
            o["active"] = .bool(step.active)
            o["attempt"] = .integer(Int64(step.attempt))
            o["run"] = .integer(Int64(step.run))
            if let upstream = step.upstream { o["upstream"] = .string(upstream) }
            if let notBefore = step.notBefore {
                o["notBefore"] = .string(Timestamp.iso8601(milliseconds: notBefore))
            }
            if let stopping = step.stopping { o["stopping"] = .string(stopping.rawValue) }
            if let kind = step.failureKind { o["failureKind"] = .string(kind.rawValue) }
            if let failure = step.failure { o["failure"] = .string(failure) }
        case .breaker(_, let domain, let state, let until):
            o["domain"] = .string(domain)
            o["breaker"] = .string(state.rawValue)
            if let until { o["until"] = .string(Timestamp.iso8601(milliseconds: until)) }
        case .daemon(_, let started, let pid):
            o["daemon"] = .string(started ? "started" : "stopped")
            o["pid"] = .integer(Int64(pid))
        }
        return JSON.encode(.object(o), pretty: false, sortKeys: false) + "\n"
    }

    /// The event of one line, or nil for a line that is torn, malformed or of an unknown kind.
    public init?(line: some Collection<UInt8>) {
        guard let value = try? JSON.parse(Array(line)), let o = value.objectValue,
            let time = o["time"]?.stringValue.flatMap(Timestamp.parse)
        else { return nil }
        let instant = { (key: String) in o[key]?.stringValue.flatMap(Timestamp.parse) }
        if let agent = o["agent"]?.stringValue {
            guard let state = o["state"]?.stringValue.flatMap(AgentState.init(rawValue:)),
                let active = o["active"]?.boolValue, let attempt = o["attempt"]?.intValue,
                let run = o["run"]?.intValue
            else { return nil }
            self = .agent(
                AgentStep(
                    time: time, agent: agent, state: state, active: active, attempt: Int(attempt),
                    run: Int(run), upstream: o["upstream"]?.stringValue, notBefore: instant("notBefore"),
                    stopping: o["stopping"]?.stringValue.flatMap(StopReason.init(rawValue:)),
                    failureKind: o["failureKind"]?.stringValue.flatMap(FailureKind.init(rawValue:)),
                    failure: o["failure"]?.stringValue))
        } else if let domain = o["domain"]?.stringValue {
            guard let state = o["breaker"]?.stringValue.flatMap(BreakerState.init(rawValue:)) else {
                return nil
            }
            self = .breaker(time: time, domain: domain, state: state, until: instant("until"))
        } else if let word = o["daemon"]?.stringValue, word == "started" || word == "stopped" {
            self = .daemon(
                time: time, started: word == "started", pid: Int32(clamping: o["pid"]?.intValue ?? 0))
        } else {
            return nil
        }
    }

    /// Every event in `bytes` (the contents of events.jsonl files, oldest first), skipping
    /// lines that cannot be read.
    public static func parseAll(_ bytes: [UInt8]) -> [HistoryEvent] {
        bytes.split(separator: UInt8(ascii: "\n")).compactMap { HistoryEvent(line: $0) }
    }
}
