import SwarmCore
import SwarmProtocol
import SwarmSystem
import Testing

@testable import SwarmRuntime

@Suite("EventLog: one line per change, bounded, rotated, and mended after a torn line")
struct EventLogTests {
    private func worker(_ id: String) -> AgentRecord {
        AgentRecord(
            id: id, parent: nil, depth: 1, kind: .worker, role: "worker", template: "sim-worker",
            priority: .normal,
            slots: 0, policy: .standard, createdAt: 0)
    }

    private func events(_ path: String) -> [HistoryEvent] {
        HistoryEvent.parseAll((try? FileSystem.readFile(path, limit: 1 << 20)) ?? [])
    }

    @Test func onlyChangesAreToldAndAFailureOnceForEachAttempt() throws {
        try withTemporaryFolder { root in
            try FileSystem.makeDirectory(root + "/swarm")
            let workspace = Workspace(root: root)
            var log = EventLog(workspace: workspace)
            var writer = TreeWriter()
            var r = worker("w")
            log.observe(r, now: 1)
            log.observe(r, now: 2)
            r.state = .running
            r.active = true
            r.attempts = 1
            r.runs = 1
            log.observe(r, now: 3)
            r.endRun()
            r.state = .queued
            r.notBefore = 900
            r.lastFailure = "exit status 1"
            r.lastFailureKind = .exit
            log.observe(r, now: 4)
            log.observe(r, now: 5)
            r.state = .running
            r.active = true
            r.attempts = 2
            r.runs = 2
            r.notBefore = nil
            log.observe(r, now: 6)
            r.endRun()
            r.state = .deadLetter
            log.observe(r, now: 7)
            log.flush(UpstreamRouter([]), now: 7, writer: &writer, force: true)
            let told = events(workspace.eventsPath)
            #expect(told.map(\.time) == [1, 3, 4, 6, 7])
            let failures = told.compactMap { event -> String? in
                guard case .agent(let step) = event else { return nil }
                return step.failure
            }
            #expect(failures == ["exit status 1", "exit status 1"], "the same reason, told for each attempt")
        }
    }

    @Test func anAttemptThatEndsAndRestartsInOneTurnIsToldAsTwoSteps() throws {
        try withTemporaryFolder { root in
            try FileSystem.makeDirectory(root + "/swarm")
            let workspace = Workspace(root: root)
            var log = EventLog(workspace: workspace)
            var writer = TreeWriter()
            var r = worker("w")
            r.state = .running
            r.active = true
            r.attempts = 1
            r.runs = 1
            r.upstream = "flaky"
            log.observe(r, now: 1)
            r.attempts = 2
            r.runs = 2
            r.upstream = "main"
            r.lastFailure = "529 overloaded"
            r.lastFailureKind = .upstream
            log.observe(r, now: 2)
            log.flush(UpstreamRouter([]), now: 2, writer: &writer, force: true)
            let steps = events(workspace.eventsPath).compactMap { event -> AgentStep? in
                guard case .agent(let step) = event else { return nil }
                return step
            }
            #expect(steps.map(\.attempt) == [1, 1, 2])
            #expect(steps[1].state == .queued && !steps[1].active && steps[1].upstream == "flaky")
            #expect(steps[1].failure == "529 overloaded" && steps[1].failureKind == .upstream)
            #expect(steps[2].failure == nil && steps[2].active)
        }
    }

    @Test func theFileIsRotatedPastItsLimitAndKeepsTheNewestTwo() throws {
        try withTemporaryFolder { root in
            try FileSystem.makeDirectory(root + "/swarm")
            let workspace = Workspace(root: root)
            var log = EventLog(workspace: workspace, limit: 400)
            var writer = TreeWriter()
            for i in 0..<20 {
                log.daemon(started: i % 2 == 0, now: Millis(i))
                log.flush(UpstreamRouter([]), now: Millis(i), writer: &writer, force: true)
            }
            let current = try #require(FileSystem.status(workspace.eventsPath))
            let previous = try #require(FileSystem.status(workspace.eventsPath + ".1"))
            #expect(current.size <= 400 && previous.size <= 400)
            let kept = events(workspace.eventsPath + ".1") + events(workspace.eventsPath)
            #expect(kept.last?.time == 19)
            #expect(
                kept.map(\.time) == Array(kept.first!.time...19), "no line lost or repeated between the two")
        }
    }

    @Test func aLineTornByAKilledDaemonSpoilsOnlyItself() throws {
        try withTemporaryFolder { root in
            try FileSystem.makeDirectory(root + "/swarm")
            let workspace = Workspace(root: root)
            try FileSystem.writeAtomically(
                workspace.eventsPath,
                Array(HistoryEvent.daemon(time: 1, started: true, pid: 9).line.utf8)
                    + Array(#"{"time":"20"#.utf8))
            var log = EventLog(workspace: workspace)
            var writer = TreeWriter()
            log.daemon(started: true, now: 2)
            log.flush(UpstreamRouter([]), now: 2, writer: &writer, force: true)
            #expect(events(workspace.eventsPath).map(\.time) == [1, 2])
        }
    }

    @Test func onAFullDiskTheLinesWaitInOrderWithTheAlerts() {
        let disk = FakeStorage()
        var writer = TreeWriter(storage: disk)
        var log = EventLog(workspace: Workspace(root: "/t"))
        disk.full = true
        log.daemon(started: true, now: 1)
        log.flush(UpstreamRouter([]), now: 1, writer: &writer, force: true)
        writer.append("/t/swarm/alerts.jsonl", Array("alert\n".utf8), now: 2)
        log.daemon(started: false, now: 3)
        log.flush(UpstreamRouter([]), now: 3, writer: &writer, force: true)
        #expect(writer.isStalled && disk.files.isEmpty)
        disk.full = false
        writer.retryOwed(now: 10_000)
        #expect(!writer.isStalled)
        let told = HistoryEvent.parseAll(disk.files["/t/swarm/events.jsonl"] ?? [])
        #expect(
            told == [
                .daemon(time: 1, started: true, pid: Processes.currentID),
                .daemon(time: 3, started: false, pid: Processes.currentID),
            ])
        #expect(disk.text("/t/swarm/alerts.jsonl") == "alert\n")
    }

    @Test func linesWaitInMemoryUntilTheirIntervalHasPassed() throws {
        try withTemporaryFolder { root in
            try FileSystem.makeDirectory(root + "/swarm")
            let workspace = Workspace(root: root)
            var log = EventLog(workspace: workspace)
            var writer = TreeWriter()
            #expect(log.nextWrite == nil)
            log.daemon(started: true, now: 1_000)
            log.daemon(started: false, now: 1_050)
            #expect(log.nextWrite == 1_000 + EventLog.writeInterval)
            log.flush(UpstreamRouter([]), now: 1_099, writer: &writer)
            #expect(!FileSystem.exists(workspace.eventsPath))
            log.flush(UpstreamRouter([]), now: 1_100, writer: &writer)
            #expect(events(workspace.eventsPath).map(\.time) == [1_000, 1_050], "both lines in one write")
            #expect(log.nextWrite == nil)
        }
    }

    @Test func breakerChangesAreToldOnceEach() throws {
        try withTemporaryFolder { root in
            try FileSystem.makeDirectory(root + "/swarm")
            let workspace = Workspace(root: root)
            var log = EventLog(workspace: workspace)
            var writer = TreeWriter()
            var router = UpstreamRouter([UpstreamSpec(name: "main")])
            log.flush(router, now: 0, writer: &writer, force: true)
            var policy = BreakerPolicy()
            policy.consecutiveFailures = 1
            router.policy = policy
            _ = router.acquire(preferred: [], agent: "w", now: 10)
            _ = router.failed(
                "main", agent: "w", errorClass: .overloaded, reason: "529", retryAfter: nil, now: 10)
            log.flush(router, now: 10, writer: &writer, force: true)
            log.flush(router, now: 11, writer: &writer, force: true)
            log.flush(router, now: 10 + 400_000, writer: &writer, force: true)
            let states = events(workspace.eventsPath).compactMap { event -> BreakerState? in
                guard case .breaker(_, "main", let state, _) = event else { return nil }
                return state
            }
            #expect(states == [.open, .halfOpen])
        }
    }
}
