/// The shape of one command's arguments: which flags take no value, which options take one,
/// and how many positional arguments it accepts.
public struct CommandSpec: Sendable {
    public var name: String
    public var summary: String
    public var usage: String
    public var details: String
    public var flags: Set<String>
    public var options: Set<String>
    public var positionals: ClosedRange<Int>
    /// True for commands whose remaining words form one text (e.g. `swarm progress TEXT...`).
    public var joinsText: Bool

    public init(
        _ name: String, _ usage: String, _ summary: String, flags: Set<String> = [],
        options: Set<String> = [], positionals: ClosedRange<Int> = 0...0, joinsText: Bool = false,
        details: String = ""
    ) {
        self.name = name
        self.usage = usage
        self.summary = summary
        self.flags = flags
        self.options = options
        self.positionals = positionals
        self.joinsText = joinsText
        self.details = details
    }
}

/// A command line after parsing.
public struct Invocation: Sendable, Equatable {
    public var command: String
    public var flags: Set<String> = []
    public var options: [String: String] = [:]
    public var positionals: [String] = []
    /// `--root DIR`, accepted before or after the command.
    public var root: String?
    public var wantsHelp = false

    public func has(_ flag: String) -> Bool { flags.contains(flag) }
    public func option(_ name: String) -> String? { options[name] }
}

/// A usage error: exit status 2.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var command: String?
    public init(_ message: String, command: String? = nil) {
        self.message = message
        self.command = command
    }
    public var description: String { message }
}

/// The hand-written argument parser: a pure function from words to an invocation.
public enum ArgumentParser {
    /// Parses `arguments` (without the program name) against `specs`.
    public static func parse(_ arguments: [String], specs: [CommandSpec]) -> Result<Invocation, UsageError> {
        var words = arguments[...]
        var root: String?
        var wantsHelp = false
        while let first = words.first, first.hasPrefix("-") {
            switch first {
            case "--help", "-h":
                wantsHelp = true
                words = words.dropFirst()
            case "--root":
                guard words.count > 1 else { return .failure(UsageError("--root needs a folder")) }
                root = words[words.startIndex + 1]
                words = words.dropFirst(2)
            case let word where word.hasPrefix("--root="):
                root = String(word.dropFirst("--root=".count))
                words = words.dropFirst()
            default:
                return .failure(UsageError("unknown option \(first); see `swarm help`"))
            }
        }
        guard let name = words.first else {
            return .success(Invocation(command: "help", root: root, wantsHelp: wantsHelp))
        }
        guard let spec = specs.first(where: { $0.name == name }) else {
            return .failure(UsageError("unknown command \"\(name)\"; see `swarm help` for the list"))
        }
        var invocation = Invocation(command: name, root: root, wantsHelp: wantsHelp)
        words = words.dropFirst()
        var onlyPositionals = false
        while let word = words.first {
            words = words.dropFirst()
            if onlyPositionals || word == "-" || !word.hasPrefix("-") {
                invocation.positionals.append(word)
                continue
            }
            if word == "--" {
                onlyPositionals = true
                continue
            }
            if word == "--help" || word == "-h" {
                invocation.wantsHelp = true
                continue
            }
            var key = word
            var inlineValue: String?
            if let equals = word.firstIndex(of: "="), word.hasPrefix("--") {
                key = String(word[..<equals])
                inlineValue = String(word[word.index(after: equals)...])
            }
            if key == "--root" {
                guard let value = inlineValue ?? words.first else {
                    return .failure(UsageError("--root needs a folder", command: name))
                }
                if inlineValue == nil { words = words.dropFirst() }
                invocation.root = value
            } else if spec.flags.contains(key) {
                if inlineValue != nil {
                    return .failure(UsageError("\(key) takes no value", command: name))
                }
                invocation.flags.insert(key)
            } else if spec.options.contains(key) {
                guard let value = inlineValue ?? words.first else {
                    return .failure(UsageError("\(key) needs a value", command: name))
                }
                if inlineValue == nil { words = words.dropFirst() }
                invocation.options[key] = value
            } else {
                return .failure(
                    UsageError("unknown option \(key) for `swarm \(name)`; see `swarm \(name) --help`", command: name))
            }
        }
        if invocation.wantsHelp { return .success(invocation) }
        if spec.joinsText && invocation.positionals.count > spec.positionals.upperBound {
            let keep = spec.positionals.upperBound - 1
            let text = invocation.positionals[keep...].joined(separator: " ")
            invocation.positionals = Array(invocation.positionals[..<keep]) + [text]
        }
        let count = invocation.positionals.count
        if !spec.positionals.contains(count) {
            let expected =
                spec.positionals.lowerBound == spec.positionals.upperBound
                ? "\(spec.positionals.lowerBound)"
                : "\(spec.positionals.lowerBound) to \(spec.positionals.upperBound)"
            return .failure(
                UsageError(
                    "`swarm \(name)` takes \(expected) argument\(expected == "1" ? "" : "s"), got \(count); usage: \(spec.usage)",
                    command: name))
        }
        return .success(invocation)
    }
}
