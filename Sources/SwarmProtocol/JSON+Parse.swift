/// Reading and writing JSON without Foundation, with line numbers for every error.
public enum JSON {
    /// Parses one JSON document (RFC 8259, strict).
    ///
    /// The input must be UTF-8; a leading byte order mark is skipped. Errors name the line and
    /// the column (in characters, 1-based). Rejected: trailing garbage after the value,
    /// comments, trailing commas, single quotes, leading zeros, `NaN`/`Infinity`, numbers
    /// out of `Double` range, raw control characters in strings, duplicate object keys, and
    /// nesting deeper than `maxDepth` arrays/objects. A `\u` escape of a lone surrogate
    /// (one half of a UTF-16 pair without the other) is an error rather than U+FFFD, so
    /// damaged text is noticed instead of silently changed.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(ProtocolError) -> JSONValue {
        var parser = try JSONParser(bytes: bytes, maxDepth: maxDepth, recordLines: false)
        return try parser.parseDocument()
    }

    /// Parses like `parse(_:maxDepth:)` and also returns the line of every object key and
    /// every array element, keyed by a path: `maxSlots`, `upstreams[0]`, `upstreams[0].name`,
    /// `roleSlots.worker`. The root value itself has the path `""`.
    public static func parseWithLines(
        _ bytes: [UInt8]
    ) throws(ProtocolError) -> (JSONValue, keyLines: [String: Int]) {
        var parser = try JSONParser(bytes: bytes, maxDepth: 64, recordLines: true)
        let value = try parser.parseDocument()
        return (value, parser.keyLines)
    }
}

/// A recursive-descent parser over UTF-8 bytes that tracks line and column.
struct JSONParser {
    private let bytes: [UInt8]
    private let maxDepth: Int
    private let recordLines: Bool
    private var index: Int
    private var line = 1
    private var lineStart: Int
    private var depth = 0
    private var scratch: [UInt8] = []
    private(set) var keyLines: [String: Int] = [:]

    init(bytes: [UInt8], maxDepth: Int, recordLines: Bool) throws(ProtocolError) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.recordLines = recordLines
        index = TextDecoding.hasByteOrderMark(bytes) ? 3 : 0
        lineStart = index
        if let bad = UTF8Check.firstInvalidOffset(in: bytes, from: index) {
            throw ProtocolError(
                line: TextDecoding.lineNumber(in: bytes, at: bad),
                "invalid UTF-8 at byte offset \(bad) (byte 0x\(TextDecoding.hex(bytes[bad])))",
                hint: "JSON files must be UTF-8")
        }
    }

    mutating func parseDocument() throws(ProtocolError) -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else {
            throw ProtocolError(line: line, "the document is empty", hint: "write one JSON value, e.g. {}")
        }
        let value = try parseValue(path: "")
        skipWhitespace()
        if index < bytes.count {
            throw failure(
                "unexpected \(describeCurrent()) after the end of the JSON value",
                hint: bytes[index] == UInt8(ascii: "/")
                    ? "JSON has no comments; remove them" : "a file holds exactly one JSON value")
        }
        return value
    }

    // MARK: Values

    private mutating func parseValue(path: String) throws(ProtocolError) -> JSONValue {
        if recordLines { keyLines[path] = keyLines[path] ?? line }
        guard index < bytes.count else { throw endOfInput("a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(path: path)
        case UInt8(ascii: "["): return try parseArray(path: path)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): return try parseWord()
        case UInt8(ascii: "'"):
            throw failure("unexpected single quote", hint: "JSON strings use double quotes")
        case UInt8(ascii: "/"):
            throw failure("unexpected '/'", hint: "JSON has no comments; remove them")
        default:
            throw failure("unexpected \(describeCurrent())", hint: "expected a JSON value")
        }
    }

    private mutating func parseObject(path: String) throws(ProtocolError) -> JSONValue {
        try enterContainer()
        index += 1
        var object = JSONObject()
        var firstLines: [String: Int] = [:]
        skipWhitespace()
        if try peek("an object key or '}'") == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard try peek("an object key") == UInt8(ascii: "\"") else {
                let hint =
                    bytes[index] == UInt8(ascii: "}")
                    ? "remove the comma before '}'" : "object keys are strings in double quotes"
                throw failure("expected an object key, found \(describeCurrent())", hint: hint)
            }
            let keyLine = line
            let key = try parseString()
            if let first = firstLines[key] {
                throw ProtocolError(
                    line: keyLine, "duplicate key \(Quote.show(key)) (first at line \(first))",
                    hint: "keep one of them")
            }
            firstLines[key] = keyLine
            let childPath = path.isEmpty ? key : path + "." + key
            if recordLines { keyLines[childPath] = keyLines[childPath] ?? keyLine }
            skipWhitespace()
            guard try peek("':'") == UInt8(ascii: ":") else {
                throw failure("expected ':' after key \(Quote.show(key)), found \(describeCurrent())")
            }
            index += 1
            skipWhitespace()
            object[key] = try parseValue(path: childPath)
            skipWhitespace()
            let next = try peek("',' or '}'")
            index += 1
            if next == UInt8(ascii: "}") { break }
            guard next == UInt8(ascii: ",") else {
                index -= 1
                throw failure(
                    "expected ',' or '}' after the value of \(Quote.show(key)), found \(describeCurrent())")
            }
        }
        depth -= 1
        return .object(object)
    }

    private mutating func parseArray(path: String) throws(ProtocolError) -> JSONValue {
        try enterContainer()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek("a value or ']'") == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if try peek("a value") == UInt8(ascii: "]") {
                throw failure("unexpected ']' after ','", hint: "remove the comma before ']'")
            }
            elements.append(try parseValue(path: "\(path)[\(elements.count)]"))
            skipWhitespace()
            let next = try peek("',' or ']'")
            index += 1
            if next == UInt8(ascii: "]") { break }
            guard next == UInt8(ascii: ",") else {
                index -= 1
                throw failure("expected ',' or ']' in array, found \(describeCurrent())")
            }
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func enterContainer() throws(ProtocolError) {
        depth += 1
        if depth > maxDepth {
            throw failure(
                "arrays and objects nest deeper than \(maxDepth) levels", hint: "flatten the document")
        }
    }

    private mutating func parseWord() throws(ProtocolError) -> JSONValue {
        let start = index
        while index < bytes.count, isWordByte(bytes[index]) { index += 1 }
        let word = String(decoding: bytes[start..<index], as: UTF8.self)
        switch word {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default:
            index = start
            throw failure(
                "unexpected word \(Quote.show(word))",
                hint: "expected true, false, null, a number or a string")
        }
    }

    private func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(ProtocolError) -> JSONValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw failure("expected a digit after '-'", hint: "write numbers like -1 or -0.5")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw failure("numbers must not have leading zeros", hint: "write 7, not 07")
            }
        } else {
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw failure("expected a digit after the decimal point", hint: "write 1.0, not 1.")
            }
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw failure("expected a digit in the exponent", hint: "write 1e5 or 1e-5")
            }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let value = Int64(text) { return .integer(value) }
        guard let value = Double(text), value.isFinite else {
            index = start
            throw failure("the number \(text) is out of range", hint: "numbers must fit in a 64-bit double")
        }
        return .number(value)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    // MARK: Strings

    private mutating func parseString() throws(ProtocolError) -> String {
        index += 1
        scratch.removeAll(keepingCapacity: true)
        while true {
            guard index < bytes.count else { throw endOfInput("the closing '\"' of a string") }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                let hint = byte == 0x0A ? "write a line break inside a string as \\n" : "escape it as \\u00XX"
                throw failure(
                    "raw control character U+00\(TextDecoding.hex(byte)) inside a string", hint: hint)
            default:
                scratch.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseEscape() throws(ProtocolError) {
        index += 1
        guard index < bytes.count else { throw endOfInput("an escape sequence") }
        let letter = bytes[index]
        index += 1
        switch letter {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var code = try parseHex4()
            if (0xDC00...0xDFFF).contains(code) {
                index -= 6
                throw failure(
                    "lone low surrogate \\u\(hex4(code)) in a string",
                    hint: "escape the pair or write the character itself")
            }
            if (0xD800...0xDBFF).contains(code) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                else {
                    index -= 6
                    throw failure(
                        "lone high surrogate \\u\(hex4(code)) in a string",
                        hint: "follow it with its low surrogate \\uDC00-\\uDFFF")
                }
                index += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    index -= 12
                    throw failure(
                        "high surrogate \\u\(hex4(code)) is not followed by a low surrogate",
                        hint: "follow it with \\uDC00-\\uDFFF")
                }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            scratch.append(contentsOf: Array(String(Character(Unicode.Scalar(code)!)).utf8))
        default:
            index -= 2
            throw failure(
                "invalid escape \(describe(at: index + 1)) in a string",
                hint: "valid escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
        }
    }

    private mutating func parseHex4() throws(ProtocolError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw endOfInput("four hex digits after \\u") }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("expected four hex digits after \\u, found \(describeCurrent())")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func hex4(_ code: UInt32) -> String {
        TextDecoding.hex(UInt8(code >> 8)) + TextDecoding.hex(UInt8(code & 0xFF))
    }

    // MARK: Positions and errors

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A:
                index += 1
                line += 1
                lineStart = index
            default: return
            }
        }
    }

    private func peek(_ expected: String) throws(ProtocolError) -> UInt8 {
        guard index < bytes.count else { throw endOfInput(expected) }
        return bytes[index]
    }

    /// The 1-based column of the current position, counted in characters (code points).
    private var column: Int {
        var count = 1
        for byte in bytes[lineStart..<min(index, bytes.count)] where byte & 0xC0 != 0x80 { count += 1 }
        return count
    }

    private func failure(_ message: String, hint: String? = nil) -> ProtocolError {
        ProtocolError(line: line, "\(message) at column \(column)", hint: hint)
    }

    private func endOfInput(_ expected: String) -> ProtocolError {
        ProtocolError(
            line: line, "the document ends early at column \(column), expecting \(expected)",
            hint: "close every open string, array and object")
    }

    private func describeCurrent() -> String { describe(at: index) }

    /// `'x'` for printable ASCII, `U+XXXX` for anything else, `end of input` past the end.
    private func describe(at position: Int) -> String {
        guard position < bytes.count else { return "end of input" }
        let byte = bytes[position]
        if byte >= 0x21, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        var decoder = UTF8()
        var iterator = bytes[position...].makeIterator()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) {
            let digits = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
        return "byte 0x\(TextDecoding.hex(byte))"
    }
}
