import SwarmCore
import SwarmProtocol
import Testing

/// Runs that are Slurm batch jobs: the job id and what Slurm says of it belong to the run.
@Suite struct SchedulerJobTests {
    @Test func aBatchRunKeepsItsJobAndItsStateUntilItEnds() {
        var h = Harness()
        h.autoStart = false
        let effects = h.arrive("a")
        #expect(effects.started == ["a"])
        h.send(.started(id: "a", pid: nil, job: "412"))
        #expect(h["a"]?.job == "412" && h["a"]?.pid == nil)
        let pending = h.send(.jobState(id: "a", state: "PENDING (Resources)"))
        #expect(h["a"]?.jobState == "PENDING (Resources)")
        #expect(pending.contains(.persist(id: "a")), "meta.json, and so swarm status, shows it")
        #expect(h.send(.jobState(id: "a", state: "PENDING (Resources)")).isEmpty, "no change, no write")
        h.send(.jobState(id: "a", state: "RUNNING on n7"))
        #expect(h["a"]?.jobState == "RUNNING on n7")
        h.exit("a")
        #expect(h["a"]?.job == nil && h["a"]?.jobState == nil && h["a"]?.state == .done)
        h.send(.jobState(id: "a", state: "COMPLETING on n7"))
        #expect(h["a"]?.jobState == nil, "a report about an ended run changes nothing")
    }

    @Test func aLocalRunHasNoJobState() {
        var h = Harness()
        h.arrive("a")
        h.send(.jobState(id: "a", state: "RUNNING on n7"))
        #expect(h["a"]?.pid != nil && h["a"]?.jobState == nil)
    }

    @Test func theJobAndItsStateSurviveMetaJSON() throws {
        var record = AgentRecord(
            id: "a", parent: nil, depth: 1, kind: .worker, role: "worker", template: "t", priority: .normal,
            slots: 0, policy: .standard, createdAt: 5)
        record.active = true
        record.job = "9"
        record.jobState = "PENDING (Priority)"
        let back = try #require(AgentRecord(json: record.json))
        #expect(back.job == "9" && back.jobState == "PENDING (Priority)")
    }

    @Test func aWorkerTheLauncherCannotTakeWaitsWithoutSpendingAnAttempt() {
        var h = Harness()
        h.autoStart = false
        #expect(h.arrive("a").started == ["a"])
        #expect(h["a"]?.attempts == 1 && h["a"]?.runs == 1)
        let until = h.now + 5_000
        let effects = h.send(
            .startDeferred(id: "a", until: until, reason: "the Slurm controller does not answer"))
        #expect(effects.contains(.persist(id: "a")))
        #expect(h["a"]?.state == .queued && h["a"]?.active == false && h["a"]?.notBefore == until)
        #expect(h["a"]?.attempts == 0 && h["a"]?.runs == 0)
        #expect(h["a"]?.lastFailure?.contains("does not answer") == true)
        #expect(h.topUsed == 0, "its slot is free while it waits")
        #expect(h.advance(4_000).started.isEmpty)
        #expect(h.advance(1_000).started == ["a"])
        #expect(h["a"]?.attempts == 1 && h["a"]?.runs == 1)
    }

    @Test func aDeferredRetryKeepsWhyTheAttemptBeforeEnded() {
        var h = Harness()
        h.autoStart = false
        #expect(h.arrive("a").started == ["a"])
        h.send(.started(id: "a", pid: 42))
        h.send(.exited(id: "a", outcome: .failed(.killed, reason: "killed by SIGKILL")))
        let retry = h.advance(60_000).started
        #expect(retry == ["a"] && h["a"]?.attempts == 2)
        h.send(
            .startDeferred(
                id: "a", until: h.now + 1_000, reason: "its last run's processes are being stopped"))
        #expect(h["a"]?.state == .queued && h["a"]?.attempts == 1)
        #expect(h["a"]?.lastFailure == "killed by SIGKILL" && h["a"]?.lastFailureKind == .killed)
        #expect(h.advance(1_000).started == ["a"])
        #expect(h["a"]?.attempts == 2)
    }

    @Test func anOrchestratorOrAStoppedRunTheLauncherCannotTakeFailsAsAStart() {
        var h = Harness()
        h.autoStart = false
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.send(.startDeferred(id: "boss", until: h.now + 5_000, reason: "no controller"))
        #expect(h["boss"]?.lastFailureKind == .exit && h["boss"]?.attempts == 1, "the failure policy applies")
        h.arrive("w")
        h.send(.killRequested(id: "w"))
        h.send(.startDeferred(id: "w", until: h.now + 5_000, reason: "no controller"))
        #expect(h["w"]?.state == .killed)
    }
}
