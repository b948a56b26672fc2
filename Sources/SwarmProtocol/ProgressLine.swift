/// One line of an agent's progress.md:
/// `<ISO-8601 UTC time> [outputs=<n>] [tokens=<n>] [cost=<usd>] <status>`.
///
/// `outputs` counts what the agent has produced so far; the runtime watches it move to tell
/// a working agent from a spinning one. `tokens` and `cost` are the agent's usage so far
/// (cumulative), checked against its budget. All three are optional.
public struct ProgressLine: Sendable, Equatable {
    /// The longest status kept, in characters.
    public static let maxStatusLength = 500

    /// When the line was written, in milliseconds since the epoch.
    public var timeMilliseconds: Int64
    /// The outputs count, or nil when the line has none.
    public var outputs: Int?
    /// The one-line status.
    public var status: String
    /// Tokens used so far, when reported.
    public var tokens: Int64?
    /// Cost so far in US dollars, when reported.
    public var cost: Double?

    /// Makes a line; the status is cleaned up when formatted.
    public init(
        timeMilliseconds: Int64, outputs: Int? = nil, status: String, tokens: Int64? = nil, cost: Double? = nil
    ) {
        self.timeMilliseconds = timeMilliseconds
        self.outputs = outputs
        self.status = status
        self.tokens = tokens
        self.cost = cost
    }

    /// `<iso> outputs=<n> <status>\n` (without `outputs=` when nil). The status has control
    /// characters and line breaks turned into spaces, is trimmed, and is cut to 500
    /// characters, so the result is always exactly one line.
    public func formatted() -> String {
        var line = Timestamp.iso8601(milliseconds: timeMilliseconds)
        if let outputs { line += " outputs=\(outputs)" }
        if let tokens { line += " tokens=\(tokens)" }
        if let cost { line += " cost=\(cost)" }
        let status = ProgressLine.clean(status)
        if !status.isEmpty { line += " " + status }
        return line + "\n"
    }

    /// Reads one line (a trailing newline is ignored). The time must be a timestamp
    /// `Timestamp.parse` accepts; `outputs=N`, `tokens=N` and `cost=USD` are optional, in any
    /// order; the rest is the status. A line
    /// without a valid leading time gives nil.
    public static func parse(_ line: String) -> ProgressLine? {
        var rest = Substring(line)
        while let last = rest.last, last == "\n" || last == "\r" { rest = rest.dropLast() }
        let timeEnd = rest.firstIndex(where: \.isWhitespace) ?? rest.endIndex
        guard let time = Timestamp.parse(String(rest[..<timeEnd])) else { return nil }
        rest = rest[timeEnd...].drop(while: \.isWhitespace)
        var outputs: Int?
        var tokens: Int64?
        var cost: Double?
        while true {
            let wordEnd = rest.firstIndex(where: \.isWhitespace) ?? rest.endIndex
            let word = rest[..<wordEnd]
            guard let equals = word.firstIndex(of: "=") else { break }
            let value = String(word[word.index(after: equals)...])
            switch word[..<equals] {
            case "outputs" where outputs == nil && value.isDigits && Int(value) != nil:
                outputs = Int(value)
            case "tokens" where tokens == nil && value.isDigits && Int64(value) != nil:
                tokens = Int64(value)
            case "cost" where cost == nil && (Double(value).map { $0.isFinite && $0 >= 0 } ?? false):
                cost = Double(value)
            default:
                return ProgressLine(
                    timeMilliseconds: time, outputs: outputs, status: clean(rest), tokens: tokens, cost: cost)
            }
            rest = rest[wordEnd...].drop(while: \.isWhitespace)
        }
        return ProgressLine(timeMilliseconds: time, outputs: outputs, status: clean(rest), tokens: tokens, cost: cost)
    }

    /// Control characters to spaces, trimmed, at most `maxStatusLength` characters.
    static func clean(_ status: some StringProtocol) -> String {
        var text = ""
        for character in status {
            let isControl = character.unicodeScalars.contains {
                $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}"
            }
            text.append(isControl ? " " : character)
        }
        return String(text.trimmed.prefix(maxStatusLength))
    }
}
