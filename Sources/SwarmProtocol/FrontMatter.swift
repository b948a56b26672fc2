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
        // split on the LF bytes: a line feed is always a character of its own (decoding left
        // no CR before one), and splitting the bytes skips finding every character's bounds
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { Substring($0) }
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
    static func parseLine(_ line: Substring, lineNumber: Int) throws(ProtocolError) -> Field? {
        if let read = asciiField(line, lineNumber: lineNumber) { return read }
        return try parseLineByCharacters(line, lineNumber: lineNumber)
    }

    /// `parseLine` for any line, character by character, with the reason for a line that
    /// does not read.
    static func parseLineByCharacters(_ line: Substring, lineNumber: Int) throws(ProtocolError) -> Field? {
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

    /// `parseLine` for a line of ASCII bytes that reads without a problem, read byte by byte
    /// (every character of such a line is one byte): `.some(nil)` for a blank or comment line.
    /// Nil for any other line, which `parseLine` reads character by character and explains.
    private static func asciiField(_ line: Substring, lineNumber: Int) -> Field?? {
        let read = line.utf8.withContiguousStorageIfAvailable { bytes -> Field?? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            var start = 0
            var end = bytes.count
            while start < end, isSpace(bytes[start]) { start += 1 }
            while end > start, isSpace(bytes[end - 1]) { end -= 1 }
            if start == end || bytes[start] == UInt8(ascii: "#") { return .some(nil) }
            guard let colon = (start..<end).first(where: { bytes[$0] == UInt8(ascii: ":") }) else {
                return nil
            }
            var keyEnd = colon
            while keyEnd > start, isSpace(bytes[keyEnd - 1]) { keyEnd -= 1 }
            guard keyEnd > start, (start..<keyEnd).allSatisfy({ isKeyByte(bytes[$0]) }) else { return nil }
            var valueStart = colon + 1
            var valueEnd = commentStart(bytes, from: valueStart, to: end)
            while valueStart < valueEnd, isSpace(bytes[valueStart]) { valueStart += 1 }
            while valueEnd > valueStart, isSpace(bytes[valueEnd - 1]) { valueEnd -= 1 }
            return .some(
                Field(
                    key: String(
                        decoding: UnsafeBufferPointer(rebasing: bytes[start..<keyEnd]), as: UTF8.self),
                    value: String(
                        decoding: UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd]), as: UTF8.self),
                    line: lineNumber))
        }
        return read ?? nil
    }

    /// `stripComment` over ASCII bytes: where the comment in `bytes[from..<to]` starts (`to`
    /// when there is none).
    private static func commentStart(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int {
        var quote: UInt8?
        var previous = UInt8(ascii: " ")
        var index = from
        while index < to {
            let byte = bytes[index]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'"),
                bytes[(index + 1)..<to].contains(byte)
            {
                quote = byte
            } else if byte == UInt8(ascii: "#"), isSpace(previous) {
                return index
            }
            previous = byte
            index += 1
        }
        return to
    }

    /// The ASCII bytes that are whitespace characters (tab, line feed, vertical tab, form
    /// feed, carriage return, space).
    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    /// The bytes a key may hold: ASCII letters and digits, `.`, `-` and `_`.
    private static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
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
