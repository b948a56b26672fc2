import SwarmCore
import SwarmProtocol
import Testing

/// 2027-01-15T08:00:00Z: a slot of every period used below that divides an hour.
private let base: Millis = 1_800_000_000_000

@Suite("SchedulePlanner: when a schedule fires")
struct SchedulePlannerTests {
    @Test("slots are the multiples of the period since the epoch, for negative times too")
    func slots() {
        #expect(SchedulePlanner.slot(at: base + 599, period: 600) == base)
        #expect(SchedulePlanner.slot(at: base + 600, period: 600) == base + 600)
        #expect(SchedulePlanner.slot(at: -1, period: 600) == -600)
        #expect(SchedulePlanner.slot(at: -600, period: 600) == -600)
        #expect(SchedulePlanner.slot(at: 0, period: 600) == 0)
    }

    @Test("a new schedule fires at the first slot the daemon watches, not at once")
    func newSchedule() {
        let clock = ScheduleClock(period: 600, watchingSince: base + 100)
        #expect(
            SchedulePlanner.plan(clock, now: base + 100, lastUnsettled: false, changed: nil)
                == .wait(until: base + 600))
        #expect(
            SchedulePlanner.plan(clock, now: base + 601, lastUnsettled: false, changed: nil)
                == .fire(slot: base + 600))
        let onTheSlot = ScheduleClock(period: 600, watchingSince: base)
        #expect(
            SchedulePlanner.plan(onTheSlot, now: base, lastUnsettled: false, changed: nil)
                == .fire(slot: base))
    }

    @Test("after a firing it waits for the next slot, however late the firing was")
    func aligned() {
        var clock = ScheduleClock(period: 600, watchingSince: base - 1_000)
        #expect(
            SchedulePlanner.plan(clock, now: base + 450, lastUnsettled: false, changed: nil)
                == .fire(slot: base))
        clock.record(.fire(slot: base))
        #expect(clock.lastFiring == base)
        #expect(
            SchedulePlanner.plan(clock, now: base + 451, lastUnsettled: false, changed: nil)
                == .wait(until: base + 600))
        #expect(SchedulePlanner.nextFiring(clock, now: base + 451) == base + 600)
    }

    @Test("a slot while the last firing runs is skipped as overlap; one without changes as unchanged")
    func skips() {
        let clock = ScheduleClock(period: 600, lastFiring: base, decided: base, watchingSince: base - 1)
        #expect(
            SchedulePlanner.plan(clock, now: base + 600, lastUnsettled: true, changed: true)
                == .skip(slot: base + 600, .overlap))
        #expect(
            SchedulePlanner.plan(clock, now: base + 600, lastUnsettled: false, changed: false)
                == .skip(slot: base + 600, .unchanged))
        #expect(
            SchedulePlanner.plan(clock, now: base + 600, lastUnsettled: false, changed: true)
                == .fire(slot: base + 600))
        var skipped = clock
        skipped.record(.skip(slot: base + 600, .overlap))
        #expect(skipped.lastFiring == base)
        #expect(
            SchedulePlanner.plan(skipped, now: base + 900, lastUnsettled: false, changed: nil)
                == .wait(until: base + 1_200))
    }

    @Test("overlap is decided before the paths are looked at")
    func overlapFirst() {
        #expect(
            SchedulePlanner.decide(slot: base, missed: 0, lastUnsettled: true, changed: false)
                == .skip(slot: base, .overlap))
    }

    @Test("after downtime: catch-up skip waits for the next slot, catch-up once fires one firing at once")
    func catchUp() {
        // last fired at base, the daemon came back 5 slots and 100 ms later
        let restart = base + 5 * 600 + 100
        var skip = ScheduleClock(period: 600, catchUp: .skip, lastFiring: base, watchingSince: restart)
        let skipped = SchedulePlanner.plan(skip, now: restart, lastUnsettled: false, changed: nil)
        #expect(skipped == .skip(slot: base + 3_000, .missed, missed: 4))
        #expect(SchedulePlanner.nextFiring(skip, now: restart) == base + 3_600)
        skip.record(skipped)
        #expect(
            SchedulePlanner.plan(skip, now: base + 3_600, lastUnsettled: false, changed: nil)
                == .fire(slot: base + 3_600))
        var once = ScheduleClock(period: 600, catchUp: .once, lastFiring: base, watchingSince: restart)
        let fired = SchedulePlanner.plan(once, now: restart, lastUnsettled: false, changed: nil)
        #expect(fired == .fire(slot: base + 3_000))
        once.record(fired)
        #expect(
            SchedulePlanner.plan(once, now: restart + 1, lastUnsettled: false, changed: nil)
                == .wait(until: base + 3_600))
    }

    @Test("a restart inside the slot of the last firing does not fire it again, with either catch-up")
    func restartInTheSameSlot() {
        for catchUp in CatchUp.allCases {
            let clock = ScheduleClock(
                period: 600, catchUp: catchUp, lastFiring: base, watchingSince: base + 300)
            #expect(
                SchedulePlanner.plan(clock, now: base + 300, lastUnsettled: false, changed: nil)
                    == .wait(until: base + 600))
        }
    }

    @Test("slots that passed without a decision while the daemon watched are counted, the current one fires")
    func lateLoop() {
        let clock = ScheduleClock(period: 600, lastFiring: base, decided: base, watchingSince: base - 1)
        #expect(SchedulePlanner.due(clock, now: base + 1_900) == .slot(base + 1_800, missed: 2))
        #expect(
            SchedulePlanner.plan(clock, now: base + 1_900, lastUnsettled: true, changed: nil)
                == .skip(slot: base + 1_800, .overlap, missed: 2))
    }

    @Test("a decision on another grid (the period changed) covers the new grid's slot that holds it")
    func periodChanged() {
        let clock = ScheduleClock(period: 1_000, lastFiring: base + 600, watchingSince: base)
        #expect(SchedulePlanner.due(clock, now: base + 700) == .wait(until: base + 1_000))
    }

    @Test("random sequences with crashes at every point: never two firings for one slot, never two at once")
    func simulation() {
        var totals = ScheduleWorld.Counters()
        for seed in 1...400 as ClosedRange<UInt64> {
            var world = ScheduleWorld(seed: seed)
            for _ in 0..<300 { world.step() }
            #expect(world.violations.isEmpty, "seed \(seed): \(world.violations.prefix(3))")
            totals.add(world.counters)
        }
        // every situation the invariants are about happened
        #expect(totals.fired > 1_000)
        #expect(totals.overlap > 50)
        #expect(totals.unchanged > 50)
        #expect(totals.missed > 50)
        #expect(totals.crashAfterFiring > 50)
        #expect(totals.caughtUp > 20)
        #expect(totals.restartsInFiredSlot > 20)
    }
}

/// One schedule and the daemon around it, driven by seeded random events: time passing (now
/// and then for longer than many periods), the daemon crashing (also between writing a firing
/// and recording it) and coming back with what the tree holds, firings that run long, and
/// changes under the schedule's paths. After every decision it checks the rules.
struct ScheduleWorld {
    struct Counters {
        var fired = 0
        var overlap = 0
        var unchanged = 0
        var missed = 0
        var crashAfterFiring = 0
        var caughtUp = 0
        var restartsInFiredSlot = 0

        mutating func add(_ other: Counters) {
            fired += other.fired
            overlap += other.overlap
            unchanged += other.unchanged
            missed += other.missed
            crashAfterFiring += other.crashAfterFiring
            caughtUp += other.caughtUp
            restartsInFiredSlot += other.restartsInFiredSlot
        }
    }

    var rng: SplitMix64
    let period: Millis
    let catchUp: CatchUp
    let hasPaths: Bool
    var now: Millis
    /// The tree: every firing ever written (its slot and when), and when the last one settles.
    var fired: [(slot: Millis, at: Millis)] = []
    var settlesAt: Millis = 0
    var lastChange: Millis
    /// The daemon: its clock while it runs, and the state file (the last slot decided, as last
    /// written; it may lag a crash).
    var clock: ScheduleClock?
    var stateFile: Millis?
    var violations: [String] = []
    var counters = Counters()

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
        period = [100, 600, 1_000, 60_000][Int(rng.next(upTo: 3))] + Millis(rng.next(upTo: 1)) * 7
        catchUp = rng.next(upTo: 1) == 0 ? .skip : .once
        hasPaths = rng.next(upTo: 2) == 0
        now = base + rng.next(upTo: 10_000)
        lastChange = now
        clock = ScheduleClock(period: period, catchUp: catchUp, watchingSince: now)
    }

    mutating func step() {
        switch rng.next(upTo: 19) {
        case 0:
            clock = nil
        case 1:
            if rng.next(upTo: 3) == 0 { now += period * rng.next(upTo: 20) }
            restart()
        case 2, 3:
            lastChange = now + rng.next(upTo: period)
        default:
            now += 1 + rng.next(upTo: period * 3 / 2)
        }
        check()
    }

    private mutating func restart() {
        guard clock == nil else { return }
        if let last = fired.last?.slot, SchedulePlanner.slot(at: now, period: period) == last {
            counters.restartsInFiredSlot += 1
        }
        clock = ScheduleClock(
            period: period, catchUp: catchUp, lastFiring: fired.last?.slot, decided: stateFile,
            watchingSince: now)
    }

    private mutating func check() {
        guard var clock else { return }
        let unsettled = !fired.isEmpty && settlesAt > now
        let changed: Bool? = hasPaths ? (fired.last.map { lastChange >= $0.at } ?? true) : nil
        let due = SchedulePlanner.due(clock, now: now)
        let decision = SchedulePlanner.plan(clock, now: now, lastUnsettled: unsettled, changed: changed)
        let current = SchedulePlanner.slot(at: now, period: period)
        switch decision {
        case .wait(let until):
            if until <= now { violations.append("waits until \(until), which has come (now \(now))") }
            return
        case .fire(let slot):
            counters.fired += 1
            if unsettled { violations.append("fired slot \(slot) while the last firing runs") }
            if changed == false { violations.append("fired slot \(slot) with nothing changed") }
            if slot != current {
                violations.append("fired slot \(slot) at \(now): not the current slot \(current)")
            }
            if fired.contains(where: { $0.slot == slot }) { violations.append("slot \(slot) fired twice") }
            if let last = fired.last, last.slot >= slot {
                violations.append("slot \(slot) fired after \(last.slot)")
            }
            if slot < clock.watchingSince { counters.caughtUp += 1 }
            fired.append((slot, now))
            settlesAt = now + rng.next(upTo: period * 3)
            if rng.next(upTo: 9) == 0 {
                // the firing is in the tree; the daemon dies before it records anything
                counters.crashAfterFiring += 1
                self.clock = nil
                return
            }
        case .skip(let slot, let reason, _):
            switch reason {
            case .overlap:
                counters.overlap += 1
                if !unsettled { violations.append("overlap skip at \(slot) with nothing running") }
            case .unchanged:
                counters.unchanged += 1
                if changed != false {
                    violations.append("unchanged skip at \(slot) though the paths changed")
                }
            case .missed:
                counters.missed += 1
                if catchUp != .skip { violations.append("catch-up once skipped slot \(slot) as missed") }
                if case .missed = due {} else { violations.append("missed skip at \(slot) for a due slot") }
            case .blocked:
                violations.append("the planner itself never blocks a firing (slot \(slot))")
            }
        }
        clock.record(decision)
        if case .wait = SchedulePlanner.due(clock, now: now) {
        } else {
            violations.append("still owes a slot at \(now) after deciding \(decision)")
        }
        if rng.next(upTo: 4) != 0 { stateFile = clock.decided }
        self.clock = clock
    }
}
