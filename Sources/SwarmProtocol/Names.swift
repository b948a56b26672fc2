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

/// File names that are not valid UTF-8 (a Latin-1 name from an old tool or a zip file), which
/// the runtime renames before it takes the file in.
public enum RepairedName {
    /// The longest repaired name, in bytes (a file name may have 255).
    public static let maxLength = 200

    /// `raw` as UTF-8 text: its valid characters as they are, each other byte as `%XX` (its
    /// hex value), so `caf\xE9.md` becomes `caf%E9.md`. A name that grows past `maxLength`
    /// bytes that way is cut before its extension.
    public static func of(_ raw: [UInt8]) -> String {
        let units = escaped(raw)
        let whole = units.joined()
        guard whole.utf8.count > maxLength else { return whole }
        // keep a short extension (at most 16 bytes, valid text) and as many whole units
        // (characters or escapes) before it as fit
        var suffixUnits = 0
        if let dot = units.lastIndex(of: "."), units[dot...].joined().utf8.count <= 16 {
            suffixUnits = units.count - dot
        }
        let suffix = units.suffix(suffixUnits).joined()
        var stem = ""
        for unit in units.dropLast(suffixUnits) {
            guard stem.utf8.count + unit.utf8.count + suffix.utf8.count <= maxLength else { break }
            stem += unit
        }
        return stem + suffix
    }

    /// `raw` cut into units: each valid character, and `%XX` for each other byte.
    private static func escaped(_ raw: [UInt8]) -> [String] {
        var units: [String] = []
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            let length =
                switch byte {
                case 0x00...0x7F: 1
                case 0xC2...0xDF: 2
                case 0xE0...0xEF: 3
                case 0xF0...0xF4: 4
                default: 0
                }
            if length > 0, index + length <= raw.count,
                let character = String(validating: raw[index..<index + length], as: UTF8.self)
            {
                units.append(character)
                index += length
            } else {
                units.append("%" + TextDecoding.hex(byte))
                index += 1
            }
        }
        return units
    }

    /// The `attempt`th name to try for `name` when earlier ones were taken: `name` itself
    /// first, then `caf%E9-2.md`, `caf%E9-3.md`, ... (the number before the extension).
    public static func candidate(_ name: String, attempt: Int) -> String {
        guard attempt > 1 else { return name }
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name + "-\(attempt)" }
        return String(name[..<dot]) + "-\(attempt)" + String(name[dot...])
    }
}
