import SwarmCore
import SwarmProtocol
import SwarmSystem

/// The last firing of a schedule, as derived from the tree (`FiringLedger`) or as just written.
struct LastFiring: Equatable {
    /// `n` of `NAME-<n>`.
    var number: Int
    /// The slot it fired for.
    var slot: Millis?
    /// Its task file's modification time (nanoseconds): `when-changed:` compares against it, in
    /// the kernel's own clock.
    var writtenNanos: Int64?
}

/// One schedule file as the daemon knows it.
struct ScheduleEntry: Equatable {
    /// The version of the file last read (nil: it could not be read).
    var stamp: FileStatus?
    /// The schedule, when the file is good.
    var spec: ScheduleSpec?
    /// What is wrong with the file, when it is broken.
    var problem: String?
    /// Since when the file has been watched in its current form.
    var watchingSince: Millis
    var last: LastFiring?
    /// The latest slot decided (fired or skipped).
    var decided: Millis?
    var skips: [ScheduleSkip: Int] = [:]
    /// The last thing that went wrong with a firing (a write that failed, a walk that was cut,
    /// what blocked it); a firing that goes through clears it.
    var note: String?
    /// Why the last firings were blocked, while they are.
    var blocker: String?

    /// The planner's view of this schedule, at `heartbeat`; nil while the file is broken.
    func clock(heartbeat: Millis) -> ScheduleClock? {
        guard let spec else { return nil }
        let period = max(1, spec.period.milliseconds(heartbeat: heartbeat))
        return ScheduleClock(
            period: period, catchUp: spec.catchUp, lastFiring: last?.slot, decided: decided,
            watchingSince: watchingSince)
    }
}

/// The daemon's schedules: which files it knows, what each last fired and decided, and when the
/// next one is due. Plain bookkeeping; `Daemon+Schedules` reads the files, asks
/// `SchedulePlanner`, writes the firings and `swarm/schedules.json`.
///
/// Crash safety: the firings themselves are the record (`FiringLedger` derives the last one
/// from the tree at start), so a kill -9 between writing a firing and anything else cannot
/// double it. The skip counts and the last slot decided live in `swarm/schedules.json`, which
/// may lag a crash by one decision: a count is then one short, and a skipped slot may be
/// decided again (it fires at most once).
struct Schedules {
    private(set) var entries: [String: ScheduleEntry] = [:]
    /// What `swarm/schedules.json` held at start: the decided slot and skips of each schedule.
    private var restored: [String: (decided: Millis?, skips: [ScheduleSkip: Int])] = [:]
    /// True when `swarm/schedules.json` should be written again.
    var stateDirty = false
    /// The `when-changed:` walks under way, by schedule. A walk that outlasts its slot decides
    /// the next one.
    private var walks: [String: ChangeWalk] = [:]

    /// The names of the known schedule files, sorted.
    var names: [String] { entries.keys.sorted() }

    subscript(name: String) -> ScheduleEntry? { entries[name] }

    /// The known schedule whose firing `id` is, if any.
    func schedule(ofFiring id: String) -> String? {
        entries.keys.first { ScheduleParser.firingNumber(of: id, schedule: $0) != nil }
    }

    /// True when `stamp` is the version of `name` already read.
    func isCurrent(_ name: String, stamp: FileStatus?) -> Bool {
        guard let entry = entries[name] else { return false }
        return entry.stamp == stamp
    }

    /// Takes in what `swarm/schedules.json` held (at start).
    mutating func restore(_ snapshot: JSONValue?) {
        restored = Self.decode(snapshot)
    }

    /// `name`'s file was read: a good schedule or a problem. `last` is its last firing (derived
    /// from the tree) when the daemon did not know the schedule yet. Returns true when the
    /// problem is new (to be reported).
    ///
    /// A good schedule whose period an edit changed starts on its new grid at the next slot:
    /// the slot under way counts as decided, so the change itself misses nothing.
    mutating func loaded(
        _ name: String, stamp: FileStatus?, _ result: Result<ScheduleSpec, SwarmError>,
        last: () -> LastFiring?,
        heartbeat: Millis, now: Millis
    ) -> Bool {
        var entry =
            entries[name]
            ?? ScheduleEntry(
                stamp: nil, spec: nil, problem: nil, watchingSince: now, last: last(),
                decided: restored[name]?.decided, skips: restored[name]?.skips ?? [:])
        entry.stamp = stamp
        entry.watchingSince = now
        stateDirty = true
        walks[name] = nil
        switch result {
        case .success(let spec):
            if let old = entry.spec,
                old.period.milliseconds(heartbeat: heartbeat)
                    != spec.period.milliseconds(heartbeat: heartbeat)
            {
                let current = SchedulePlanner.slot(
                    at: now, period: max(1, spec.period.milliseconds(heartbeat: heartbeat)))
                entry.decided = max(entry.decided ?? current, current)
            }
            entry.spec = spec
            entry.problem = nil
            entries[name] = entry
            return false
        case .failure(let error):
            let isNew = entry.problem != error.message || entries[name]?.stamp != stamp
            entry.spec = nil
            entry.problem = error.message
            entries[name] = entry
            return isNew
        }
    }

    /// `name`'s file is gone.
    mutating func removed(_ name: String) {
        walks[name] = nil
        if entries.removeValue(forKey: name) != nil { stateDirty = true }
    }

    /// The walk under way for `name`, which leaves the table; nil when there is none.
    mutating func takeWalk(_ name: String) -> ChangeWalk? {
        walks.removeValue(forKey: name)
    }

    /// `walk` goes on at the next turn of the loop.
    mutating func keep(_ walk: ChangeWalk, for name: String) {
        walks[name] = walk
    }

    /// Takes the decision made for `name` into account; `firing` is the firing just written.
    mutating func record(
        _ name: String, _ decision: ScheduleDecision, firing: LastFiring? = nil, note: String? = nil
    ) {
        guard var entry = entries[name] else { return }
        switch decision {
        case .fire(let slot):
            entry.decided = max(entry.decided ?? slot, slot)
            if let firing { entry.last = firing }
            entry.note = note
            entry.blocker = nil
        case .skip(let slot, let reason, let missed):
            entry.decided = max(entry.decided ?? slot, slot)
            entry.skips[reason, default: 0] += 1
            if missed > 0 { entry.skips[.missed, default: 0] += missed }
            if let note { entry.note = note }
        case .wait:
            return
        }
        entries[name] = entry
        stateDirty = true
    }

    /// The slot at `slot` would have fired, but `problem` blocks the firing. Returns true when
    /// the problem is new (to be reported once).
    mutating func blocked(_ name: String, slot: Millis, missed: Int, problem: String) -> Bool {
        guard let entry = entries[name] else { return false }
        let isNew = entry.blocker != problem
        record(name, .skip(slot: slot, .blocked, missed: missed), note: problem)
        entries[name]?.blocker = problem
        return isNew
    }

    /// The earliest time a schedule is due (now, for one due already or with a walk under way),
    /// at `heartbeat`.
    func nextDeadline(heartbeat: Millis, now: Millis) -> Millis? {
        if !walks.isEmpty { return now }
        return entries.values.compactMap { $0.clock(heartbeat: heartbeat) }
            .map { SchedulePlanner.nextFiring($0, now: now) }.min()
    }

    // MARK: swarm/schedules.json

    /// The state file: per schedule its period, the last slot decided, the skips, when it fires
    /// next, since when it is watched and its last note; plus the daemon's pid and heartbeat.
    func snapshot(heartbeat: Millis, now: Millis, pid: Int32) -> JSONValue {
        var schedules = JSONObject()
        for name in names {
            guard let entry = entries[name] else { continue }
            var object = JSONObject()
            let clock = entry.clock(heartbeat: heartbeat)
            object["period_ms"] = clock.map { .integer($0.period) } ?? .null
            object["decided"] = entry.decided.map { .string(Timestamp.iso8601(milliseconds: $0)) } ?? .null
            object["next"] =
                clock.map {
                    .string(Timestamp.iso8601(milliseconds: SchedulePlanner.nextFiring($0, now: now)))
                }
                ?? .null
            object["since"] = .string(Timestamp.iso8601(milliseconds: entry.watchingSince))
            var skips = JSONObject()
            for reason in ScheduleSkip.allCases {
                skips[reason.rawValue] = .integer(Int64(entry.skips[reason] ?? 0))
            }
            object["skips"] = .object(skips)
            object["note"] = entry.note.map { .string($0) } ?? .null
            schedules[name] = .object(object)
        }
        return .object([
            "daemon_pid": .integer(Int64(pid)), "heartbeat_ms": .integer(heartbeat),
            "updated": .string(Timestamp.iso8601(milliseconds: now)), "schedules": .object(schedules),
        ])
    }

    /// The decided slot and skips of each schedule in a state file.
    static func decode(_ snapshot: JSONValue?) -> [String: (decided: Millis?, skips: [ScheduleSkip: Int])] {
        guard let schedules = snapshot?["schedules"]?.objectValue else { return [:] }
        var out: [String: (decided: Millis?, skips: [ScheduleSkip: Int])] = [:]
        for (name, value) in schedules.entries {
            var skips: [ScheduleSkip: Int] = [:]
            for reason in ScheduleSkip.allCases {
                if let count = value["skips"]?[reason.rawValue]?.intValue, count > 0 {
                    skips[reason] = Int(count)
                }
            }
            out[name] = (value["decided"]?.stringValue.flatMap(Timestamp.parse), skips)
        }
        return out
    }
}
