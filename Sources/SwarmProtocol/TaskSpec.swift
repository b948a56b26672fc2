/// One task as a person (or a parent agent) wrote it: the keys the runtime acts on, typed, and
/// every key as given, for placeholders and the agent's brief.
public struct TaskSpec: Sendable, Equatable {
    /// The requested id, or nil to derive one from the file name.
    public var id: String?
    /// The role name (`roles/ROLE.md`).
    public var role: String
    /// The template name (`templates/TEMPLATE.md`).
    public var template: String
    /// How urgent the task is (default normal).
    public var priority: Priority
    /// The subtree budget asked for (orchestrators), or nil for the template's default.
    public var slots: Int?
    /// Files that must exist, relative to the workspace root (never absolute, never `..`).
    public var inputs: [String]
    /// The task itself, in prose, without surrounding blank lines.
    public var text: String
    /// Every key as given, in order, including role and template; JSON values are rendered
    /// as text (nested objects become dotted keys, list-key arrays become repeated fields).
    /// The typed properties above win over these when they disagree.
    public var fields: [FrontMatter.Field]
    /// `budget.tokens`, when given.
    public var tokenBudget: Int64?
    /// `budget.cost`, when given.
    public var costBudget: Double?

    /// Makes a task; everything but role and template has a default.
    public init(
        id: String? = nil, role: String, template: String, priority: Priority = .normal, slots: Int? = nil,
        inputs: [String] = [], text: String = "", fields: [FrontMatter.Field] = [], tokenBudget: Int64? = nil,
        costBudget: Double? = nil
    ) {
        self.id = id
        self.role = role
        self.template = template
        self.priority = priority
        self.slots = slots
        self.inputs = inputs
        self.text = text
        self.fields = fields
        self.tokenBudget = tokenBudget
        self.costBudget = costBudget
    }

    /// The value of `key` as text: the typed property for the keys the runtime knows
    /// (`inputs` joined with `, `), else the last field with that key, else nil.
    public func value(_ key: String) -> String? {
        switch key {
        case "id": return id
        case "role": return role
        case "template": return template
        case "priority": return priority.rawValue
        case "slots": return slots.map(String.init)
        case "inputs": return inputs.isEmpty ? nil : inputs.joined(separator: ", ")
        case "budget.tokens": return tokenBudget.map { String($0) }
        case "budget.cost": return costBudget.map { $0.description }
        default: return fields.last { $0.key == key }?.value
        }
    }

    /// `reads:`, when given (checked at intake): it narrows the template's, never widens it.
    public var reads: ReadRule? {
        value("reads").flatMap(ReadRule.parse)
    }

    /// `network:`, when given (checked at intake): it narrows the template's, never widens it.
    public var network: NetworkRule? {
        value("network").flatMap(NetworkRule.parse)
    }

    /// `upstreams:`, when given (checked at intake against swarm.json): the upstreams it
    /// prefers, best first, over its template's.
    public var upstreams: [String]? {
        value("upstreams").flatMap { try? UpstreamPreference.parse($0, line: nil) }
    }

    /// True when the task gives its priority itself (else its template's `priority:` applies).
    public var givesPriority: Bool { fields.contains { $0.key == "priority" } }

    /// Every key with its text, for `{{key}}` placeholders: the fields (repeated keys joined
    /// with `, `), then the typed properties over them. The task text is not included.
    public var placeholderValues: [String: String] {
        var values: [String: String] = [:]
        for field in fields {
            if let earlier = values[field.key], TaskParser.listKeys.contains(field.key) {
                values[field.key] = earlier + ", " + field.value
            } else {
                values[field.key] = field.value
            }
        }
        for key in TaskParser.knownKeys {
            values[key] = value(key)
        }
        return values
    }
}

/// Reads and writes task files: front matter (`NAME.md`) or a JSON object (`NAME.json`).
public enum TaskParser {
    /// Keys the runtime reads itself; every other key is passed through.
    public static let knownKeys = [
        "id", "role", "template", "priority", "slots", "inputs", "budget.tokens", "budget.cost",
    ]
    /// Keys that may repeat (front matter) or be arrays (JSON).
    public static let listKeys: Set<String> = ["inputs", "acceptance", "writes"]

    /// Parses a task file. `fileName` decides the format: `*.json` is a JSON object whose
    /// `"task"` holds the text (scalars become text, nested objects dotted keys, `"inputs"`
    /// may be an array); anything else is front matter then the text.
    ///
    /// Errors: no front matter, a missing or invalid role or template, a bad priority, slots
    /// that are not a whole number >= 0, an invalid id (`AgentID.problem`), input paths that
    /// are absolute or contain `..`, bad budgets, and everything `FrontMatter` and `JSON`
    /// reject. The size of the file is the caller's business.
    public static func parse(fileName: String, bytes: [UInt8]) throws(ProtocolError) -> TaskSpec {
        if fileName.lowercased().hasSuffix(".json") {
            return try parseJSON(bytes)
        }
        let frontMatter = try FrontMatter.parse(bytes, listKeys: listKeys)
        guard frontMatter.hasFrontMatter else {
            let empty = frontMatter.body.trimmed.isEmpty
            throw ProtocolError(
                line: 1, empty ? "the task file is empty" : "the task file has no front matter",
                hint:
                    "start it with a --- line, then role: NAME and template: NAME, then --- and the task text"
            )
        }
        if let reserved = frontMatter.field("task") {
            throw ProtocolError(
                line: reserved.line, "the key \"task\" is reserved for the task text",
                hint: "put the text after the closing --- line")
        }
        return try build(fields: frontMatter.fields, text: frontMatter.body.trimmed, isJSON: false)
    }

    /// Renders `task` as a front matter task file: the typed keys first (id, role, template,
    /// priority, slots, inputs, budgets), then every other field in order, then the text.
    /// Line breaks inside values become spaces, so each key stays on its line.
    public static func format(_ task: TaskSpec) -> String {
        var lines = ["---"]
        func add(_ key: String, _ value: String) {
            let flat = value.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
            lines.append(flat.isEmpty ? "\(key):" : "\(key): \(flat)")
        }
        if let id = task.id { add("id", id) }
        add("role", task.role)
        add("template", task.template)
        add("priority", task.priority.rawValue)
        if let slots = task.slots { add("slots", String(slots)) }
        for input in task.inputs { add("inputs", input) }
        if let tokens = task.tokenBudget { add("budget.tokens", String(tokens)) }
        if let cost = task.costBudget { add("budget.cost", cost.description) }
        for field in task.fields where !knownKeys.contains(field.key) && field.key != "task" {
            add(field.key, field.value)
        }
        lines.append("---")
        let text = task.text.trimmed
        return lines.joined(separator: "\n") + "\n" + (text.isEmpty ? "" : text + "\n")
    }

    // MARK: JSON tasks

    private static func parseJSON(_ bytes: [UInt8]) throws(ProtocolError) -> TaskSpec {
        let (value, lines) = try JSON.parseWithLines(bytes)
        guard let object = value.objectValue else {
            throw ProtocolError(
                line: lines[""] ?? 1,
                "a JSON task must be an object, not \(value.typeName == "array" ? "an" : "a") \(value.typeName)",
                hint: "write {\"role\": \"worker\", \"template\": \"sim-worker\", \"task\": \"...\"}")
        }
        guard let taskValue = object["task"] else {
            let near =
                Suggestion.closest(to: "task", among: object.keys)
                ?? object.keys.first { ["text", "prompt", "body", "description"].contains($0) }
            throw ProtocolError(
                line: nil, "the JSON task has no \"task\" key",
                hint: near.map { "rename \"\($0)\" to \"task\"" } ?? "put the task text under \"task\"")
        }
        guard let text = taskValue.stringValue else {
            throw ProtocolError(
                line: lines["task"], "\"task\" must be a string, not \(taskValue.typeName)",
                hint: "put the task text in one JSON string (use \\n for line breaks)")
        }
        var fields: [FrontMatter.Field] = []
        for entry in object.entries where entry.key != "task" {
            try flatten(key: entry.key, value: entry.value, lines: lines, into: &fields)
        }
        return try build(fields: fields, text: text.trimmed, isJSON: true)
    }

    private static func flatten(
        key: String, value: JSONValue, lines: [String: Int], into fields: inout [FrontMatter.Field]
    ) throws(ProtocolError) {
        let line = lines[key] ?? 1
        if let problem = FrontMatter.keyProblem(key) {
            throw ProtocolError(
                line: line, "\(Quote.show(key, limit: 40)) is not a valid key: \(problem)",
                hint: "keys are letters, digits, '.', '-' and '_'")
        }
        switch value {
        case .null:
            return
        case .object(let object):
            for entry in object.entries {
                try flatten(key: key + "." + entry.key, value: entry.value, lines: lines, into: &fields)
            }
        case .array(let elements) where listKeys.contains(key):
            for (position, element) in elements.enumerated() {
                let elementLine = lines["\(key)[\(position)]"] ?? line
                if case .array = element {
                    throw ProtocolError(
                        line: elementLine, "\"\(key)\" must be a flat list", hint: "remove the inner brackets"
                    )
                } else if case .object = element {
                    throw ProtocolError(
                        line: elementLine, "\"\(key)\" must be a list of strings, not objects")
                }
                fields.append(FrontMatter.Field(key: key, value: element.plainText, line: elementLine))
            }
        default:
            fields.append(FrontMatter.Field(key: key, value: value.plainText, line: line))
        }
    }

    // MARK: Checking the keys

    /// The task from its fields and text (of a task file, or of a schedule file without its
    /// schedule keys), every key checked.
    static func build(fields: [FrontMatter.Field], text: String, isJSON: Bool) throws(ProtocolError)
        -> TaskSpec
    {
        var seen: [String: Int] = [:]
        for field in fields where !listKeys.contains(field.key) {
            if let first = seen[field.key] {
                throw ProtocolError(
                    line: field.line, "key \(Quote.show(field.key)) appears twice (first at line \(first))",
                    hint: "keep one of them")
            }
            seen[field.key] = field.line
        }
        func field(_ key: String) -> FrontMatter.Field? { fields.last { $0.key == key } }
        func required(_ key: String) throws(ProtocolError) -> String {
            guard let found = field(key), !found.value.isEmpty else {
                let example = isJSON ? "\"\(key)\": \"NAME\"" : "\(key): NAME"
                var hint = "add \(example) (\(key)s/NAME.md must exist)"
                if field(key) == nil, let near = Suggestion.closest(to: key, among: fields.map(\.key)) {
                    hint = "did you mean \"\(key)\" instead of \"\(near)\"?"
                }
                throw ProtocolError(line: field(key)?.line, "the task has no \(key)", hint: hint)
            }
            if let problem = ResourceName.problem(with: found.value, what: key) {
                throw ProtocolError(line: found.line, problem, hint: "name an existing \(key)s/NAME.md")
            }
            return found.value
        }
        var task = TaskSpec(
            role: try required("role"), template: try required("template"), text: text, fields: fields)
        if let found = field("priority") {
            guard let priority = Priority(rawValue: found.value) else {
                throw ProtocolError(
                    line: found.line,
                    "priority \(Quote.show(found.value)) is not one of urgent, normal, background",
                    hint: Suggestion.closest(to: found.value, among: Priority.allCases.map(\.rawValue))
                        .map { "did you mean \"\($0)\"?" } ?? "leave it out for normal")
            }
            task.priority = priority
        }
        if let found = field("slots") {
            guard found.value.isDigits, let slots = Int(found.value) else {
                throw ProtocolError(
                    line: found.line, "slots \(Quote.show(found.value)) is not a whole number of 0 or more",
                    hint: "write e.g. slots: 4")
            }
            task.slots = slots
        }
        if let found = field("id") {
            if let problem = AgentID.problem(with: found.value) {
                throw ProtocolError(
                    line: found.line, problem,
                    hint: "fix it, or leave id out to derive one from the file name")
            }
            task.id = found.value
        }
        for found in fields where found.key == "inputs" {
            for piece in found.value.split(separator: ",") {
                let path = piece.trimmed
                if path.isEmpty { continue }
                if let problem = inputProblem(path) {
                    throw ProtocolError(
                        line: found.line, problem, hint: "name files relative to the workspace root")
                }
                task.inputs.append(path)
            }
        }
        for (key, problem) in [("reads", ReadRule.problem), ("network", NetworkRule.problem)] {
            if let found = field(key), let issue = problem(found.value) {
                throw ProtocolError(line: found.line, issue.message, hint: issue.hint)
            }
        }
        if let found = field("upstreams") { _ = try UpstreamPreference.parse(found.value, line: found.line) }
        if let found = field("budget.tokens") {
            guard found.value.isDigits, let tokens = Int64(found.value) else {
                throw ProtocolError(
                    line: found.line,
                    "budget.tokens \(Quote.show(found.value)) is not a whole number of 0 or more",
                    hint: "write e.g. budget.tokens: 200000")
            }
            task.tokenBudget = tokens
        }
        if let found = field("budget.cost") {
            guard isDecimal(found.value), let cost = Double(found.value), cost.isFinite else {
                throw ProtocolError(
                    line: found.line, "budget.cost \(Quote.show(found.value)) is not an amount of 0 or more",
                    hint: "write e.g. budget.cost: 2.50")
            }
            task.costBudget = cost
        }
        return task
    }

    /// Why `path` is not an acceptable input path, or nil.
    static func inputProblem(_ path: String) -> String? {
        if path.hasPrefix("/") {
            return "input \(Quote.show(path)) is an absolute path"
        }
        if path.split(separator: "/").contains("..") {
            return "input \(Quote.show(path)) leaves the workspace through \"..\""
        }
        return nil
    }

    /// Digits with at most one decimal point and at least one digit.
    private static func isDecimal(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.contains(where: { !$0.isEmpty }) else { return false }
        return parts.allSatisfy { $0.allSatisfy(\.isASCIIDigit) }
    }
}
