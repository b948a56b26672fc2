import SwarmCore
import SwarmProtocol
import Testing

@testable import SwarmReport

/// A record for a report: `id` under `parent`, settled `state` at `finished`.
func record(
    _ id: String, parent: String? = nil, kind: AgentKind = .worker, slots: Int = 0, sequence: Int,
    state: AgentState = .done, attempts: Int = 1, created: Millis = 0, started: Millis? = nil,
    finished: Millis? = nil, failure: String? = nil
) -> AgentRecord {
    var r = AgentRecord(
        id: id, parent: parent, depth: parent == nil ? 1 : 2, kind: kind, role: "worker",
        template: "sim-worker",
        priority: .normal, slots: slots, policy: .standard, createdAt: created)
    r.sequence = sequence
    r.state = state
    r.attempts = attempts
    r.runs = attempts
    r.startedAt = started
    r.finishedAt = finished
    r.lastFailure = failure
    return r
}

func step(
    _ time: Millis, _ id: String, _ state: AgentState, active: Bool = false, attempt: Int = 1, run: Int = 1,
    notBefore: Millis? = nil, failure: String? = nil
) -> HistoryEvent {
    .agent(
        AgentStep(
            time: time, agent: id, state: state, active: active, attempt: attempt, run: run,
            notBefore: notBefore,
            failureKind: failure == nil ? nil : .exit, failure: failure))
}

@Suite("ReportBuilder: the tree and its history become rows, spans, series and tables")
struct ReportBuilderTests {
    @Test func aRetriedWorkerShowsEachPhaseTheBackoffAndTheNextAttempt() throws {
        let events: [HistoryEvent] = [
            step(0, "w", .queued, run: 0),
            step(100, "w", .running, active: true),
            step(400, "w", .queued, notBefore: 900, failure: "exit status 1"),
            step(1_000, "w", .running, active: true, attempt: 2, run: 2),
            step(1_500, "w", .done, attempt: 2, run: 2),
        ]
        let input = ReportInput(
            records: [record("w", sequence: 1, attempts: 2, finished: 1_500)], events: events, alerts: [],
            maxSlots: 4, reserve: 1)
        let data = ReportBuilder.build(input)
        let row = try #require(data.rows.first)
        #expect(
            row.spans.map(\.phase) == [.queued, .running, .backoff, .queued, .running],
            "\(row.spans.map(\.phase))")
        #expect(row.spans.map(\.attempt) == [1, 1, 1, 1, 2])
        #expect(row.spans[2].start == 400 && row.spans[2].end == 900)
        #expect(row.marks.map(\.kind) == ["attempt", "end"])
        #expect(
            data.failures.count == 1 && data.failures[0].outcome == "retry" && data.failures[0].attempt == 1)
        #expect(data.historyComplete)
        let top = try #require(data.slots.first)
        #expect(top.peak == 1 && top.points.map(\.used) == [0, 1, 0, 1, 0])
    }

    @Test func withoutHistoryTheRowsComeFromTheRecords() throws {
        let input = ReportInput(
            records: [
                record(
                    "w", sequence: 1, state: .deadLetter, created: 0, started: 200, finished: 700,
                    failure: "boom")
            ],
            events: [], alerts: [], maxSlots: 4, reserve: 1)
        let data = ReportBuilder.build(input)
        let row = try #require(data.rows.first)
        #expect(row.spans.map(\.phase) == [.queued, .running])
        #expect(row.spans.last?.end == 700)
        #expect(!data.historyComplete)
        #expect(data.failures.map(\.reason) == ["boom"])
        #expect(data.failures.first?.outcome == "dead-letter")
    }

    @Test func tornAndUnknownLinesAreSkipped() {
        let good = HistoryEvent.daemon(time: 5, started: true, pid: 7).line
        let bytes = Array(
            (#"{"time":"2026-01-01T00:00:00.000Z","agent":"w","sta"# + "\n" + good
                + #"{"time":"2026-01-01T00:00:00.000Z","comet":"x"}"# + "\nnot json\n").utf8)
        #expect(HistoryEvent.parseAll(bytes) == [.daemon(time: 5, started: true, pid: 7)])
    }

    @Test func everyEventSurvivesItsLine() {
        let events: [HistoryEvent] = [
            .agent(
                AgentStep(
                    time: 1, agent: "a", state: .queued, active: false, attempt: 2, run: 3, upstream: "main",
                    notBefore: 9, stopping: .stuck, failureKind: .upstream, failure: "529 \"overloaded\"")),
            .breaker(time: 2, domain: "d", state: .open, until: 30_000),
            .breaker(time: 3, domain: "d", state: .halfOpen, until: nil),
            .daemon(time: 4, started: false, pid: 12),
        ]
        #expect(HistoryEvent.parseAll(Array(events.map(\.line).joined().utf8)) == events)
    }

    @Test func treeOrderPutsEachSubtreeUnderItsHeadAndOrphansAtTheTop() {
        let records = [
            record("b", parent: "root", sequence: 3),
            record("root", kind: .orchestrator, slots: 2, sequence: 1),
            record("a", parent: "root", sequence: 2), record("lost", parent: "gone", sequence: 4),
            record("a1", parent: "a", sequence: 5),
        ]
        let order = ReportBuilder.treeOrder(records)
        #expect(order.map(\.0) == ["root", "a", "a1", "b", "lost"])
        #expect(order.map(\.1) == [0, 1, 2, 1, 0])
    }

    @Test func anOpenBreakerTurnsHalfOpenAtItsTimeAndTheIncidentLandsOnItsDomain() throws {
        let input = ReportInput(
            records: [record("w", sequence: 1, finished: 10_000)],
            events: [.breaker(time: 1_000, domain: "api", state: .open, until: 3_000)],
            alerts: [
                ReportAlert(
                    time: 1_000, kind: "upstream-incident", agent: nil,
                    message: "upstream domain api fails: ...")
            ],
            maxSlots: 4, reserve: 1, upstreams: [("main", "main"), ("api-1", "api"), ("api-2", "api")])
        let data = ReportBuilder.build(input)
        #expect(data.upstreams.map(\.domain) == ["main", "api"])
        let lane = try #require(data.upstreams.last)
        #expect(lane.upstreams == ["api-1", "api-2"])
        #expect(lane.spans.map(\.state) == [.closed, .open, .halfOpen])
        #expect(lane.spans[1].start == 1_000 && lane.spans[1].end == 3_000)
        #expect(lane.marks.map(\.kind) == ["upstream-incident"])
    }

    @Test func aDaemonThatStartsClosesEveryBreaker() throws {
        let input = ReportInput(
            records: [record("w", sequence: 1, finished: 10_000)],
            events: [
                .breaker(time: 1_000, domain: "api", state: .open, until: 60_000),
                .daemon(time: 4_000, started: true, pid: 2),
            ],
            alerts: [], maxSlots: 4, reserve: 1, upstreams: [("api", "api")])
        let lane = try #require(ReportBuilder.build(input).upstreams.first)
        #expect(lane.spans.map(\.state) == [.closed, .open, .closed])
        #expect(lane.spans[1].end == 4_000)
    }

    @Test func slotsReleasedAndTakenAtOneMomentShowNoPeak() throws {
        let events: [HistoryEvent] = [
            step(0, "o", .running, active: true, run: 1),
            step(10, "x", .running, active: true), step(50, "x", .done),
            step(50, "y", .running, active: true), step(90, "y", .done),
            step(100, "o", .done),
        ]
        let input = ReportInput(
            records: [
                record("o", kind: .orchestrator, slots: 1, sequence: 1, finished: 100),
                record("x", parent: "o", sequence: 2, finished: 50),
                record("y", parent: "o", sequence: 3, finished: 90),
            ],
            events: events, alerts: [], maxSlots: 4, reserve: 1)
        let data = ReportBuilder.build(input)
        let series = try #require(data.slots.first { $0.holder == "o" })
        #expect(series.peak == 1 && series.total == 1)
        #expect(data.slots.first?.peak == 2, "the orchestrator holds 1 + its 1 slot")
        #expect(data.rows.first?.subtreeSize == 3)
    }
}
