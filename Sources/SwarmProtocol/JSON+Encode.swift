extension JSON {
    /// Writes `value` as JSON text.
    ///
    /// Pretty output indents by two spaces, writes `"key": value`, puts every array element
    /// and object member on its own line (empty ones stay `[]` and `{}`) and ends with a
    /// newline. Compact output has no whitespace and no trailing newline (add `\n` yourself
    /// for a JSON-lines file). With `sortKeys`, object keys are ordered by their UTF-8 bytes,
    /// so the same value always gives the same text; otherwise insertion order is kept.
    ///
    /// Integers print as digits; other numbers print in the shortest form that reads back to
    /// the same `Double` (`0.1`, `3.0`, `1e+20`); non-finite numbers, which JSON cannot hold,
    /// print as `null`. Strings escape `"`, `\`, and every control character (U+0000-U+001F,
    /// U+007F), so a value always stays on one line.
    public static func encode(_ value: JSONValue, pretty: Bool = true, sortKeys: Bool = true) -> String {
        var writer = JSONWriter(pretty: pretty, sortKeys: sortKeys)
        writer.write(value, indent: 0)
        if pretty { writer.output += "\n" }
        return writer.output
    }

    /// `text` as a JSON string literal, quotes included.
    public static func quote(_ text: String) -> String {
        var writer = JSONWriter(pretty: false, sortKeys: false)
        writer.writeString(text)
        return writer.output
    }
}

/// Accumulates JSON text.
struct JSONWriter {
    let pretty: Bool
    let sortKeys: Bool
    var output = ""

    init(pretty: Bool, sortKeys: Bool) {
        self.pretty = pretty
        self.sortKeys = sortKeys
    }

    mutating func write(_ value: JSONValue, indent: Int) {
        switch value {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .integer(let number): output += String(number)
        case .number(let number): output += number.isFinite ? number.description : "null"
        case .string(let text): writeString(text)
        case .array(let elements):
            guard !elements.isEmpty else {
                output += "[]"
                return
            }
            output += "["
            for (position, element) in elements.enumerated() {
                if position > 0 { output += "," }
                newline(indent: indent + 1)
                write(element, indent: indent + 1)
            }
            newline(indent: indent)
            output += "]"
        case .object(let object):
            guard !object.isEmpty else {
                output += "{}"
                return
            }
            var entries = object.entries
            if sortKeys {
                entries.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            }
            output += "{"
            for (position, entry) in entries.enumerated() {
                if position > 0 { output += "," }
                newline(indent: indent + 1)
                writeString(entry.key)
                output += pretty ? ": " : ":"
                write(entry.value, indent: indent + 1)
            }
            newline(indent: indent)
            output += "}"
        }
    }

    private mutating func newline(indent: Int) {
        guard pretty else { return }
        output += "\n"
        output += String(repeating: "  ", count: indent)
    }

    mutating func writeString(_ text: String) {
        output += "\""
        if !text.utf8.contains(where: Self.needsEscape) {
            output += text
            output += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\u{00}"..."\u{1F}", "\u{7F}":
                output += "\\u00" + TextDecoding.hex(UInt8(scalar.value))
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }

    /// True for the bytes a string literal cannot hold as they are: `"`, `\\` and the
    /// control characters (every byte of a multi-byte character is 0x80 or above).
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F
    }
}
