import SwarmCore
import SwarmProtocol
import Testing

/// Messages from people (`.messaged`) and what the scheduler records of sessions and resumed
/// runs; which retries continue a session (`ResumeRule`).
@Suite struct SchedulerMessageTests {
    /// An idle orchestrator is woken with `message`; a running one, a worker and a queued
    /// agent are not (they read it in their run or their next brief). A second message before
    /// the wake-up ends adds no second reason.
    @Test func aMessageWakesAnIdleOrchestratorOnly() {
        var h = Harness(.test(maxSlots: 6, reserve: 0))
        h.arrive("idle", kind: .orchestrator, slots: 1)
        h.arrive("busy", kind: .orchestrator, slots: 1)
        h.arrive("w")
        h.exit("idle", idleExit)
        #expect(h["idle"]?.active == false && h["idle"]?.state == .running)
        #expect(h.send(.messaged(id: "idle")).wake(of: "idle") == ["message"])
        #expect(h["idle"]?.active == true && h["idle"]?.pendingWakes == [])
        #expect(h.send(.messaged(id: "busy")).started.isEmpty)
        #expect(h.send(.messaged(id: "w")).started.isEmpty)
        #expect(h["busy"]?.pendingWakes == [] && h["w"]?.pendingWakes == [])
        #expect(h.send(.messaged(id: "nobody")).isEmpty)
    }

    /// An idle orchestrator waiting for an answer gathers `message` with its other reasons
    /// and runs once the answer comes.
    @Test func aWaitingOrchestratorGathersTheMessage() {
        var h = Harness(.test(maxSlots: 6, reserve: 0))
        h.arrive("boss", kind: .orchestrator, slots: 1)
        h.send(.asked(id: "boss"))
        h.exit("boss", idleExit)
        #expect(h["boss"]?.state == .waiting)
        #expect(h.send(.messaged(id: "boss")).started.isEmpty)
        #expect(h.send(.messaged(id: "boss")).started.isEmpty)
        #expect(h["boss"]?.pendingWakes == [.message])
        #expect(h.send(.answered(id: "boss")).wake(of: "boss") == ["message", "answered"])
    }

    /// The session a run reports and whether a run resumed are kept in the record, and
    /// survive meta.json.
    @Test func sessionAndStartAreRecorded() throws {
        var h = Harness()
        h.autoStart = false
        h.arrive("w")
        h.send(.started(id: "w", pid: 7, resumed: true))
        h.send(.session(id: "w", session: "abc-123"))
        let record = try #require(h["w"])
        #expect(record.session == "abc-123" && record.resumed)
        let back = try #require(AgentRecord(json: record.json))
        #expect(back.session == "abc-123" && back.resumed)
        #expect(record.json["start"]?.stringValue == "resume")
    }

    /// One row per situation: the kind of the last failure, whether the run that failed was
    /// itself resumed, and what the next start is.
    @Test(arguments: [
        (FailureKind.killed, false, true), (.killed, true, true), (.upstream, false, true),
        (.upstream, true, true),
        (.exit, false, true), (.exit, true, false),
        (.contract, false, true), (.contract, true, false), (.error, false, false), (.budget, false, false),
    ])
    func resumeRule(kind: FailureKind, lastRunResumed: Bool, resumes: Bool) {
        var record = task("w")
        record.attempts = 2
        record.session = "s-1"
        record.lastFailureKind = kind
        record.lastFailure = "why it failed"
        record.resumed = lastRunResumed
        let start = ResumeRule.start(for: record, wake: [.start], canResume: true)
        #expect(start == (resumes ? .resume(session: "s-1", why: "why it failed") : .fresh))
    }

    /// No resume without a `resume:` command, a session, a retry, or on a wake-up.
    @Test func resumeNeedsEverything() {
        var record = task("w")
        record.attempts = 2
        record.session = "s-1"
        record.lastFailureKind = .killed
        #expect(ResumeRule.start(for: record, wake: [.start], canResume: false) == .fresh)
        #expect(ResumeRule.start(for: record, wake: [.heartbeat], canResume: true) == .fresh)
        var first = record
        first.attempts = 1
        #expect(ResumeRule.start(for: first, wake: [.start], canResume: true) == .fresh)
        var noSession = record
        noSession.session = nil
        #expect(ResumeRule.start(for: noSession, wake: [.start], canResume: true) == .fresh)
        #expect(WakeReason("message") == .message && WakeReason.message.description == "message")
    }
}
