import SwarmProtocol
import Testing

private let head = "---\nrole: worker\ntemplate: shell\n"

/// Every broken schedule file is one row; `file` is the schedule's name.
private let brokenSchedules: [Rejection] = [
    Rejection("no every", head + "---\necho hi\n", line: nil, "no every: line"),
    Rejection("every in words", head + "every: often\n---\n", line: 4, "neither a duration nor a number"),
    Rejection("every without unit", head + "every: 30\n---\n", line: 4, "neither a duration"),
    Rejection("every too short", head + "every: 50ms\n---\n", line: 4, "shorter than 100ms"),
    Rejection("every zero", head + "every: 0s\n---\n", line: 4, "shorter than 100ms"),
    Rejection("zero heartbeats", head + "every: 0 heartbeats\n---\n", line: 4, "of 1 or more"),
    Rejection("negative heartbeats", head + "every: -2 heartbeats\n---\n", line: 4, "of 1 or more"),
    Rejection("fraction of heartbeats", head + "every: 1.5 heartbeats\n---\n", line: 4, "of 1 or more"),
    Rejection("beats", head + "every: 3 beats\n---\n", line: 4, "every: 3 heartbeats"),
    Rejection("bad catch-up", head + "every: 1m\ncatch-up: all\n---\n", line: 5, "not skip or once"),
    Rejection("empty when-changed", head + "every: 1m\nwhen-changed:\n---\n", line: 5, "names no path"),
    Rejection("id", head + "every: 1m\nid: fixed\n---\n", line: 5, "may not set id:"),
    Rejection("schedule key", head + "every: 1m\nschedule: other\n---\n", line: 5, "reserved"),
    Rejection("schedule.slot key", head + "every: 1m\nschedule.slot: x\n---\n", line: 5, "reserved"),
    Rejection("twice every", head + "every: 1m\nevery: 2m\n---\n", line: 5, "appears twice"),
    Rejection("no front matter", "every: 1m\necho\n", line: 1, "no front matter"),
    Rejection("unclosed", head + "every: 1m\n", line: 1, "never closed"),
    Rejection("no role", "---\ntemplate: shell\nevery: 1m\n---\n", line: nil, "no role"),
    Rejection("bad priority", head + "every: 1m\npriority: high\n---\n", line: 5, "priority"),
    Rejection("name with capitals", file: "Tick", head + "every: 1m\n---\n", line: nil, "upper-case"),
    Rejection("name with a dot", file: "a.b", head + "every: 1m\n---\n", line: nil, "contains \".\""),
    Rejection(
        "name too long", file: String(repeating: "a", count: 49), head + "every: 1m\n---\n", line: nil,
        "longer than 48"),
]

@Suite("Schedule files")
struct ScheduleParserTests {
    @Test(arguments: brokenSchedules)
    func rejectsBrokenScheduleFiles(_ row: Rejection) throws {
        let name = row.fileName == "task.md" ? "tick" : row.fileName
        let error = try #require(
            failure { () throws(ProtocolError) in try ScheduleParser.parse(name: name, bytes: row.bytes) })
        #expect(error.line == row.line, "\(error)")
        #expect(error.description.contains(row.fragment), "\(error)")
    }

    @Test(
        "every: durations and heartbeats",
        arguments: [
            ("100ms", SchedulePeriod.duration(100)), ("30s", .duration(30_000)), ("15m", .duration(900_000)),
            ("2h", .duration(7_200_000)), ("1 heartbeat", .heartbeats(1)), ("3 heartbeats", .heartbeats(3)),
            ("  12   heartbeats ", .heartbeats(12)),
        ])
    func periods(_ text: String, _ period: SchedulePeriod) throws {
        let spec = try ScheduleParser.parse(name: "tick", bytes: utf8(head + "every: \(text)\n---\necho\n"))
        #expect(spec.period == period)
    }

    @Test("a period in milliseconds, with the heartbeat; its description is what a person writes")
    func periodArithmetic() {
        #expect(SchedulePeriod.heartbeats(3).milliseconds(heartbeat: 200) == 600)
        #expect(SchedulePeriod.duration(30_000).milliseconds(heartbeat: 200) == 30_000)
        #expect(SchedulePeriod.heartbeats(2).milliseconds(heartbeat: .max) == .max)
        #expect(SchedulePeriod.heartbeats(1).description == "1 heartbeat")
        #expect(SchedulePeriod.heartbeats(3).description == "3 heartbeats")
        #expect(SchedulePeriod.duration(900_000).description == "15m")
    }

    @Test("the schedule keys are taken out; the rest is the task")
    func readsTheTask() throws {
        let text = """
            ---
            role: worker
            template: shell
            priority: background
            every: 3 heartbeats
            when-changed: src, docs/api.md
            when-changed: Package.swift  tests
            catch-up: once
            acceptance: it passes
            note: kept
            ---
            echo "{}" > results.json
            """
        let spec = try ScheduleParser.parse(name: "nightly-1", bytes: utf8(text))
        #expect(spec.name == "nightly-1")
        #expect(spec.period == .heartbeats(3))
        #expect(spec.whenChanged == ["src", "docs/api.md", "Package.swift", "tests"])
        #expect(spec.catchUp == .once)
        #expect(spec.task.role == "worker")
        #expect(spec.task.priority == .background)
        #expect(spec.task.text == "echo \"{}\" > results.json")
        #expect(spec.task.id == nil)
        #expect(!spec.task.fields.contains { ScheduleParser.scheduleKeys.contains($0.key) })
        #expect(spec.task.value("note") == "kept")
    }

    @Test("catch-up defaults to skip, when-changed to nothing")
    func defaults() throws {
        let spec = try ScheduleParser.parse(name: "tick", bytes: utf8(head + "every: 1m\n---\necho\n"))
        #expect(spec.catchUp == .skip)
        #expect(spec.whenChanged.isEmpty)
    }

    @Test("a firing is a task file with id NAME-<n>, the schedule's name and its slot")
    func firingFile() throws {
        let spec = try ScheduleParser.parse(
            name: "tick", bytes: utf8(head + "every: 1m\nwhen-changed: src\nsim.steps: 2\n---\necho hi\n"))
        let text = ScheduleParser.firing(spec, number: 7, slot: 1_800_000_000_000)
        let task = try TaskParser.parse(fileName: "tick-7.md", bytes: utf8(text))
        #expect(task.id == "tick-7")
        #expect(task.role == "worker")
        #expect(task.template == "shell")
        #expect(task.text == "echo hi")
        #expect(task.value("sim.steps") == "2")
        #expect(task.value("schedule") == "tick")
        #expect(task.value("schedule.slot") == "2027-01-15T08:00:00.000Z")
        #expect(task.value("every") == nil && task.value("when-changed") == nil)
        #expect(ScheduleParser.slot(ofFiring: utf8(text), schedule: "tick") == 1_800_000_000_000)
        #expect(ScheduleParser.slot(ofFiring: utf8(text), schedule: "other") == nil)
        #expect(ScheduleParser.slot(ofFiring: utf8(head + "---\nx\n"), schedule: "tick") == nil)
    }

    @Test(
        "firing numbers",
        arguments: [
            ("tick-1", "tick", 1), ("tick-42", "tick", 42), ("a-1-3", "a-1", 3), ("a-1-3", "a", nil),
            ("tick-0", "tick", nil), ("tick-01", "tick", nil), ("tick-", "tick", nil), ("tick", "tick", nil),
            ("tock-1", "tick", nil), ("tick-1x", "tick", nil), ("tick-9999999999999", "tick", nil),
        ] as [(String, String, Int?)])
    func firingNumbers(_ id: String, _ schedule: String, _ number: Int?) {
        #expect(ScheduleParser.firingNumber(of: id, schedule: schedule) == number)
    }

    @Test("a name of 48 characters still makes ids within the 64-character limit")
    func longestName() throws {
        let name = String(repeating: "a", count: 48)
        #expect(ScheduleParser.nameProblem(name) == nil)
        #expect(AgentID.problem(with: ScheduleParser.firingID(name, number: 999_999_999_999)) == nil)
    }
}
