import SwarmCore
import SwarmProtocol
import SwarmSystem

/// swarm/events.jsonl: the run's history, for `swarm report`. One line per change a timeline
/// shows (`HistoryEvent`): an agent's record changing state, run, attempt, upstream or backoff;
/// a breaker changing state; a daemon starting or stopping.
///
/// It is history, not state: nothing reads it back into the daemon, and meta.json stays the
/// truth about every agent (a line may tell of a change whose record a crash kept from
/// landing; the report trusts the record). Lines gather in memory and are appended together,
/// at most every `writeInterval` (one `write(2)` for hundreds of changes when the daemon is
/// busy), and at once when it stops; a daemon killed in between loses that much history and
/// nothing else. They go through the `TreeWriter`, so on a full disk they wait in order with
/// the alerts. The file is bounded: once it would pass `limit` it is renamed to
/// `events.jsonl.1` (replacing the one before) and a new one begins, so the history takes at
/// most about twice `limit`. A line a killed daemon left half-written is ended with a newline
/// before the next daemon appends, so that it spoils only itself.
struct EventLog {
    /// The size past which the file is rotated.
    static let defaultLimit: Int64 = 8 << 20
    /// The longest a line waits in memory before it is appended.
    static let writeInterval: Millis = 100

    let path: String
    let limit: Int64
    /// Bytes in the current file, as far as this daemon knows.
    private(set) var size: Int64
    /// The last step told for each agent, to tell only changes.
    private var told: [String: AgentStep] = [:]
    /// The last failure told for each agent (`failure(of:)`), so that a failure is told once.
    private var failures: [String: String] = [:]
    /// The last breaker state told for each domain, with its open-until time.
    private var breakers: [String: (BreakerState, Millis?)] = [:]
    /// True when the file ends in the middle of a line.
    private var torn: Bool
    /// Lines not appended yet, and since when the oldest of them waits.
    private var pending: [UInt8] = []
    private var pendingSince: Millis?

    init(workspace: Workspace, limit: Int64 = EventLog.defaultLimit) {
        path = workspace.eventsPath
        self.limit = limit
        size = FileSystem.status(workspace.eventsPath)?.size ?? 0
        let last = size > 0 ? (try? FileSystem.readTail(workspace.eventsPath, maxBytes: 1))?.last : nil
        torn = last.map { $0 != UInt8(ascii: "\n") } ?? false
    }

    /// `record` was persisted at `now`: a line when it changed in what the timeline shows.
    mutating func observe(_ record: AgentRecord?, now: Millis) {
        guard let record else { return }
        if let previous = told[record.id], previous.active, record.attempts > previous.attempt {
            // the attempt told as running ended and the next one began in one turn (a retry due
            // at once, on another upstream): its end is told first, with its failure
            var ended = previous
            ended.time = now
            ended.state = .queued
            ended.active = false
            ended.stopping = nil
            ended.failureKind = record.lastFailureKind
            ended.failure = record.lastFailure
            told[record.id] = ended
            if let reason = record.lastFailure { failures[record.id] = "\(previous.attempt) \(reason)" }
            append(.agent(ended), now: now)
        }
        let failure = Self.failure(of: record)
        let newFailure = failure != nil && failures[record.id] != failure
        let step = AgentStep(record, time: now, newFailure: newFailure)
        if let previous = told[record.id], !step.changes(from: previous), !newFailure { return }
        told[record.id] = step
        if newFailure { failures[record.id] = failure }
        append(.agent(step), now: now)
    }

    /// The failure `record` holds as the end of an attempt (its attempt and reason), or nil:
    /// a failure is told once, on the step that leaves the run (a retry waiting, or an end
    /// other than done), so the same reason on a later attempt is told again.
    static func failure(of record: AgentRecord) -> String? {
        guard let reason = record.lastFailure, !record.active,
            record.state == .queued || (record.state.isSettled && record.state != .done)
        else { return nil }
        return "\(record.attempts) \(reason)"
    }

    /// A line for every domain whose breaker changed since the last look (the first look tells
    /// only breakers that are not closed).
    private mutating func observe(_ router: UpstreamRouter, now: Millis) {
        for domain in router.breakers.keys.sorted() {
            let breaker = router.breaker(domain, now: now)
            let until = breaker.state == .open ? breaker.openUntil : nil
            let previous = breakers[domain] ?? (.closed, nil)
            guard previous.0 != breaker.state || previous.1 != until else { continue }
            breakers[domain] = (breaker.state, until)
            append(.breaker(time: now, domain: domain, state: breaker.state, until: until), now: now)
        }
    }

    /// A daemon started or stopped.
    mutating func daemon(started: Bool, now: Millis) {
        append(.daemon(time: now, started: started, pid: Processes.currentID), now: now)
    }

    /// When the lines waiting in memory are due to be appended.
    var nextWrite: Millis? { pendingSince.map { $0 + Self.writeInterval } }

    /// Looks at the breakers, then appends the waiting lines once they are due (all of them
    /// with `force`, as the daemon stops).
    mutating func flush(_ router: UpstreamRouter, now: Millis, writer: inout TreeWriter, force: Bool = false)
    {
        observe(router, now: now)
        guard let due = nextWrite, force || now >= due else { return }
        if size > 0, size + Int64(pending.count) > limit, !writer.isStalled {
            rotate()
        }
        writer.append(path, pending, now: now)
        size += Int64(pending.count)
        pending = []
        pendingSince = nil
    }

    private mutating func append(_ event: HistoryEvent, now: Millis) {
        if torn {
            pending.append(UInt8(ascii: "\n"))
            torn = false
        }
        pending += Array(event.line.utf8)
        if pendingSince == nil { pendingSince = now }
    }

    /// events.jsonl becomes events.jsonl.1. While writes are owed it waits (their appends
    /// would land in the new file out of order); a rename that fails leaves the file growing
    /// until the next try.
    private mutating func rotate() {
        do {
            try FileSystem.rename(path, to: path + ".1")
            size = 0
        } catch {
            size = FileSystem.status(path)?.size ?? size
        }
    }
}
