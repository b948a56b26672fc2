/// How urgent a task is. `urgent` work may use the reserved slots; `background` work waits
/// while every upstream is down. Ordered by `rank`: urgent < normal < background, so sorting
/// ascending puts the work to run first at the front.
public enum Priority: String, Sendable, CaseIterable, Comparable {
    case urgent, normal, background

    /// 0 for urgent, 1 for normal, 2 for background: lower runs first.
    public var rank: Int {
        switch self {
        case .urgent: return 0
        case .normal: return 1
        case .background: return 2
        }
    }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rank < rhs.rank }
}

/// What a template runs: a worker does one task; an orchestrator spawns children and is woken
/// when something concerns them.
public enum AgentKind: String, Sendable, CaseIterable {
    case worker, orchestrator
}

/// Agent ids: `[a-z0-9][a-z0-9-]*`, at most 64 characters. Ids become folder names, so
/// nothing else (no `/`, no `..`, no upper case) is accepted.
public enum AgentID {
    /// The longest id allowed.
    public static let maxLength = 64

    /// Nil when `id` is a valid agent id; otherwise one sentence saying what is wrong.
    public static func problem(with id: String) -> String? {
        if id.isEmpty { return "the id is empty" }
        let shown = Quote.show(id, limit: 70)
        if id.count > maxLength {
            return "the id \(shown) is \(id.count) characters long (the limit is \(maxLength))"
        }
        if id.contains("/") { return "the id \(shown) contains \"/\" (an id is a single folder name)" }
        if id.contains("..") || id.hasPrefix(".") {
            return "the id \(shown) contains \".\" (use only a-z, 0-9 and \"-\")"
        }
        if id.contains(where: { $0.isASCII && $0.isUppercase }) {
            return "the id \(shown) has upper-case letters (use only a-z, 0-9 and \"-\")"
        }
        if let bad = id.first(where: { !isIDCharacter($0) }) {
            return "the id \(shown) contains \(Quote.show(String(bad))) (use only a-z, 0-9 and \"-\")"
        }
        if id.hasPrefix("-") { return "the id \(shown) starts with \"-\" (start it with a letter or digit)" }
        return nil
    }

    /// An id made from a task file name: the extension dropped, ASCII letters lower-cased,
    /// every run of other characters turned into one `-`, leading and trailing `-` trimmed,
    /// cut to `maxLength`. Never empty: a name with nothing usable gives `task`.
    /// `"Fix Login.md"` -> `fix-login`.
    public static func slug(fromFileName name: String) -> String {
        var stem = Substring(name)
        if let dot = stem.lastIndex(of: "."), dot != stem.startIndex { stem = stem[..<dot] }
        var slug = ""
        for character in stem.lowercased() {
            if isIDCharacter(character), character != "-" {
                slug.append(character)
            } else if !slug.isEmpty, slug.last != "-" {
                slug.append("-")
            }
        }
        slug = String(slug.prefix(maxLength))
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? "task" : slug
    }

    /// `base-n` for n >= 2 (the n-th candidate when `base` is taken), with `base` shortened
    /// so the result stays within `maxLength`. For n < 2 it returns `base`.
    public static func numbered(_ base: String, _ n: Int) -> String {
        guard n >= 2 else { return base }
        let suffix = "-\(n)"
        var stem = String(base.prefix(maxLength - suffix.count))
        while stem.hasSuffix("-") { stem.removeLast() }
        return stem + suffix
    }

    private static func isIDCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        return (ascii >= 0x61 && ascii <= 0x7A) || (ascii >= 0x30 && ascii <= 0x39) || ascii == 0x2D
    }
}

/// Names of roles, templates and upstreams: `roles/NAME.md` and `templates/NAME.md` must stay
/// inside their folders.
public enum ResourceName {
    /// Nil when `name` is usable as a role, template or upstream name: 1-64 characters of
    /// ASCII letters, digits, `_`, `-` and `.`, not starting with `.` and without `..`.
    /// Otherwise one sentence saying what is wrong; `what` names the thing (`role`).
    public static func problem(with name: String, what: String) -> String? {
        let shown = Quote.show(name, limit: 70)
        if name.isEmpty { return "the \(what) name is empty" }
        if name.count > AgentID.maxLength {
            return "the \(what) name \(shown) is longer than \(AgentID.maxLength) characters"
        }
        if name.contains("/") || name.contains("..") || name.hasPrefix(".") {
            return "the \(what) name \(shown) is not a plain file name; no \"/\", no leading \".\", no \"..\""
        }
        let allowed = name.allSatisfy { character in
            character.isASCII
                && (character.isLetter || character.isNumber || character == "_" || character == "-"
                    || character == ".")
        }
        if !allowed {
            return
                "the \(what) name \(shown) has characters other than letters, digits, \"_\", \"-\" and \".\""
        }
        return nil
    }
}
