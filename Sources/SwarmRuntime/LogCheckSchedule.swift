import SwarmCore

/// When each running agent's logs are looked at next (`LogCap`): a second after its run starts,
/// then every second while they grow. Logs that did not grow since the last look are left to
/// the kernel: the daemon arms a one-shot inotify watch on them, and their next write brings
/// them back (`wrote`). So quiet agents cost the daemon nothing, a run that ends within its
/// first second costs no watch at all, and a log that grows is looked at every second.
struct LogCheckSchedule {
    /// The wait between looks while a log grows, and after a start.
    static let interval: Millis = 1_000

    private struct Entry {
        /// The next look; nil while a one-shot watch waits for the logs' next write.
        var due: Millis?
        var bytes: Int64
    }

    private var entries: [String: Entry] = [:]

    /// Agent `id`'s run started at `now`: its logs are first looked at a second later.
    mutating func started(_ id: String, now: Millis) {
        entries[id] = Entry(due: now + Self.interval, bytes: 0)
    }

    /// Agent `id`'s run ended: its logs are no longer looked at.
    mutating func ended(_ id: String) { entries[id] = nil }

    /// The agents whose logs are due at `now`, in id order.
    func due(now: Millis) -> [String] {
        entries.filter { $0.value.due.map { $0 <= now } ?? false }.map(\.key).sorted()
    }

    /// Agent `id`'s logs hold `bytes` at `now`. Returns true when they did not grow since the
    /// last look: the caller arms a one-shot watch and calls `wrote` at its event (or `arm`
    /// failed, and `pollInstead`).
    mutating func looked(_ id: String, bytes: Int64, now: Millis) -> Bool {
        guard let entry = entries[id] else { return false }
        let quiet = entry.bytes == bytes
        entries[id] = Entry(due: quiet ? nil : now + Self.interval, bytes: bytes)
        return quiet
    }

    /// No watch could be armed for agent `id` (the kernel is out of watches): its logs are
    /// looked at every second all the same.
    mutating func pollInstead(_ id: String, now: Millis) {
        entries[id]?.due = now + Self.interval
    }

    /// One of agent `id`'s logs was written (its one-shot watch fired): look now.
    mutating func wrote(_ id: String, now: Millis) {
        guard entries[id] != nil, entries[id]?.due == nil else { return }
        entries[id]?.due = now
    }

    /// The earliest next look, if any is scheduled.
    var next: Millis? { entries.values.lazy.compactMap(\.due).min() }
}
