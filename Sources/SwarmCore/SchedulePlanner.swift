import SwarmProtocol

/// What the planner knows of one schedule: its clock and what was decided before.
///
/// Slots are the multiples of `period` since the Unix epoch (UTC), so firings never drift:
/// `every: 15m` fires at :00, :15, :30 and :45 however late each firing was written.
public struct ScheduleClock: Sendable, Equatable {
    /// Time between slots, in milliseconds (> 0).
    public var period: Millis
    /// What to do about slots that passed while no daemon watched.
    public var catchUp: CatchUp
    /// The slot of the last firing, as its task file says (derived from the tree); nil when the
    /// schedule never fired.
    public var lastFiring: Millis?
    /// The latest slot decided (fired or skipped); nil when none is known.
    public var decided: Millis?
    /// Since when this daemon has watched the schedule as it is now: slots before it passed
    /// with nobody watching.
    public var watchingSince: Millis

    /// Makes a clock.
    public init(
        period: Millis, catchUp: CatchUp = .skip, lastFiring: Millis? = nil, decided: Millis? = nil,
        watchingSince: Millis
    ) {
        precondition(period > 0, "a schedule's period must be positive")
        self.period = period
        self.catchUp = catchUp
        self.lastFiring = lastFiring
        self.decided = decided
        self.watchingSince = watchingSince
    }

    /// Takes `decision` into account: its slot is decided, and a firing is the last firing.
    public mutating func record(_ decision: ScheduleDecision) {
        switch decision {
        case .fire(let slot):
            lastFiring = slot
            decided = max(decided ?? slot, slot)
        case .skip(let slot, _, _):
            decided = max(decided ?? slot, slot)
        case .wait:
            break
        }
    }
}

/// Why a slot did not fire.
public enum ScheduleSkip: String, Sendable, CaseIterable {
    /// The last firing had not settled yet (never two of one schedule at once).
    case overlap
    /// Nothing under `when-changed:` changed since the last firing.
    case unchanged
    /// The slot passed while no daemon watched (with `catch-up: skip`), or while the daemon
    /// could not look (a loop turn longer than the period).
    case missed
    /// The firing would be rejected at once (its template, role or an input is missing), so it
    /// was not written; the shell decides this, after the planner said fire.
    case blocked
}

/// The planner's answer for one schedule at one moment.
public enum ScheduleDecision: Sendable, Equatable {
    /// Submit a firing for the slot starting at `slot`.
    case fire(slot: Millis)
    /// The slot at `slot` does not fire, for `reason`; `missed` slots before it passed without a
    /// decision (counted with it).
    case skip(slot: Millis, ScheduleSkip, missed: Int = 0)
    /// Nothing is due before `until`.
    case wait(until: Millis)
}

/// The slot a schedule owes now, before the evidence (is the last firing still running, did its
/// paths change) is looked at.
public enum ScheduleDue: Sendable, Equatable {
    /// Nothing is owed before `until`.
    case wait(until: Millis)
    /// The slot starting at `slot` is due: fire or skip it. `missed` earlier slots passed
    /// without a decision.
    case slot(Millis, missed: Int)
    /// Every owed slot passed while no daemon watched and `catch-up` is `skip`: `count` slots,
    /// the last of them starting at `slot`, are missed.
    case missed(slot: Millis, count: Int)
}

/// Decides when a schedule fires: pure, from the schedule's clock, the time and the evidence.
///
/// The rule: the slots owed are those after the last one decided (or covered by the last
/// firing); for a schedule that never fired, those from the first slot the daemon watched. When
/// the current slot (the latest one that has started) is owed, it is due: it fires unless the
/// last firing has not settled (`overlap`) or its `when-changed:` paths did not change
/// (`unchanged`). Only one firing is ever made for all the owed slots. When every owed slot
/// passed while no daemon watched, `catch-up: once` fires one firing at once and `catch-up:
/// skip` waits for the next slot.
public enum SchedulePlanner {
    /// The start of the slot that holds `time`.
    public static func slot(at time: Millis, period: Millis) -> Millis {
        let quotient = time / period
        let start = quotient * period
        return start > time ? start - period : start
    }

    /// The slot owed at `now`, if any.
    public static func due(_ clock: ScheduleClock, now: Millis) -> ScheduleDue {
        let period = clock.period
        let current = slot(at: now, period: period)
        let covered = [clock.decided, clock.lastFiring].compactMap { $0 }.map { slot(at: $0, period: period) }
            .max()
        let firstOwed: Millis
        if let covered {
            firstOwed = covered + period
        } else {
            let start = slot(at: clock.watchingSince, period: period)
            firstOwed = start == clock.watchingSince ? start : start + period
        }
        guard current >= firstOwed else { return .wait(until: firstOwed) }
        let earlier = Int((current - firstOwed) / period)
        if current >= clock.watchingSince || clock.catchUp == .once {
            return .slot(current, missed: earlier)
        }
        return .missed(slot: current, count: earlier + 1)
    }

    /// The decision for a due slot: overlap first (it needs no look at the paths), then
    /// unchanged (`changed` is nil for a schedule without `when-changed:`).
    public static func decide(slot: Millis, missed: Int, lastUnsettled: Bool, changed: Bool?)
        -> ScheduleDecision
    {
        if lastUnsettled { return .skip(slot: slot, .overlap, missed: missed) }
        if changed == false { return .skip(slot: slot, .unchanged, missed: missed) }
        return .fire(slot: slot)
    }

    /// `due` and `decide` in one: the decision at `now`, given whether the last firing is still
    /// unsettled and whether the schedule's paths changed since it (nil: no `when-changed:`).
    public static func plan(
        _ clock: ScheduleClock, now: Millis, lastUnsettled: Bool, changed: Bool?
    ) -> ScheduleDecision {
        switch due(clock, now: now) {
        case .wait(let until): return .wait(until: until)
        case .missed(let slot, let count): return .skip(slot: slot, .missed, missed: count - 1)
        case .slot(let slot, let missed):
            return decide(slot: slot, missed: missed, lastUnsettled: lastUnsettled, changed: changed)
        }
    }

    /// When the next firing can happen at the earliest: `now` when a slot is due, else the start
    /// of the next owed slot.
    public static func nextFiring(_ clock: ScheduleClock, now: Millis) -> Millis {
        switch due(clock, now: now) {
        case .wait(let until): return until
        case .slot: return now
        case .missed(let slot, _): return slot + clock.period
        }
    }
}
