/// One agent type (`templates/NAME.md`): how to run it, what it must deliver, what to do when
/// it fails, and the brief (with `{{placeholders}}`) it is given as task.md.
public struct Template: Sendable, Equatable {
    /// The template's name (the file name without `.md`).
    public var name: String
    /// Worker or orchestrator (default worker).
    public var kind: AgentKind
    /// The command, run as `/bin/sh -c COMMAND`.
    public var command: String
    /// The working directory, or nil for the agent's own folder.
    public var workdir: String?
    /// The default subtree budget for orchestrators.
    public var slots: Int?
    /// The shape results.json must have, or nil for "any JSON object".
    public var contract: ResultContract?
    /// What to do after each kind of failure.
    public var policy: FailurePolicy
    /// Outcome-based acceptance criteria, rendered into the brief.
    public var acceptance: [String]
    /// The upstreams it prefers, best first (`upstreams: local, primary`, or one `upstream:`);
    /// the others follow in swarm.json's order.
    public var upstreams: [String]
    /// The priority of its tasks when a task does not give one (`priority:`).
    public var priority: Priority?
    /// False (`resumeAfterLimit: false`) keeps an upstream parked after a usage limit hit by one
    /// of its agents until a person resets it, instead of resuming at the reset time.
    public var resumeAfterLimit = true
    /// Paths the agent declares it writes (repeatable key `writes`).
    public var writes: [String]
    /// True for `home: private`: the agent gets a HOME of its own.
    public var privateHome: Bool
    /// Where its agents run (`launcher:`); nil follows swarm.json.
    public var launcher: LauncherKind?
    /// How messages from people reach its agents (`messages:`).
    public var messages: MessageDelivery
    /// The command that continues the CLI's recorded session (`resume:`), or nil: every
    /// retry then starts afresh.
    public var resume: String?
    /// What its agents may read when confined (`reads:`); nil follows swarm.json.
    public var reads: ReadRule?
    /// Where its agents may connect when confined (`network:`); nil follows swarm.json.
    public var network: NetworkRule?
    /// The brief, with placeholders not yet rendered.
    public var body: String
    /// The 1-based line of the file where the body starts (for placeholder errors).
    public var bodyStartLine: Int
    /// The front matter fields as written.
    public var fields: [FrontMatter.Field]

    /// Makes a template; everything but name and command has a default.
    public init(
        name: String, kind: AgentKind = .worker, command: String, workdir: String? = nil, slots: Int? = nil,
        contract: ResultContract? = nil, policy: FailurePolicy = .standard, acceptance: [String] = [],
        upstreams: [String] = [], writes: [String] = [], privateHome: Bool = false, body: String = "",
        bodyStartLine: Int = 1, fields: [FrontMatter.Field] = []
    ) {
        self.name = name
        self.kind = kind
        self.command = command
        self.workdir = workdir
        self.slots = slots
        self.contract = contract
        self.policy = policy
        self.acceptance = acceptance
        self.upstreams = upstreams
        self.writes = writes
        self.privateHome = privateHome
        self.messages = .command
        self.resume = nil
        self.body = body
        self.bodyStartLine = bodyStartLine
        self.fields = fields
    }
}

extension Template {
    /// With `messages: hooks`: the keys (`command`, `resume`) whose command does not pass the
    /// hook settings (`$SWARM_HOOK_SETTINGS`) to the CLI, each with what to do.
    public var hookProblems: [(key: String, problem: String)] {
        guard messages == .hooks else { return [] }
        let commands = [("command", command)] + (resume.map { [("resume", $0)] } ?? [])
        return commands.filter { !$0.1.contains("SWARM_HOOK_SETTINGS") }.map { key, _ in
            (
                key,
                "messages: hooks, but \(key) does not pass the hooks to the CLI; add --settings "
                    + "\"$SWARM_HOOK_SETTINGS\" (messages then reach the agent during its runs, not only in its next brief)"
            )
        }
    }
}

/// `upstreams: local, primary`: upstream names in order of preference.
public enum UpstreamPreference {
    /// The names in `text` (comma separated); each must be a valid name and appear once.
    public static func parse(_ text: String, line: Int?) throws(ProtocolError) -> [String] {
        var names: [String] = []
        for piece in text.split(separator: ",") {
            let name = piece.trimmed
            if let problem = ResourceName.problem(with: name, what: "upstream") {
                throw ProtocolError(
                    line: line, problem,
                    hint: "name upstreams of swarm/swarm.json, e.g. upstreams: local, primary")
            }
            if names.contains(name) {
                throw ProtocolError(
                    line: line, "upstream \(Quote.show(name)) is named twice",
                    hint: "name each once, best first")
            }
            names.append(name)
        }
        guard !names.isEmpty else {
            throw ProtocolError(
                line: line, "no upstream named",
                hint: "write e.g. upstreams: local, primary, or leave the key out")
        }
        return names
    }
}

/// How messages from people reach a template's agents.
public enum MessageDelivery: String, Sendable, Equatable {
    /// The agent runs `swarm messages` between steps (its brief says so).
    case command
    /// Claude Code: the runtime gives each run a settings file (`SWARM_HOOK_SETTINGS`, passed
    /// with `--settings`) whose PostToolUse and Stop hooks run `swarm messages --hook`.
    case hooks
}

/// Reads template files.
public enum TemplateParser {
    /// Every key a template may have.
    public static let knownKeys =
        ["kind", "command", "workdir", "slots", "contract"]
        + FailureKind.allCases.map { "on." + $0.rawValue }
        + [
            "backoff", "acceptance", "upstream", "upstreams", "writes", "home", "launcher", "repo", "base",
            "setup", "verify", "messages", "resume", "reads", "network", "priority", "resumeAfterLimit",
        ]
    /// Keys that may repeat.
    public static let listKeys: Set<String> = ["acceptance", "writes"]

    /// Parses `templates/NAME.md`. Unknown keys are errors naming the line (with a
    /// suggestion or the list of known keys); so are a missing or empty `command`, a file
    /// without front matter, and any bad value (kind, slots, contract, `on.*` actions,
    /// backoff, upstream name, home).
    public static func parse(name: String, bytes: [UInt8]) throws(ProtocolError) -> Template {
        let frontMatter = try FrontMatter.parse(bytes, listKeys: listKeys)
        guard frontMatter.hasFrontMatter else {
            throw ProtocolError(
                line: 1, "the template has no front matter",
                hint:
                    "start it with a --- line, then command: COMMAND (and kind: worker), then --- and the brief"
            )
        }
        for field in frontMatter.fields where !knownKeys.contains(field.key) {
            throw ProtocolError(
                line: field.line, "unknown template key \(Quote.show(field.key))",
                hint: Suggestion.phrase(for: field.key, among: knownKeys))
        }
        guard let command = frontMatter.field("command"), !command.value.isEmpty else {
            throw ProtocolError(
                line: frontMatter.field("command")?.line, "the template has no command",
                hint: "add command: COMMAND (run with /bin/sh -c in the agent's folder)")
        }
        var template = Template(
            name: name, command: command.value, body: frontMatter.body,
            bodyStartLine: frontMatter.bodyStartLine,
            fields: frontMatter.fields)
        for field in frontMatter.fields {
            try apply(field, to: &template)
        }
        return template
    }

    private static func apply(_ field: FrontMatter.Field, to template: inout Template) throws(ProtocolError) {
        let value = field.value
        func bad(_ message: String, _ hint: String) -> ProtocolError {
            ProtocolError(line: field.line, message, hint: hint)
        }
        switch field.key {
        case "kind":
            guard let kind = AgentKind(rawValue: value) else {
                throw bad(
                    "kind \(Quote.show(value)) is not worker or orchestrator",
                    "write kind: worker or kind: orchestrator")
            }
            template.kind = kind
        case "workdir":
            template.workdir = value.isEmpty ? nil : value
        case "slots":
            guard value.isDigits, let slots = Int(value) else {
                throw bad(
                    "slots \(Quote.show(value)) is not a whole number of 0 or more", "write e.g. slots: 4")
            }
            template.slots = slots
        case "contract":
            do {
                template.contract = try ResultContract.parse(value)
            } catch {
                throw ProtocolError(line: field.line, error.message, hint: error.hint)
            }
        case "backoff":
            guard let range = FailurePolicy.parseBackoff(value) else {
                throw bad(
                    "backoff \(Quote.show(value)) is not a range BASE..CAP",
                    "write e.g. backoff: 500ms..30s (cap >= base > 0)")
            }
            template.policy.backoffBaseMilliseconds = range.base
            template.policy.backoffCapMilliseconds = range.cap
        case "acceptance":
            if !value.isEmpty { template.acceptance.append(value) }
        case "writes":
            if !value.isEmpty { template.writes.append(value) }
        case "upstream", "upstreams":
            template.upstreams = try UpstreamPreference.parse(value, line: field.line)
        case "priority":
            guard let priority = Priority(rawValue: value) else {
                throw bad(
                    "priority \(Quote.show(value)) is not one of urgent, normal, background",
                    "write priority: background (its tasks then wait while their upstream is degraded), or leave it out"
                )
            }
            template.priority = priority
        case "resumeAfterLimit":
            guard value == "true" || value == "false" else {
                throw bad(
                    "resumeAfterLimit \(Quote.show(value)) is not true or false",
                    "write resumeAfterLimit: false to keep an upstream parked after a usage limit until `swarm upstream reset`"
                )
            }
            template.resumeAfterLimit = value == "true"
        case "launcher":
            guard !value.isEmpty else {
                template.launcher = nil
                return
            }
            guard let kind = LauncherKind(rawValue: value) else {
                throw bad(
                    "launcher \(Quote.show(value)) is not local, slurm or slurm-srun",
                    "write launcher: local, launcher: slurm or launcher: slurm-srun, or leave it out to follow swarm.json"
                )
            }
            template.launcher = kind
        case "messages":
            guard let delivery = MessageDelivery(rawValue: value.isEmpty ? "command" : value) else {
                throw bad(
                    "messages \(Quote.show(value)) is not hooks or command",
                    "write messages: hooks (Claude Code: its hooks deliver them) or messages: command")
            }
            template.messages = delivery
        case "resume":
            template.resume = value.isEmpty ? nil : value
        case "reads":
            if let problem = value.isEmpty ? nil : ReadRule.problem(value) {
                throw bad(problem.message, problem.hint)
            }
            template.reads = ReadRule.parse(value)
        case "network":
            if let problem = value.isEmpty ? nil : NetworkRule.problem(value) {
                throw bad(problem.message, problem.hint)
            }
            template.network = NetworkRule.parse(value)
        case "home":
            switch value {
            case "private": template.privateHome = true
            case "shared", "": template.privateHome = false
            default:
                throw bad(
                    "home \(Quote.show(value)) is not private or shared",
                    "write home: private, or leave it out")
            }
        default:
            guard field.key.hasPrefix("on."), let kind = FailureKind(rawValue: String(field.key.dropFirst(3)))
            else {
                return
            }
            guard let action = FailureAction.parse(value) else {
                throw bad(
                    "\(field.key) \(Quote.show(value)) is not a failure action",
                    "write retry N, dead-letter, skip or fail")
            }
            template.policy.actions[kind] = action
        }
    }
}
