/// A text file that may start with front matter: a `---` line, `key: value` lines, a closing
/// `---` line, then the body.
///
/// Inside the front matter, blank lines and lines starting with `#` are ignored, and a `#`
/// that follows whitespace outside single or double quotes starts a comment that runs to the
/// end of the line. Keys are letters, digits, `.`, `-` and `_`. A line without `:`, an empty
/// or malformed key, a repeated key (unless it is one of `listKeys`) and a missing closing
/// `---` are errors naming the line. A file whose first line is not `---` has no front matter:
/// all of it is the body.
public struct FrontMatter: Sendable, Equatable {
    /// One `key: value` line.
    public struct Field: Sendable, Equatable {
        /// The key, as written.
        public var key: String
        /// The value, trimmed, without a trailing comment.
        public var value: String
        /// The 1-based line of the field in the file.
        public var line: Int

        /// Makes a field.
        public init(key: String, value: String, line: Int) {
            self.key = key
            self.value = value
            self.line = line
        }
    }

    /// The fields in file order.
    public var fields: [Field]
    /// The text after the closing `---` (or the whole text without front matter), with LF
    /// line ends.
    public var body: String
    /// The 1-based line of the file where the body starts.
    public var bodyStartLine: Int
    /// True when the file starts with a `---` line.
    public var hasFrontMatter: Bool

    /// Makes a front matter value from its parts.
    public init(fields: [Field], body: String, bodyStartLine: Int, hasFrontMatter: Bool) {
        self.fields = fields
        self.body = body
        self.bodyStartLine = bodyStartLine
        self.hasFrontMatter = hasFrontMatter
    }

    /// Decodes `bytes` with `TextDecoding` and splits them into fields and body. Keys in
    /// `listKeys` may repeat; every other key may appear once.
    public static func parse(_ bytes: [UInt8], listKeys: Set<String> = []) throws(ProtocolError)
        -> FrontMatter
    {
        let text = try TextDecoding.decode(bytes)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first, isFence(first) else {
            return FrontMatter(fields: [], body: text, bodyStartLine: 1, hasFrontMatter: false)
        }
        var fields: [Field] = []
        var firstLine: [String: Int] = [:]
        for (offset, rawLine) in lines.enumerated().dropFirst() {
            let lineNumber = offset + 1
            if isFence(rawLine) {
                let body = lines[(offset + 1)...].joined(separator: "\n")
                return FrontMatter(
                    fields: fields, body: body, bodyStartLine: lineNumber + 1, hasFrontMatter: true)
            }
            guard let field = try parseLine(rawLine, lineNumber: lineNumber) else { continue }
            if let earlier = firstLine[field.key], !listKeys.contains(field.key) {
                throw ProtocolError(
                    line: lineNumber, "key \(Quote.show(field.key)) appears twice (first at line \(earlier))",
                    hint: "keep one of the two lines")
            }
            firstLine[field.key] = firstLine[field.key] ?? lineNumber
            fields.append(field)
        }
        throw ProtocolError(
            line: 1, "the front matter that starts here is never closed",
            hint: "add a line with just --- after the last key: value line")
    }

    /// The value of the last field named `key`, or nil.
    public func value(_ key: String) -> String? {
        fields.last { $0.key == key }?.value
    }

    /// The values of every field named `key`, in file order (not split on commas).
    public func values(_ key: String) -> [String] {
        fields.filter { $0.key == key }.map(\.value)
    }

    /// The field named `key` (the last one if repeated), with its line.
    public func field(_ key: String) -> Field? {
        fields.last { $0.key == key }
    }

    // MARK: Lines

    /// A `---` line (trailing whitespace allowed).
    static func isFence(_ line: Substring) -> Bool {
        line.hasPrefix("---") && line.dropFirst(3).allSatisfy(\.isWhitespace)
    }

    /// The field on one front matter line, or nil for a blank or comment line.
    private static func parseLine(_ line: Substring, lineNumber: Int) throws(ProtocolError) -> Field? {
        let content = line.trimmed
        if content.isEmpty || content.hasPrefix("#") { return nil }
        guard let colon = content.firstIndex(of: ":") else {
            throw ProtocolError(
                line: lineNumber, "\(Quote.show(content, limit: 40)) is not a key: value line",
                hint: "write key: value, or close the front matter with a --- line before the text")
        }
        let key = content[..<colon].trimmed
        if key.isEmpty {
            throw ProtocolError(line: lineNumber, "the key before ':' is empty", hint: "write key: value")
        }
        if let problem = keyProblem(key) {
            throw ProtocolError(
                line: lineNumber, "\(Quote.show(key, limit: 40)) is not a valid key: \(problem)",
                hint:
                    "keys are letters, digits, '.', '-' and '_'; close the front matter with --- before the text"
            )
        }
        let value = stripComment(content[content.index(after: colon)...]).trimmed
        return Field(key: key, value: value, line: lineNumber)
    }

    /// Why `key` is not a valid key, or nil.
    static func keyProblem(_ key: String) -> String? {
        for character in key {
            let allowed =
                character.isASCII
                && (character.isLetter || character.isNumber || character == "." || character == "-"
                    || character == "_")
            if !allowed {
                return character.isWhitespace
                    ? "it contains a space" : "it contains \(Quote.show(String(character)))"
            }
        }
        return nil
    }

    /// The text before a `#` that follows whitespace outside quotes. A quote character
    /// without a partner later on the line (an apostrophe in prose) is an ordinary character.
    static func stripComment(_ text: Substring) -> Substring {
        var quote: Character?
        var previous: Character = " "
        for index in text.indices {
            let character = text[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'",
                text[text.index(after: index)...].contains(character)
            {
                quote = character
            } else if character == "#", previous.isWhitespace {
                return text[..<index]
            }
            previous = character
        }
        return text
    }
}
