import SwarmCore
import SwarmProtocol
import SwarmScaffold
import Testing

@testable import SwarmRuntime

/// The daemon's small owners, without a kernel.
@Suite("The daemon's owners: intake queue, deadlines, watches, runs, launch plans")
struct ShellOwnerTests {
    @Test func theIntakeQueueTakesNamesOnceInOrderAndHoldsSpawnFolders() {
        var queue = IntakeQueue()
        for name in ["a", "b", "a", "c"] { queue.enqueue(name) }
        #expect(queue.waiting == 3)
        let first = queue.take(limit: 2)
        #expect(first == ["a", "b"])
        queue.enqueue("a")
        let rest = queue.take(limit: 5)
        #expect(rest == ["c", "a"])
        #expect(queue.isEmpty)
        queue.hold(spawnFolderOf: "boss")
        #expect(!queue.isEmpty)
        let held = queue.takeHeldSpawnFolders()
        #expect(held == ["boss"] && queue.isEmpty)
    }

    @Test func deadlinesGiveTheEarliestAndHandOverDueStopsOnce() {
        var deadlines = Deadlines(heartbeatAt: 1_000, pollInterval: nil)
        #expect(deadlines.next(nil, 700) == 700)
        deadlines.stopping("a", PendingStop(due: 500, launcher: .local, handle: .process(3)))
        #expect(deadlines.next() == 500 && deadlines.isStopping("a"))
        let early = deadlines.dueStops(now: 499)
        let due = deadlines.dueStops(now: 500)
        let again = deadlines.dueStops(now: 501)
        #expect(early.isEmpty && due.map(\.id) == ["a"] && again.isEmpty && !deadlines.isStopping("a"))
        let beat = deadlines.heartbeatDue(now: 1_000, interval: 200)
        #expect(beat && deadlines.heartbeat == 1_200)
        deadlines.poll(every: 100, from: 1_000)
        let polls = [1_099, 1_100, 1_150].map { deadlines.pollDue(now: $0) }
        #expect(polls == [false, true, false])
    }

    @Test func theWatchTableForgetsBothWatchesOfAnAgent() {
        var watches = WatchTable()
        watches.add(1, .inbox)
        watches.add(5, .agent("a"))
        watches.add(6, .spawnRequests("a"))
        #expect(watches.watchesFolder(of: "a") && watches.watchesSpawnFolder(of: "a"))
        let removed = watches.removeAgent("a")
        #expect(removed.sorted() == [5, 6])
        #expect(watches.target(of: 5) == nil && watches.target(of: 1) == .inbox)
        watches.add(7, .agent("b"))
        let dropped = watches.dropped(7)
        #expect(dropped == .agent("b") && !watches.watchesFolder(of: "b"))
    }

    @Test func aRunKeepsItsLauncherAndOnlyProcessesGetTokens() {
        var runs = RunTable()
        let token = runs.insert("a", Run(launcher: .slurmSrun, handle: .process(40)))
        #expect(token == RunTable.firstToken)
        let jobToken = runs.insert("b", Run(launcher: .slurm, handle: .job("77")))
        #expect(jobToken == nil)
        #expect(runs["a"]?.launcher == .slurmSrun && runs.jobs.map(\.job) == ["77"])
        runs.remove("b")
        #expect(runs.jobs.isEmpty && runs["a"] != nil)
    }

    static func context(confinement: Confinement = .warn, abi: Int = 3) -> LaunchContext {
        var config = SwarmConfig()
        config.confinement = confinement
        config.upstreams = [Upstream(name: "fallback", env: ["API": "b"], unset: ["OLD"])]
        return LaunchContext(
            workspace: Workspace(root: "/w"), config: config,
            baseEnvironment: ["OLD=1", "API=a", "HOME=/root"],
            landlockABI: abi, home: "/root")
    }

    @Test func aLaunchPlanCarriesTheEnvironmentOfTheContractAndTheConfinement() throws {
        var record = AgentRecord(
            id: "w1", parent: "boss", depth: 2, kind: .worker, role: "worker", template: "t",
            priority: .normal,
            slots: 0, policy: .standard, createdAt: 0)
        record.upstream = "fallback"
        record.attempts = 2
        let template = Template(
            name: "t", command: "run it", workdir: "src", writes: ["~/.cache", "/abs"], privateHome: true)
        let plan = try LaunchPlanner.plan(record, template: template, wake: [.start], context: Self.context())
            .get()
        let environment = Set(plan.spec.environment)
        #expect(
            environment.isSuperset(of: [
                "API=b", "SWARM_AGENT_ID=w1", "SWARM_PARENT_ID=boss", "SWARM_DEPTH=2", "SWARM_SLOTS=0",
                "SWARM_UPSTREAM=fallback", "SWARM_ATTEMPT=2", "SWARM_WAKE=start",
                "HOME=/w/swarm/agents/w1/home",
            ]))
        #expect(
            !environment.contains("OLD=1") && !environment.contains("API=a")
                && !environment.contains("HOME=/root"))
        #expect(plan.spec.workingDirectory == "/w/src")
        #expect(plan.confinement == .landlock(abi: 3))
        #expect(plan.spec.rules?.writable == ["/w/swarm/agents/w1", "/w/src", "/root/.cache", "/abs"])
        #expect(plan.spec.rules?.readable == nil && plan.spec.rules?.connectPorts == nil)
        #expect(plan.spec.rules?.scoped == true)
        #expect(plan.unenforced.count == 1, "signals need ABI 6: \(plan.unenforced)")
        let off = try LaunchPlanner.plan(
            record, template: template, wake: [], context: Self.context(confinement: .off)
        ).get()
        #expect(off.spec.rules == nil && off.confinement == .off)
        let required = LaunchPlanner.plan(
            record, template: template, wake: [], context: Self.context(confinement: .require, abi: 0))
        #expect(throws: SwarmError.self) { try required.get() }
    }
}

/// Every alert kind the code raises is explained where a person looks for it.
@Suite struct AlertKindDocsTests {
    @Test(arguments: AlertKind.allCases)
    func heartbeatMDExplainsEveryAlertKind(_ kind: AlertKind) throws {
        let heartbeat = try #require(Scaffold.files.first { $0.path == "HEARTBEAT.md" })
        #expect(
            heartbeat.contents.contains("| `\(kind.rawValue)` |"),
            "HEARTBEAT.md's table lacks \(kind.rawValue)")
    }
}

/// When running agents' logs are looked at: a second after the start, then every second while
/// they grow; quiet ones wait for the next write their one-shot watch reports.
@Suite struct LogCheckScheduleTests {
    @Test func growingLogsAreLookedAtEverySecondAndQuietOnesAtTheirNextWrite() {
        var schedule = LogCheckSchedule()
        schedule.started("a", now: 0)
        schedule.started("b", now: 500)
        #expect(schedule.due(now: 999).isEmpty && schedule.due(now: 1_000) == ["a"])
        let grew = schedule.looked("a", bytes: 10, now: 1_000)
        let quietB = schedule.looked("b", bytes: 0, now: 1_500)
        #expect(!grew && quietB && schedule.next == 2_000, "b printed nothing: it waits for its watch")
        let quiet = schedule.looked("a", bytes: 10, now: 2_000)
        #expect(quiet && schedule.next == nil, "a quiet log waits for its watch, not for a timer")
        schedule.wrote("a", now: 5_000)
        #expect(schedule.due(now: 5_000) == ["a"])
        schedule.wrote("a", now: 6_000)
        #expect(schedule.next == 5_000, "a second write before the look changes nothing")
        _ = schedule.looked("a", bytes: 10, now: 6_000)
        schedule.pollInstead("a", now: 6_000)
        #expect(schedule.next == 7_000, "without a watch, the look comes every second")
        schedule.ended("a")
        schedule.ended("b")
        #expect(schedule.next == nil && schedule.due(now: .max).isEmpty)
        schedule.wrote("a", now: 8_000)
        #expect(schedule.next == nil, "a run that ended is not looked at again")
    }
}
