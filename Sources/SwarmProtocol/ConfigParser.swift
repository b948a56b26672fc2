/// Reads `swarm/swarm.json` and reports every problem at once, so `swarm check` can list them
/// all and the daemon can start with the defaults for whatever is wrong.
public enum ConfigParser {
    /// The keys swarm.json may have.
    public static let knownKeys = [
        "maxSlots", "reserve", "maxDepth", "heartbeat", "investigateAfter", "killAfter", "orphanAfter",
        "spinAfter", "loopAfter", "killGrace", "alertCommand", "roleSlots", "upstreams", "confinement",
        "breakerFailures", "breakerOpenFor", "breakerMaxOpenFor", "launcher", "slurm", "logHead", "logTail",
        "reads", "network", "statusPoll",
    ]
    /// The keys the `slurm` object may have.
    public static let slurmKeys = ["arguments"]
    /// The keys each entry of `upstreams` may have.
    /// The largest value a count (slots, beats, failures) may take.
    public static let largestCount = 1_000_000
    /// The largest size (`logHead`, `logTail`) swarm.json may give: 1TB.
    public static let largestSize: Int64 = 1 << 40
    /// The smallest `logTail`: the runtime reads the last 64 KiB of stdout.log and stderr.log
    /// to tell why an agent failed, so a cap must never cut into those.
    public static let smallestLogTail: Int64 = 64 << 10

    public static let upstreamKeys = [
        "name", "env", "unset", "command", "concurrency", "domain", "context", "statusPage",
        "statusComponents",
        "resumeAfterLimit",
    ]
    /// The longest status page URL accepted.
    public static let longestURL = 2048

    /// The configuration and every problem found, each with its line. Unknown keys (with a
    /// "did you mean"), values of the wrong type or range, `reserve >= maxSlots`,
    /// `killAfter <= investigateAfter`, and duplicate or missing upstream names are problems;
    /// a bad value keeps its default (reserve drops below maxSlots, killAfter rises above
    /// investigateAfter, a duplicate upstream is left out). Unreadable JSON is one problem
    /// and the standard configuration.
    public static func parse(_ bytes: [UInt8]) -> (config: SwarmConfig, problems: [ConfigProblem]) {
        let value: JSONValue
        let lines: [String: Int]
        do {
            (value, lines) = try JSON.parseWithLines(bytes)
        } catch {
            return (
                .standard,
                [
                    ConfigProblem(
                        line: error.line, message: error.message + (error.hint.map { "; " + $0 } ?? ""))
                ]
            )
        }
        guard let object = value.objectValue else {
            return (
                .standard,
                [
                    ConfigProblem(
                        line: lines[""], message: "swarm.json must hold a JSON object, not \(value.typeName)")
                ]
            )
        }
        var reader = ConfigReader(lines: lines)
        return (reader.read(object), reader.problems)
    }
}

/// Collects problems while reading one configuration.
private struct ConfigReader {
    let lines: [String: Int]
    var problems: [ConfigProblem] = []

    init(lines: [String: Int]) { self.lines = lines }

    mutating func read(_ object: JSONObject) -> SwarmConfig {
        var config = SwarmConfig()
        for key in object.keys where !ConfigParser.knownKeys.contains(key) {
            report(
                key,
                "unknown key \(Quote.show(key)); "
                    + Suggestion.phrase(for: key, among: ConfigParser.knownKeys))
        }
        func count(_ key: String, minimum: Int, into target: inout Int) {
            guard let value = object[key], let number = integer(value, key: key, minimum: minimum) else {
                return
            }
            if number > ConfigParser.largestCount {
                report(
                    key, "\(key) is \(number); counts above \(ConfigParser.largestCount) make no sense here")
                return
            }
            target = number
        }
        count("maxSlots", minimum: 1, into: &config.maxSlots)
        count("reserve", minimum: 0, into: &config.reserve)
        count("maxDepth", minimum: 1, into: &config.maxDepth)
        count("investigateAfter", minimum: 1, into: &config.investigateAfter)
        count("killAfter", minimum: 1, into: &config.killAfter)
        count("orphanAfter", minimum: 1, into: &config.orphanAfter)
        count("spinAfter", minimum: 1, into: &config.spinAfter)
        count("loopAfter", minimum: 1, into: &config.loopAfter)
        if let value = object["heartbeat"], let duration = duration(value, key: "heartbeat", minimum: 1) {
            config.heartbeatMilliseconds = duration
        }
        if let value = object["killGrace"], let duration = duration(value, key: "killGrace", minimum: 0) {
            config.killGraceMilliseconds = duration
        }
        if let value = object["statusPoll"], let duration = duration(value, key: "statusPoll", minimum: 1) {
            config.statusPollMilliseconds = duration
        }
        if let value = object["alertCommand"] {
            switch value {
            case .null: config.alertCommand = nil
            case .string(let command): config.alertCommand = command.trimmed.isEmpty ? nil : command
            default:
                report(
                    "alertCommand",
                    "alertCommand must be a string (a shell command) or null, not \(value.typeName)")
            }
        }
        if let value = object["roleSlots"] { config.roleSlots = roleSlots(value) }
        if let value = object["upstreams"] { config.upstreams = upstreams(value) }
        count("breakerFailures", minimum: 1, into: &config.breakerFailures)
        if let value = object["breakerOpenFor"],
            let duration = duration(value, key: "breakerOpenFor", minimum: 1)
        {
            config.breakerOpenForMilliseconds = duration
        }
        if let value = object["breakerMaxOpenFor"],
            let duration = duration(value, key: "breakerMaxOpenFor", minimum: 1)
        {
            config.breakerMaxOpenForMilliseconds = duration
        }
        if config.breakerMaxOpenForMilliseconds < config.breakerOpenForMilliseconds {
            report("breakerMaxOpenFor", "breakerMaxOpenFor must not be shorter than breakerOpenFor")
            config.breakerMaxOpenForMilliseconds = config.breakerOpenForMilliseconds
        }
        choice(object, "confinement", into: &config.confinement)
        choice(object, "launcher", into: &config.launcher)
        if let value = object["slurm"] { config.slurmArguments = slurmArguments(value) }
        if let value = object["logHead"], let bytes = size(value, key: "logHead", minimum: 0) {
            config.logHeadBytes = bytes
        }
        if let value = object["logTail"],
            let bytes = size(
                value, key: "logTail", minimum: ConfigParser.smallestLogTail,
                why: "; the runtime reads the last 64KB of a log to tell why an agent failed")
        {
            config.logTailBytes = bytes
        }

        if let value = object["reads"] {
            if let text = value.stringValue, let rule = ReadRule.parse(text) {
                config.reads = rule
            } else {
                report(
                    "reads",
                    "reads must be \"all\", \"system\" or \"system, PATH, ...\", not \(describe(value))")
            }
        }
        if let value = object["network"] {
            if let text = value.stringValue, let rule = NetworkRule.parse(text) {
                config.network = rule
            } else {
                report(
                    "network",
                    "network must be \"any\", \"none\" or TCP ports such as \"443, 8080\", not \(describe(value))"
                )
            }
        }

        if config.reserve >= config.maxSlots {
            let key = object["reserve"] != nil ? "reserve" : "maxSlots"
            report(
                key,
                "reserve (\(config.reserve)) must be less than maxSlots (\(config.maxSlots)), or normal work never runs; lower reserve or raise maxSlots"
            )
            config.reserve = max(0, min(SwarmConfig.standard.reserve, config.maxSlots - 1))
        }
        if config.killAfter <= config.investigateAfter {
            let key = object["killAfter"] != nil ? "killAfter" : "investigateAfter"
            report(
                key,
                "killAfter (\(config.killAfter)) must be greater than investigateAfter (\(config.investigateAfter)), so an alert comes before the kill"
            )
            config.killAfter = config.investigateAfter + 1
        }
        return config
    }

    // MARK: Values

    private mutating func integer(_ value: JSONValue, key: String, minimum: Int) -> Int? {
        guard let number = value.intValue, let result = Int(exactly: number) else {
            let quoted = value.stringValue.map { Int($0) != nil } == true ? " (remove the quotes)" : ""
            report(key, "\(key) must be a whole number, not \(describe(value))\(quoted)")
            return nil
        }
        guard result >= minimum else {
            report(key, "\(key) must be \(minimum) or more, not \(result)")
            return nil
        }
        return result
    }

    private mutating func duration(_ value: JSONValue, key: String, minimum: Int64) -> Int64? {
        guard let text = value.stringValue, let milliseconds = DurationText.parse(text) else {
            report(
                key,
                "\(key) must be a duration such as \"250ms\", \"30s\", \"15m\" or \"2h\", not \(describe(value))"
            )
            return nil
        }
        guard milliseconds >= minimum else {
            report(key, "\(key) must be longer than 0")
            return nil
        }
        return milliseconds
    }

    /// A size: a whole number of bytes, or a string such as "512KB", "16MB", "1GB" or "4096".
    private mutating func size(_ value: JSONValue, key: String, minimum: Int64, why: String = "") -> Int64? {
        let parsed: Int64?
        if let number = value.intValue {
            parsed = Int64(exactly: number)
        } else if let text = value.stringValue {
            parsed = SizeText.parse(text)
        } else {
            parsed = nil
        }
        guard let bytes = parsed else {
            report(
                key,
                "\(key) must be a size such as \"512KB\", \"16MB\", \"1GB\" or a number of bytes, not \(describe(value))"
            )
            return nil
        }
        guard bytes >= minimum else {
            let least = minimum == 0 ? "0 or more" : "at least " + SizeText.format(minimum)
            report(key, "\(key) must be \(least), not \(SizeText.format(bytes))\(why)")
            return nil
        }
        guard bytes <= ConfigParser.largestSize else {
            report(
                key,
                "\(key) is \(SizeText.format(bytes)); sizes above \(SizeText.format(ConfigParser.largestSize)) make no sense here"
            )
            return nil
        }
        return bytes
    }

    private mutating func roleSlots(_ value: JSONValue) -> [String: Int] {
        guard let object = value.objectValue else {
            report("roleSlots", "roleSlots must be an object such as {\"worker\": 4}, not \(value.typeName)")
            return [:]
        }
        var caps: [String: Int] = [:]
        for (role, cap) in object.entries {
            let path = "roleSlots." + role
            if let problem = ResourceName.problem(with: role, what: "role") {
                report(path, problem)
            } else if let number = integer(cap, key: path, minimum: 0) {
                caps[role] = number
            }
        }
        return caps
    }

    /// Sets `target` from `key` when it names one of `T`'s values; anything else is a problem
    /// that lists them.
    private mutating func choice<T: RawRepresentable & CaseIterable>(
        _ object: JSONObject, _ key: String, into target: inout T
    ) where T.RawValue == String {
        guard let value = object[key] else { return }
        if let text = value.stringValue, let chosen = T(rawValue: text) {
            target = chosen
            return
        }
        let names = T.allCases.map { "\"\($0.rawValue)\"" }
        let list = names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
        report(key, "\(key) must be \(list), not \(describe(value))")
    }

    private mutating func slurmArguments(_ value: JSONValue) -> [String] {
        guard let object = value.objectValue else {
            report(
                "slurm",
                "slurm must be an object such as {\"arguments\": [\"--partition=batch\"]}, not \(value.typeName)"
            )
            return []
        }
        for key in object.keys where !ConfigParser.slurmKeys.contains(key) {
            report(
                "slurm." + key,
                "unknown key \(Quote.show(key)) in slurm; "
                    + Suggestion.phrase(for: key, among: ConfigParser.slurmKeys))
        }
        guard let list = object["arguments"] else { return [] }
        guard let elements = list.arrayValue,
            let words = Optional(elements.compactMap(\.stringValue)), words.count == elements.count
        else {
            report(
                "slurm.arguments",
                "slurm.arguments must be an array of strings such as [\"--time=60\"], not \(describe(list))")
            return []
        }
        for word in words where !word.hasPrefix("-") {
            report(
                "slurm.arguments",
                "slurm.arguments holds \(Quote.show(word)), which is not an option; write each as --name=value"
            )
            return []
        }
        return words
    }

    private mutating func upstreams(_ value: JSONValue) -> [Upstream] {
        guard let elements = value.arrayValue else {
            report(
                "upstreams",
                "upstreams must be an array of objects such as {\"name\": \"primary\", \"env\": {}}, not \(value.typeName)"
            )
            return []
        }
        var result: [Upstream] = []
        for (position, element) in elements.enumerated() {
            let path = "upstreams[\(position)]"
            guard let object = element.objectValue else {
                report(path, "\(path) must be an object with at least \"name\", not \(element.typeName)")
                continue
            }
            guard let upstream = upstream(object, path: path) else { continue }
            if result.contains(where: { $0.name == upstream.name }) {
                report(
                    path + ".name",
                    "the upstream name \(Quote.show(upstream.name)) is used twice; names must be unique (this entry is ignored)"
                )
                continue
            }
            result.append(upstream)
        }
        return result
    }

    private mutating func upstream(_ object: JSONObject, path: String) -> Upstream? {
        for key in object.keys where !ConfigParser.upstreamKeys.contains(key) {
            report(
                "\(path).\(key)",
                "unknown key \(Quote.show(key)) in \(path); "
                    + Suggestion.phrase(for: key, among: ConfigParser.upstreamKeys))
        }
        guard let name = object["name"]?.stringValue else {
            report(
                object["name"] == nil ? path : path + ".name",
                "\(path) needs a \"name\" string (this entry is ignored)")
            return nil
        }
        if let problem = ResourceName.problem(with: name, what: "upstream") {
            report(path + ".name", problem + " (this entry is ignored)")
            return nil
        }
        var upstream = Upstream(name: name)
        if let env = object["env"] {
            if let variables = env.objectValue {
                for (variable, setting) in variables.entries {
                    let variablePath = "\(path).env.\(variable)"
                    if !isEnvironmentName(variable) {
                        report(
                            variablePath,
                            "\(Quote.show(variable)) is not an environment variable name (letters, digits, _; not starting with a digit)"
                        )
                    } else if let text = setting.stringValue {
                        upstream.env[variable] = text
                    } else {
                        report(
                            variablePath,
                            "\(path).env.\(variable) must be a string, not \(setting.typeName); quote it")
                    }
                }
            } else {
                report(path + ".env", "\(path).env must be an object of strings, not \(env.typeName)")
            }
        }
        if let unset = object["unset"] {
            let names = unset.arrayValue?.compactMap(\.stringValue) ?? []
            if unset.arrayValue?.count != names.count || unset.arrayValue == nil {
                report(path + ".unset", "\(path).unset must be an array of variable names (strings)")
            } else {
                upstream.unset = names
            }
        }
        upstream.command = optionalString(object["command"], path: path + ".command")
        upstream.domain = optionalString(object["domain"], path: path + ".domain")
        if let context = object["context"], !context.isNull {
            upstream.context = integer(context, key: path + ".context", minimum: 1)
        }
        if let concurrency = object["concurrency"], !concurrency.isNull {
            upstream.concurrency = integer(concurrency, key: path + ".concurrency", minimum: 1)
        }
        readStatusPage(object, path: path, into: &upstream)
        if let resume = object["resumeAfterLimit"] {
            if let flag = resume.boolValue {
                upstream.resumeAfterLimit = flag
            } else {
                report(
                    path + ".resumeAfterLimit",
                    "\(path).resumeAfterLimit must be true or false, not \(describe(resume))")
            }
        }
        return upstream
    }

    /// `statusPage` (an http or https URL) and `statusComponents` (names) of one upstream.
    private mutating func readStatusPage(_ object: JSONObject, path: String, into upstream: inout Upstream) {
        if let page = object["statusPage"], !page.isNull {
            if let url = page.stringValue, let problem = Self.urlProblem(url) {
                report(path + ".statusPage", "\(path).statusPage \(problem) (it is not polled)")
            } else if let url = page.stringValue {
                upstream.statusPage = url
            } else {
                report(
                    path + ".statusPage",
                    "\(path).statusPage must be a URL string such as \"https://status.claude.com/api/v2/summary.json\", not \(page.typeName)"
                )
            }
        }
        guard let list = object["statusComponents"], !list.isNull else { return }
        let names = list.arrayValue?.compactMap(\.stringValue) ?? []
        guard let elements = list.arrayValue, names.count == elements.count,
            names.allSatisfy({ !$0.trimmed.isEmpty })
        else {
            report(
                path + ".statusComponents",
                "\(path).statusComponents must be an array of component names as the page gives them, such as [\"Claude API (api.anthropic.com)\", \"Claude Code\"]"
            )
            return
        }
        if upstream.statusPage == nil && object["statusPage"] == nil {
            report(
                path + ".statusComponents", "\(path).statusComponents needs a statusPage to read them from")
        }
        upstream.statusComponents = names.map(\.trimmed)
    }

    /// Why `url` cannot be a status page address, or nil.
    static func urlProblem(_ url: String) -> String? {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), url.count > 8 else {
            return "must start with http:// or https://, not \(Quote.show(url, limit: 40))"
        }
        if url.utf8.count > ConfigParser.longestURL {
            return "is longer than \(ConfigParser.longestURL) bytes"
        }
        if url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            return "holds a space or a control character; percent-encode it"
        }
        return nil
    }

    private mutating func optionalString(_ value: JSONValue?, path: String) -> String? {
        guard let value, !value.isNull else { return nil }
        guard let text = value.stringValue else {
            report(path, "\(path) must be a string or null, not \(value.typeName)")
            return nil
        }
        return text.isEmpty ? nil : text
    }

    private func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.first, !first.isASCIIDigit else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    private func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return Quote.show(text, limit: 40)
        case .integer, .number, .bool: return value.plainText
        default: return value.typeName
        }
    }

    private mutating func report(_ path: String, _ message: String) {
        problems.append(ConfigProblem(line: lines[path], message: message))
    }
}
