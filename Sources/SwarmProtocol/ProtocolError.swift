/// What is wrong with a file the protocol reads: where (a 1-based line, when known), what,
/// and what to do about it.
///
/// `description` reads `line 3: <message>; <hint>`, the shape the CLI prints and the runtime
/// writes into `.error` files next to rejected tasks.
public struct ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The 1-based line the problem is on, or nil when it concerns the whole file.
    public var line: Int?
    /// What is wrong, as one sentence without a trailing period.
    public var message: String
    /// What to do about it, when there is something useful to say.
    public var hint: String?

    /// Makes an error; `message` says what is wrong, `hint` what to do.
    public init(line: Int? = nil, _ message: String, hint: String? = nil) {
        self.line = line
        self.message = message
        self.hint = hint
    }

    /// `line 3: <message>; <hint>`, leaving out the parts that are nil.
    public var description: String {
        var text = ""
        if let line { text = "line \(line): " }
        text += message
        if let hint, !hint.isEmpty { text += "; " + hint }
        return text
    }
}

/// "Did you mean" suggestions for misspelt keys and names.
enum Suggestion {
    /// The candidate closest to `word` (case-insensitive edit distance of at most 2, or at most
    /// a third of the word's length for short words), or nil when none is close.
    static func closest(to word: String, among candidates: some Sequence<String>) -> String? {
        let target = Array(word.lowercased().unicodeScalars)
        let limit = max(1, min(2, target.count / 3))
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(target, Array(candidate.lowercased().unicodeScalars))
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    /// `did you mean "x"?` when a candidate is close, else `known keys: a, b, c`.
    static func phrase(for word: String, among candidates: [String], noun: String = "keys") -> String {
        if let near = closest(to: word, among: candidates) {
            return "did you mean \"\(near)\"?"
        }
        return "known \(noun): " + candidates.joined(separator: ", ")
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousRow = [Int](repeating: 0, count: b.count + 1)
        var row = Array(0...b.count)
        for i in 1...a.count {
            let beforePrevious = previousRow
            previousRow = row
            row = [Int](repeating: 0, count: b.count + 1)
            row[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                row[j] = min(previousRow[j] + 1, row[j - 1] + 1, previousRow[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    row[j] = min(row[j], beforePrevious[j - 2] + 1)
                }
            }
        }
        return row[b.count]
    }
}

/// Quoting of user text inside messages.
enum Quote {
    /// `"text"`, cut to `limit` characters with `...`, control characters shown as `?`, so a
    /// hostile value cannot make an error message huge or multi-line.
    static func show(_ text: some StringProtocol, limit: Int = 80) -> String {
        var out = ""
        var count = 0
        for character in text {
            if count == limit {
                out += "..."
                break
            }
            let isControl = character.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
            out.append(isControl ? "?" : character)
            count += 1
        }
        return "\"" + out + "\""
    }
}
