/// What a confined agent may read (`reads:` in a task, a template or swarm.json).
public enum ReadRule: Sendable, Equatable {
    /// Everything the user can read (the default).
    case all
    /// The system's program and library folders, the workspace, the agent's own folder, its
    /// workdir and writable paths, and the listed paths; nothing else.
    case system(extra: [String])

    /// The rule as written: `all`, `system`, or `system, PATH, PATH...`.
    public var text: String {
        switch self {
        case .all: "all"
        case .system(let extra): (["system"] + extra).joined(separator: ", ")
        }
    }

    /// Reads `all`, `system`, or `system` followed by paths, separated by commas (`~` and
    /// `~/...` mean the daemon's HOME, other relative paths the workspace root); nil
    /// otherwise, or when a path is given after `all`.
    public static func parse(_ text: String) -> ReadRule? {
        let words = text.split(separator: ",").map(\.trimmed).filter { !$0.isEmpty }
        switch words.first {
        case "all" where words.count == 1: return .all
        case "system": return .system(extra: Array(words.dropFirst()))
        default: return nil
        }
    }

    /// The narrower of two rules: `system` wins over `all`, and of two `system` rules the
    /// paths both list. A task narrows its template this way; it can never widen it.
    public func narrowed(by other: ReadRule?) -> ReadRule {
        switch (self, other) {
        case (_, nil), (_, .all?): return self
        case (.all, let narrower?): return narrower
        case (.system(let mine), .system(let theirs)?): return .system(extra: mine.filter(theirs.contains))
        }
    }

    /// The problem with `text` as a reads rule, for an error message and its hint.
    public static func problem(_ text: String) -> (message: String, hint: String)? {
        guard parse(text) == nil else { return nil }
        return (
            "reads \(Quote.show(text)) is not all or system",
            "write reads: all, reads: system, or reads: system, PATH, PATH to allow more paths"
        )
    }
}

/// Where a confined agent may connect over TCP (`network:` in a task, a template or
/// swarm.json).
public enum NetworkRule: Sendable, Equatable {
    /// Any port (the default).
    case any
    /// No TCP connection at all.
    case none
    /// Only these ports, and the ports of the upstream's URLs in the run's environment.
    case ports([UInt16])

    /// The rule as written: `any`, `none` or the ports joined with commas.
    public var text: String {
        switch self {
        case .any: "any"
        case .none: "none"
        case .ports(let ports): ports.map(String.init).joined(separator: ",")
        }
    }

    /// Reads `any`, `none`, or one or more TCP ports (1-65535) separated by commas or
    /// spaces; nil otherwise.
    public static func parse(_ text: String) -> NetworkRule? {
        let words = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
        switch words {
        case ["any"]: return .any
        case ["none"]: return NetworkRule.none
        case []: return nil
        default:
            var ports: [UInt16] = []
            for word in words {
                guard word.isDigits, let port = UInt16(word), port > 0 else { return nil }
                if !ports.contains(port) { ports.append(port) }
            }
            return .ports(ports)
        }
    }

    /// The narrower of two rules: `none` wins, ports win over `any`, and of two port lists
    /// the ports both name. A task narrows its template this way; it can never widen it.
    public func narrowed(by other: NetworkRule?) -> NetworkRule {
        switch (self, other) {
        case (_, nil), (_, .any?): return self
        case (.none, _), (_, .none?): return NetworkRule.none
        case (.any, let narrower?): return narrower
        case (.ports(let mine), .ports(let theirs)?):
            let both = mine.filter(theirs.contains)
            return both.isEmpty ? NetworkRule.none : .ports(both)
        }
    }

    /// The problem with `text` as a network rule, for an error message and its hint.
    public static func problem(_ text: String) -> (message: String, hint: String)? {
        guard parse(text) == nil else { return nil }
        return (
            "network \(Quote.show(text)) is not any, none or a list of TCP ports",
            "write network: any, network: none, or e.g. network: 443, 8080"
        )
    }
}
