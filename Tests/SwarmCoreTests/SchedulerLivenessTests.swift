import SwarmCore
import SwarmProtocol
import Testing

/// One way of showing a sign of life: a copy of `e` with one counter grown.
enum Growth: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case progress, output, cpu, files

    var testDescription: String { rawValue }

    /// `e` with this counter grown by one.
    func apply(to e: Evidence) -> Evidence {
        var e = e
        switch self {
        case .progress: e.progressBytes += 1
        case .output: e.outputBytes += 1
        case .cpu: e.cpuTicks += 1
        case .files: e.newestModification += 1
        }
        return e
    }
}

/// The heartbeat rules of HEARTBEAT.md: silence, spinning, looping, questions, unread results.
@Suite struct SchedulerLivenessTests {
    /// The silence rule up to the kill, then the template's `on.killed` rule.
    @Test(arguments: [
        (FailureAction.retry(1), AgentState.queued), (.deadLetter, .deadLetter), (.skip, .skipped),
        (.fail, .failed),
    ])
    func silenceLeadsToInvestigateThenAKillThenTheKilledRule(action: FailureAction, ending: AgentState) throws
    {
        var h = Harness(.test(investigateAfter: 2, killAfter: 3))
        h.arrive("a", policy: FailurePolicy(actions: [.killed: action]))
        let same = evidence(7)
        #expect(h.beat(["a": same]).alerts.isEmpty, "the first beat sees growth from nothing")
        #expect(h.beat(["a": same]).alerts.isEmpty)
        let second = h.beat(["a": same])
        #expect(second.alerts.map(\.kind.rawValue) == ["investigate"] && second.stopped.isEmpty)
        let third = h.beat(["a": same])
        #expect(third.alerts.map(\.kind.rawValue) == ["killed"] && third.stopped == ["a"])
        #expect(h["a"]?.stopping == .stuck && h["a"]?.active == true && h.topUsed == 1)
        #expect(h.beat(["a": same]).isEmpty, "an agent being stopped is not judged again")
        let exit = h.exit("a", .succeeded)
        let a = try #require(h["a"])
        #expect(a.state == ending && a.lastFailureKind == .killed && h.topUsed == 0)
        #expect(exit.deadLettered == (ending == .deadLetter ? ["a"] : []))
    }

    @Test func theDefaultKilledRuleRetriesOnceThenDeadLetters() throws {
        var h = Harness(.test(investigateAfter: 2, killAfter: 3))
        h.arrive("a")
        for attempt in 1...2 {
            for _ in 0..<4 { h.beat(["a": evidence(1)]) }
            #expect(h["a"]?.stopping == .stuck)
            h.exit("a", crashExit)
            if attempt == 1 {
                #expect(h["a"]?.state == .queued)
                h.now = try #require(h["a"]?.notBefore)
                #expect(h.send(.tick).started == ["a"])
            }
        }
        #expect(h["a"]?.state == .deadLetter && h["a"]?.attempts == 2)
    }

    @Test(arguments: Growth.allCases)
    func anyGrowingSignResetsTheSilence(_ growth: Growth) {
        var h = Harness(.test(investigateAfter: 2, killAfter: 3))
        h.arrive("a")
        var e = evidence(3)
        h.beat(["a": e])
        h.beat(["a": e])
        #expect(h.beat(["a": e]).alerts.map(\.kind.rawValue) == ["investigate"])
        e = growth.apply(to: e)
        #expect(h.beat(["a": e]).isEmpty)
        #expect(h["a"]?.liveness.silentBeats == 0 && h["a"]?.liveness.investigated == false)
        #expect(h.beat(["a": e]).isEmpty)
        #expect(
            h.beat(["a": e]).alerts.map(\.kind.rawValue) == ["investigate"], "a new silence is reported again"
        )
        #expect(h["a"]?.stopping == nil)
    }

    @Test func aQuestionAlertsAtOnceAndAWaitingAgentIsNeverSilent() {
        var h = Harness(.test(investigateAfter: 2, killAfter: 3))
        h.arrive("a")
        h.beat(["a": evidence(1)])
        h.beat(["a": evidence(1)])
        let asked = h.send(.asked(id: "a"))
        #expect(
            asked.alerts.map(\.kind.rawValue) == ["waiting-for-human"] && asked.alerts.first?.agent == "a")
        #expect(h["a"]?.state == .waiting && h.topUsed == 1)
        for _ in 0..<6 { #expect(h.beat(["a": evidence(1)]).isEmpty) }
        h.send(.answered(id: "a"))
        #expect(h["a"]?.state == .running && h["a"]?.liveness.silentBeats == 0)
        #expect(h.beat(["a": evidence(1)]).isEmpty, "the count starts again from 0")
        #expect(h.beat(["a": evidence(1)]).alerts.map(\.kind.rawValue) == ["investigate"])
    }

    @Test func onlyRunningCommandsAreJudged() {
        var h = Harness(.test(maxSlots: 6, reserve: 0, investigateAfter: 1, killAfter: 2))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.exit("boss", idleExit)
        h.arrive("q", kind: .orchestrator, slots: 4)
        #expect(h["q"]?.state == .queued)
        for _ in 0..<4 {
            let effects = h.beat(["boss": evidence(1), "q": evidence(1)])
            #expect(effects.alerts.isEmpty && effects.stopped.isEmpty)
            h.exit("boss", idleExit)
        }
    }

    /// Beats of progress lines (each line's `outputs=`) and the beat at which `spinning`
    /// goes out (nil: never).
    @Test(
        arguments: [
            ("steady", [[2], [2], [2], [2], [2]], 3),
            ("beats without lines leave the count", [[2], [2], [], [2], [], [2]], 5),
            ("moving outputs start again", [[2], [2], [2], [3], [3], [3], [3]], 6),
            ("lines without outputs start again", [[2], [2], [2], [nil], [2], [2]], nil),
            ("the latest outputs on a beat counts", [[1], [1, 2], [2, 2], [5, 2], [2]], 4),
        ] as [(String, [[Int?]], Int?)])
    func spinningIsReportedOnceWhenOutputsStopMoving(_ name: String, beats: [[Int?]], firesAt: Int?) {
        var h = Harness(.test(spinAfter: 3, loopAfter: 100))
        h.arrive("a")
        var fired: [Int] = []
        var statuses = 0
        for (index, outputs) in beats.enumerated() {
            let lines = outputs.map { count in
                statuses += 1
                return line(count, "step \(statuses)")
            }
            let effects = h.beat(["a": evidence(index + 1, lines: lines)])
            if !effects.alerts("spinning").isEmpty { fired.append(index) }
            #expect(effects.stopped.isEmpty)
        }
        #expect(fired == (firesAt.map { [$0] } ?? []), "\(name)")
    }

    /// Beats of status texts and the beat at which `looping` goes out (nil: never).
    @Test(
        arguments: [
            ([["retrying"], ["retrying"], ["retrying"], ["retrying"]], 2),
            ([["a", "a", "a"]], 0),
            ([["a", "a"], ["b"], ["a", "a"]], nil),
            ([["a", "a"], [], ["a"]], 2),
            ([["a", "a"], ["b"], ["a", "a", "a"]], 2),
        ] as [([[String]], Int?)])
    func loopingIsReportedOnceWhenTheSameStatusRepeats(beats: [[String]], firesAt: Int?) {
        var h = Harness(.test(spinAfter: 100, loopAfter: 3))
        h.arrive("a")
        var fired: [Int] = []
        var outputs = 0
        for (index, statuses) in beats.enumerated() {
            let lines = statuses.map { status in
                outputs += 1
                return line(outputs, status)
            }
            let effects = h.beat(["a": evidence(index + 1, lines: lines)])
            if !effects.alerts("looping").isEmpty { fired.append(index) }
        }
        #expect(fired == (firesAt.map { [$0] } ?? []))
    }

    @Test func spinningAndLoopingAreReportedAgainInANewRun() {
        var h = Harness(.test(maxSlots: 6, reserve: 0, spinAfter: 1, loopAfter: 2))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        for run in 0..<2 {
            h.beat(["boss": evidence(10 * run + 1, lines: [line(1, "same")])])
            let effects = h.beat(["boss": evidence(10 * run + 2, lines: [line(1, "same")])])
            #expect(effects.alerts.map(\.kind.rawValue) == ["spinning", "looping"], "run \(run)")
            #expect(h.beat(["boss": evidence(10 * run + 3, lines: [line(1, "same")])]).alerts.isEmpty)
            h.exit("boss", idleExit)
            h.send(.rejected(parent: "boss", name: "x", reason: "y"))
        }
    }

    @Test func anUnreadResultIsReportedOnceAfterOrphanAfterBeats() throws {
        var h = Harness(.test(heartbeat: 60_000, orphanAfter: 3))
        h.arrive("a")
        h.exit("a")
        #expect(h["a"]?.deliveredAt == h.now && h["a"]?.consumed == false)
        #expect(h.beat().isEmpty)
        #expect(h.beat().isEmpty)
        let third = h.beat()
        let alert = try #require(third.alerts("orphaned-result").first)
        #expect(alert.agent == "a" && alert.message.contains("a person"))
        #expect(h.beat().isEmpty, "once")
    }

    @Test func aResultReadByAPersonIsNotOrphaned() {
        var h = Harness(.test(heartbeat: 60_000, orphanAfter: 3))
        h.arrive("a")
        h.exit("a")
        h.send(.consumed(id: "a"))
        #expect(h["a"]?.consumed == true)
        for _ in 0..<5 { #expect(h.beat().isEmpty) }
    }

    @Test func aChildResultReadByItsParentsRunIsNotOrphaned() {
        var h = Harness(.test(maxSlots: 6, reserve: 0, heartbeat: 60_000, orphanAfter: 1))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.spawn("c", under: "boss")
        h.exit("boss", idleExit)
        #expect(h.exit("c").wake(of: "boss") == ["child-settled:c"])
        #expect(h["c"]?.consumed == true)
        for _ in 0..<3 {
            #expect(h.beat().alerts("orphaned-result").isEmpty)
            h.exit("boss", idleExit)
        }
    }

    @Test func aChildResultWaitingOnABusyParentIsOrphaned() throws {
        var h = Harness(.test(maxSlots: 6, reserve: 0, heartbeat: 60_000, orphanAfter: 2))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.spawn("c", under: "boss")
        h.exit("c")
        #expect(h.beat(["boss": evidence(1)]).alerts.isEmpty)
        let alert = try #require(h.beat(["boss": evidence(2)]).alerts("orphaned-result").first)
        #expect(alert.agent == "c" && alert.message.contains("boss"))
        h.exit("boss", idleExit)
        #expect(h["c"]?.consumed == true)
    }

    @Test func onlyDoneResultsCanBeOrphaned() {
        var h = Harness(.test(heartbeat: 60_000, orphanAfter: 1))
        h.arrive("a", policy: .always(.fail))
        h.exit("a", crashExit)
        for _ in 0..<3 { #expect(h.beat().isEmpty) }
    }

    /// HEARTBEAT.md: "The first beat after the command starts always counts as a sign of
    /// life", even when every counter reads zero; the next beat compares with it.
    @Test func theFirstBeatAfterAStartCountsAsLife() {
        var h = Harness(.test(investigateAfter: 1, killAfter: 2))
        h.arrive("a")
        let first = h.beat(["a": Evidence()])
        #expect(first.alerts.isEmpty)
        #expect(h["a"]?.liveness.silentBeats == 0 && h["a"]?.liveness.evidence == Evidence())
        #expect(h.beat(["a": Evidence()]).alerts.map(\.kind.rawValue) == ["investigate"])
        #expect(h["a"]?.liveness.silentBeats == 1)
    }

    /// A command the launcher holds back (a Slurm job waiting in the queue) is neither alive
    /// nor silent, however long it waits; the first beat after its release counts as life.
    @Test func aHeldCommandIsNeverSilent() {
        var h = Harness(.test(investigateAfter: 1, killAfter: 2))
        h.arrive("a")
        h.beat(["a": Evidence()])
        for _ in 0..<5 {
            #expect(h.beat(["a": Evidence(held: true)]).alerts.isEmpty)
            #expect(h["a"]?.liveness.silentBeats == 0 && h["a"]?.liveness.evidence == nil)
        }
        #expect(h.beat(["a": Evidence()]).alerts.isEmpty, "the first beat after the release")
        #expect(h.beat(["a": Evidence()]).alerts.map(\.kind.rawValue) == ["investigate"])
    }

    /// Progress lines come only from a running command: a beat that brings some is judged as
    /// usual even if the launcher's last look still said held.
    @Test func progressFromAHeldCommandStillCounts() throws {
        var h = Harness(.test(spinAfter: 1))
        h.arrive("a")
        let line = try #require(ProgressLine.parse("2026-01-01T00:00:00Z outputs=1 tokens=5 step"))
        h.beat(["a": Evidence(progressBytes: 40, newLines: [line], held: true)])
        #expect(h["a"]?.liveness.outputs == 1 && h["a"]?.liveness.evidence != nil)
    }

    /// Each run starts the count afresh: the first beat of an orchestrator's next run counts as
    /// life, whatever the previous run left.
    @Test func theFirstBeatOfEveryRunCountsAsLife() {
        var h = Harness(.test(maxSlots: 6, reserve: 0, investigateAfter: 1, killAfter: 2))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.beat(["boss": evidence(5)])
        #expect(h.beat(["boss": evidence(5)]).alerts.map(\.kind.rawValue) == ["investigate"])
        h.exit("boss", idleExit)
        #expect(h.beat().wake(of: "boss") == ["heartbeat"])
        #expect(h["boss"]?.liveness.evidence == nil)
        #expect(h.beat(["boss": evidence(5)]).alerts.isEmpty, "same counters, but a new run")
        #expect(h["boss"]?.liveness.silentBeats == 0)
    }
}
