import SwarmCore
import SwarmProtocol

/// A run asked to stop: the grace period ends at `due`, then whatever is left of it gets
/// SIGKILL (`AgentLauncher.stop(force: true)`). Stopping is two steps, kept as data.
struct PendingStop: Equatable {
    var due: Millis
    var launcher: LauncherKind
    /// The stopped run; nil for processes a run left behind when no pid was known.
    var handle: RunHandle?
}

/// The daemon's clocks: the next heartbeat, the next poll of the tree, and the grace periods
/// of runs being stopped. `next` says how long the loop may
/// sleep; `dueStops` hands over the stops whose grace period is over.
struct Deadlines {
    var heartbeat: Millis
    /// Set in poll mode: how often the whole tree is looked at (inotify sees nothing that
    /// other machines write on a network file system).
    private(set) var pollInterval: Millis?
    private(set) var nextPoll: Millis = 0
    private var stops: [String: PendingStop] = [:]

    init(heartbeatAt: Millis, pollInterval: Millis?) {
        self.heartbeat = heartbeatAt
        self.pollInterval = pollInterval
    }

    /// Polls every `interval` from `now` on.
    mutating func poll(every interval: Millis, from now: Millis) {
        pollInterval = interval
        nextPoll = now + interval
    }

    /// True when a poll is due; the next one is then scheduled.
    mutating func pollDue(now: Millis) -> Bool {
        guard let pollInterval, now >= nextPoll else { return false }
        nextPoll = now + pollInterval
        return true
    }

    /// True when the heartbeat is due; the next one is then scheduled `interval` on.
    mutating func heartbeatDue(now: Millis, interval: Millis) -> Bool {
        guard now >= heartbeat else { return false }
        heartbeat = now + interval
        return true
    }

    /// Agent `id`'s run was asked to stop.
    mutating func stopping(_ id: String, _ stop: PendingStop) { stops[id] = stop }

    /// True while a stop of `id` waits for its grace period.
    func isStopping(_ id: String) -> Bool { stops[id] != nil }

    /// When the grace period of `id`'s stop ends; nil when no stop of it waits.
    func stopDue(_ id: String) -> Millis? { stops[id]?.due }

    /// The stops whose grace period is over, by agent id; they leave the table.
    mutating func dueStops(now: Millis) -> [(id: String, stop: PendingStop)] {
        let due = stops.filter { $0.value.due <= now }.sorted { $0.key < $1.key }
        for (id, _) in due { stops[id] = nil }
        return due.map { ($0.key, $0.value) }
    }

    /// The earliest of the daemon's own deadlines and `others` (those of the scheduler, the
    /// writers and the alert commands).
    func next(_ others: Millis?...) -> Millis {
        var due = heartbeat
        if pollInterval != nil { due = min(due, nextPoll) }
        if let stop = stops.values.map(\.due).min() { due = min(due, stop) }
        for other in others { if let other { due = min(due, other) } }
        return due
    }
}
