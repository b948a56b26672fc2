import SwarmCore
import SwarmProtocol
import Testing

@testable import SwarmRuntime

/// The crash contract's inverse: what a record read back after a crash means.
@Suite("RecordWriter: recovery judges a record by its fields and the run's trace")
struct RecordWriterTests {
    static func record(
        state: AgentState = .running, active: Bool = true, runs: Int = 1, attempts: Int = 1,
        pid: Int32? = nil,
        kind: AgentKind = .worker
    ) -> AgentRecord {
        var r = AgentRecord(
            id: "a", parent: nil, depth: 1, kind: kind, role: "worker", template: "sim-worker",
            priority: .normal,
            slots: 0, policy: .standard, createdAt: 1_000)
        r.state = state
        r.active = active
        r.runs = runs
        r.attempts = attempts
        r.pid = pid
        r.startedAt = active ? 2_000 : nil
        return r
    }

    static let nothing = RunTrace(lockHeld: false, outputModified: nil, hasResults: false, hasProgress: false)

    @Test(arguments: [
        // a queued record whose first run made its stdout.log: it had started (rule 2's exception)
        (
            record(state: .queued, active: false, runs: 0, attempts: 0),
            RunTrace(lockHeld: true, outputModified: 2_100, hasResults: false, hasProgress: false),
            RecordWriter.RecoveredRun.startedWhileQueued
        ),
        (record(state: .queued, active: false, runs: 0, attempts: 0), nothing, .asRecorded),
        // a start put back in the queue (a Slurm step never allocated) left its stdout.log
        (
            {
                var deferred = record(state: .queued, active: false, runs: 0, attempts: 0)
                deferred.notBefore = 9_000
                return deferred
            }(),
            RunTrace(lockHeld: false, outputModified: 2_100, hasResults: false, hasProgress: false),
            .asRecorded
        ),
        // a live process holds the lock
        (
            record(pid: 42),
            RunTrace(lockHeld: true, outputModified: 2_100, hasResults: false, hasProgress: true), .running
        ),
        // the start was written, the spawn never happened
        (record(), nothing, .neverStarted),
        (
            record(runs: 2, attempts: 2),
            RunTrace(lockHeld: false, outputModified: 1_500, hasResults: false, hasProgress: true),
            .neverStarted
        ),
        // it ran and ended while down
        (
            record(), RunTrace(lockHeld: false, outputModified: 2_010, hasResults: true, hasProgress: true),
            .endedWhileDown
        ),
        (
            record(pid: 42),
            RunTrace(lockHeld: false, outputModified: 2_010, hasResults: false, hasProgress: false),
            .endedWhileDown
        ),
        (
            record(), RunTrace(lockHeld: false, outputModified: 1_990, hasResults: false, hasProgress: false),
            .endedWhileDown
        ),
    ])
    func judge(_ record: AgentRecord, _ trace: RunTrace, _ expected: RecordWriter.RecoveredRun) {
        #expect(RecordWriter.judge(record, trace) == expected)
    }

    @Test func undoingAStartGivesBackTheAttemptOfAFirstRunAndTheRunOfAWake() {
        var first = Self.record()
        RecordWriter.undoStart(&first)
        #expect(first.state == .queued && first.attempts == 0 && first.runs == 0 && !first.active)
        var wake = Self.record(runs: 3, kind: .orchestrator)
        RecordWriter.undoStart(&wake)
        #expect(wake.state == .running && wake.attempts == 1 && wake.runs == 2 && !wake.active)
    }

    @Test func theFirstRunOfAQueuedAgentKeepsItsQueuedRecordAndTheRestAreWrittenBeforeTheSpawn() {
        let writer = RecordWriter(workspace: Workspace(root: "/t"))
        #expect(!writer.writesBeforeSpawn(Self.record(), local: true, queuedRecordOnDisk: true))
        #expect(writer.writesBeforeSpawn(Self.record(), local: false, queuedRecordOnDisk: true))
        #expect(
            writer.writesBeforeSpawn(Self.record(runs: 2, attempts: 2), local: true, queuedRecordOnDisk: true)
        )
        // a worker from the inbox without a repository: its folder gives its queued record
        #expect(Self.record().isDerivableFromSource)
        #expect(!writer.writesBeforeSpawn(Self.record(), local: true, queuedRecordOnDisk: false))
        // any other agent without a record on disk gets one before its spawn
        var child = Self.record()
        child.parent = "boss"
        var bound = Self.record()
        bound.git = GitBinding(repo: "/r", base: "abc", target: nil)
        for record in [child, bound, Self.record(kind: .orchestrator)] {
            #expect(!record.isDerivableFromSource)
            #expect(writer.writesBeforeSpawn(record, local: true, queuedRecordOnDisk: false))
        }
    }

    @Test func onlyTheFirstRunsPidWriteWaits() {
        var writer = RecordWriter(workspace: Workspace(root: "/t"))
        let records = ["a": Self.record()]
        #expect(writer.deferredWrite(of: .started(id: "a", pid: 7), records: records) == "a")
        #expect(writer.deferredWrite(of: .started(id: "a", pid: nil, job: "12"), records: records) == nil)
        #expect(
            writer.deferredWrite(of: .started(id: "a", pid: 7), records: ["a": Self.record(runs: 2)]) == nil)
        writer.persist("a")
        #expect(writer.deferredWrite(of: .started(id: "a", pid: 7), records: records) == nil)
    }
}

/// What the record writer writes, and when, against a disk played in memory.
@Suite("RecordWriter: meta.json and state.json are written by the crash contract's rules")
struct RecordWriterFlushTests {
    static let workspace = Workspace(root: "/t")

    static func running(_ id: String) -> AgentRecord {
        var r = RecordWriterTests.record()
        r.id = id
        return r
    }

    /// A disk where the workspace's folders exist.
    static func disk() -> FakeStorage {
        let disk = FakeStorage()
        disk.folders = ["/t/swarm", "/t/swarm/agents/a", "/t/swarm/agents/b"]
        return disk
    }

    @Test func aFirstRunsPidWaitsAHundredMillisecondsAndEveryOtherChangeLandsAtTheNextFlush() {
        let disk = Self.disk()
        var writer = TreeWriter(storage: disk)
        var records = RecordWriter(workspace: Self.workspace)
        let all = ["a": Self.running("a"), "b": Self.running("b")]
        records.persist("b")
        records.deferStart("a", now: 1_000)
        _ = records.flush(
            records: all, limits: Limits(), router: UpstreamRouter([]), writer: &writer, now: 1_050)
        #expect(disk.files["/t/swarm/agents/b/meta.json"] != nil)
        #expect(disk.files["/t/swarm/agents/a/meta.json"] == nil, "the pid write waits")
        _ = records.flush(
            records: all, limits: Limits(), router: UpstreamRouter([]), writer: &writer, now: 1_100)
        #expect(disk.files["/t/swarm/agents/a/meta.json"] != nil, "and lands once the run lasted 100 ms")
        #expect(records.nextDeferredWrite == nil)
    }

    @Test func stateJSONIsACacheWrittenAtMostEveryQuarterSecond() {
        let disk = Self.disk()
        var writer = TreeWriter(storage: disk)
        var records = RecordWriter(workspace: Self.workspace)
        let all = ["a": Self.running("a")]
        // the daemon writes the bytes flush returns (`StateFile`); here the writer does
        func flush(at now: Millis) {
            if let state = records.flush(
                records: all, limits: Limits(), router: UpstreamRouter([]), writer: &writer, now: now)
            {
                writer.replace(Self.workspace.statePath, with: state, now: now)
            }
        }
        flush(at: 10_000)
        #expect(disk.text("/t/swarm/state.json")?.contains("\"id\":\"a\"") == true)
        records.persist("a")
        disk.files["/t/swarm/state.json"] = nil
        flush(at: 10_100)
        #expect(disk.files["/t/swarm/state.json"] == nil, "not again within 250 ms")
        flush(at: 10_250)
        #expect(disk.files["/t/swarm/state.json"] != nil)
    }

    @Test func aStartWhoseRecordCannotLandSpawnsNothing() {
        let disk = Self.disk()
        var writer = TreeWriter(storage: disk)
        var records = RecordWriter(workspace: Self.workspace)
        disk.full = true
        let landed = records.beforeSpawn(
            Self.running("a"), writeOwn: true, records: ["a": Self.running("a")], writer: &writer, now: 0)
        #expect(!landed && writer.isStalled)
        disk.full = false
        writer.retryOwed(now: 1_000)
        #expect(disk.files["/t/swarm/agents/a/meta.json"] != nil, "the owed record lands once space returns")
    }
}
