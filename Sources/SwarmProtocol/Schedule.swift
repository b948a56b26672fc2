/// How often a schedule fires: a fixed duration, or a number of the daemon's heartbeats.
public enum SchedulePeriod: Sendable, Equatable, CustomStringConvertible {
    /// `every: 30s`: this many milliseconds.
    case duration(Int64)
    /// `every: 3 heartbeats`: this many times the daemon's heartbeat.
    case heartbeats(Int)

    /// The period in milliseconds, with `heartbeat` the daemon's heartbeat in milliseconds.
    public func milliseconds(heartbeat: Int64) -> Int64 {
        switch self {
        case .duration(let milliseconds): return milliseconds
        case .heartbeats(let count):
            let (product, overflow) = heartbeat.multipliedReportingOverflow(by: Int64(count))
            return overflow ? Int64.max : product
        }
    }

    /// As written in a schedule file: `30s`, `1 heartbeat`, `3 heartbeats`.
    public var description: String {
        switch self {
        case .duration(let milliseconds): return DurationText.format(milliseconds)
        case .heartbeats(let count): return count == 1 ? "1 heartbeat" : "\(count) heartbeats"
        }
    }
}

/// What a schedule does about slots that passed while no daemon watched it.
public enum CatchUp: String, Sendable, CaseIterable {
    /// Wait for the next slot (the default).
    case skip
    /// Fire once, at once, for all of them.
    case once
}

/// One schedule file, `swarm/schedules/NAME.md`: a task with a clock.
public struct ScheduleSpec: Sendable, Equatable {
    /// The file name without `.md`; its firings are the tasks `NAME-1`, `NAME-2`, ...
    public var name: String
    /// `every:`.
    public var period: SchedulePeriod
    /// `when-changed:`: fire only when something under these paths (relative to the workspace
    /// root, or absolute) changed since the last firing. Empty: always fire.
    public var whenChanged: [String]
    /// `catch-up:`.
    public var catchUp: CatchUp
    /// The task each firing submits (without an id: each firing gets `NAME-<n>`).
    public var task: TaskSpec

    /// Makes a schedule.
    public init(
        name: String, period: SchedulePeriod, whenChanged: [String] = [], catchUp: CatchUp = .skip,
        task: TaskSpec
    ) {
        self.name = name
        self.period = period
        self.whenChanged = whenChanged
        self.catchUp = catchUp
        self.task = task
    }
}

/// Reads schedule files and writes the task file of each firing.
///
/// A schedule file is a task file (front matter, then the text) with three more keys:
/// `every:` (required: a duration of at least 100 ms, or `N heartbeats`), `when-changed:`
/// (paths, separated by commas or spaces, or the key repeated) and `catch-up:` (`skip` or
/// `once`). It may not set `id:` (each firing's id is `NAME-<n>`) nor `schedule` or
/// `schedule.*` (the firing's own keys).
public enum ScheduleParser {
    /// The keys a schedule adds to a task file.
    public static let scheduleKeys = ["every", "when-changed", "catch-up"]
    /// The key naming the schedule in each firing's task file.
    public static let scheduleKey = "schedule"
    /// The key holding, in each firing's task file, the slot it fired for (ISO-8601).
    public static let slotKey = "schedule.slot"
    /// The shortest `every:` accepted, in milliseconds.
    public static let minimumPeriod: Int64 = 100
    /// The longest schedule name: `NAME-<n>` must stay a valid id.
    public static let maxNameLength = 48

    /// Nil when `name` (a file name without `.md`) can name a schedule; otherwise what is wrong.
    public static func nameProblem(_ name: String) -> String? {
        if name.count > maxNameLength {
            return
                "the schedule name \(Quote.show(name, limit: 70)) is longer than \(maxNameLength) characters"
        }
        if let problem = AgentID.problem(with: name) {
            return "\(Quote.show(name + ".md", limit: 70)) cannot name a schedule: \(problem)"
        }
        return nil
    }

    /// Parses `swarm/schedules/NAME.md`.
    public static func parse(name: String, bytes: [UInt8]) throws(ProtocolError) -> ScheduleSpec {
        if let problem = nameProblem(name) {
            throw ProtocolError(
                problem, hint: "rename the file to NAME.md with NAME made of a-z, 0-9 and \"-\"")
        }
        let frontMatter = try FrontMatter.parse(bytes, listKeys: TaskParser.listKeys.union(["when-changed"]))
        guard frontMatter.hasFrontMatter else {
            throw ProtocolError(
                line: 1, "the schedule file has no front matter",
                hint: "start it with a --- line, then role:, template: and every:, then --- and the task text"
            )
        }
        for field in frontMatter.fields {
            if field.key == "id" {
                throw ProtocolError(
                    line: field.line, "a schedule may not set id: (each firing is named \(name)-<n>)",
                    hint: "remove the id: line")
            }
            if field.key == scheduleKey || field.key.hasPrefix(scheduleKey + ".") || field.key == "task" {
                throw ProtocolError(
                    line: field.line, "the key \(Quote.show(field.key)) is reserved",
                    hint: "remove it (the runtime sets schedule and schedule.slot in each firing)")
            }
        }
        guard let every = frontMatter.field("every") else {
            throw ProtocolError(
                "the schedule has no every: line", hint: "add e.g. every: 15m, or every: 3 heartbeats")
        }
        let period = try parsePeriod(every)
        var catchUp = CatchUp.skip
        if let field = frontMatter.field("catch-up") {
            guard let value = CatchUp(rawValue: field.value) else {
                throw ProtocolError(
                    line: field.line, "catch-up \(Quote.show(field.value)) is not skip or once",
                    hint: "write catch-up: skip (wait for the next slot) or catch-up: once")
            }
            catchUp = value
        }
        var paths: [String] = []
        for field in frontMatter.fields where field.key == "when-changed" {
            let pieces = field.value.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
            if pieces.isEmpty {
                throw ProtocolError(
                    line: field.line, "when-changed: names no path",
                    hint: "name files or folders relative to the workspace root, or leave the line out")
            }
            paths += pieces.map(String.init)
        }
        let rest = frontMatter.fields.filter { !scheduleKeys.contains($0.key) }
        let task = try TaskParser.build(fields: rest, text: frontMatter.body.trimmed, isJSON: false)
        return ScheduleSpec(name: name, period: period, whenChanged: paths, catchUp: catchUp, task: task)
    }

    /// `every:` as a period: a duration (`30s`) of at least `minimumPeriod`, or `N heartbeats`.
    static func parsePeriod(_ field: FrontMatter.Field) throws(ProtocolError) -> SchedulePeriod {
        let words = field.value.split(separator: " ", omittingEmptySubsequences: true)
        if words.count == 2, words[1] == "heartbeats" || words[1] == "heartbeat" {
            guard String(words[0]).isDigits, let count = Int(words[0]), count >= 1 else {
                throw ProtocolError(
                    line: field.line,
                    "\(Quote.show(String(words[0]))) is not a whole number of heartbeats of 1 or more",
                    hint: "write e.g. every: 3 heartbeats")
            }
            return .heartbeats(count)
        }
        guard let milliseconds = DurationText.parse(field.value) else {
            throw ProtocolError(
                line: field.line,
                "every \(Quote.show(field.value)) is neither a duration nor a number of heartbeats",
                hint: "write e.g. every: 250ms, 30s, 15m, 2h, or every: 3 heartbeats")
        }
        guard milliseconds >= minimumPeriod else {
            throw ProtocolError(
                line: field.line, "every \(Quote.show(field.value)) is shorter than 100ms",
                hint: "write every: 100ms or more")
        }
        return .duration(milliseconds)
    }

    /// The id of firing `number` of schedule `name`.
    public static func firingID(_ name: String, number: Int) -> String { "\(name)-\(number)" }

    /// The firing number of `id` when it is a firing of schedule `name` (`NAME-<n>`, n >= 1
    /// without leading zeros), else nil.
    public static func firingNumber(of id: String, schedule name: String) -> Int? {
        guard id.hasPrefix(name + "-") else { return nil }
        let digits = id.dropFirst(name.count + 1)
        guard String(digits).isDigits, digits.first != "0", digits.count <= 12, let number = Int(digits)
        else {
            return nil
        }
        return number
    }

    /// The task file of firing `number`, fired for the slot starting at `slot` (milliseconds
    /// since the epoch): the schedule's task with `id: NAME-<n>`, `schedule: NAME` and
    /// `schedule.slot: <ISO-8601>`, without the schedule's own keys.
    public static func firing(_ spec: ScheduleSpec, number: Int, slot: Int64) -> String {
        var task = spec.task
        task.id = firingID(spec.name, number: number)
        task.fields.append(FrontMatter.Field(key: scheduleKey, value: spec.name, line: 0))
        task.fields.append(
            FrontMatter.Field(key: slotKey, value: Timestamp.iso8601(milliseconds: slot), line: 0))
        return TaskParser.format(task)
    }

    /// The slot a firing's task file says it fired for, or nil when it names none (it is not a
    /// firing, or not one of a schedule named `name`).
    public static func slot(ofFiring bytes: [UInt8], schedule name: String) -> Int64? {
        guard let frontMatter = try? FrontMatter.parse(bytes, listKeys: TaskParser.listKeys),
            frontMatter.value(scheduleKey) == name, let text = frontMatter.value(slotKey)
        else { return nil }
        return Timestamp.parse(text)
    }
}
