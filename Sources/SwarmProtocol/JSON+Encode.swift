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
        String(decoding: encodeBytes(value, pretty: pretty, sortKeys: sortKeys), as: UTF8.self)
    }

    /// `encode(_:pretty:sortKeys:)` as UTF-8 bytes, for a file.
    public static func encodeBytes(_ value: JSONValue, pretty: Bool = true, sortKeys: Bool = true) -> [UInt8]
    {
        var writer = JSONWriter(pretty: pretty, sortKeys: sortKeys)
        writer.write(value, indent: 0)
        if pretty { writer.output.append(UInt8(ascii: "\n")) }
        return writer.output
    }

    /// `text` as a JSON string literal, quotes included.
    public static func quote(_ text: String) -> String {
        var writer = JSONWriter(pretty: false, sortKeys: false)
        writer.writeString(text)
        return String(decoding: writer.output, as: UTF8.self)
    }
}

/// Accumulates JSON text as UTF-8 bytes.
struct JSONWriter {
    let pretty: Bool
    let sortKeys: Bool
    var output: [UInt8] = []

    init(pretty: Bool, sortKeys: Bool) {
        self.pretty = pretty
        self.sortKeys = sortKeys
        output.reserveCapacity(1024)
    }

    mutating func write(_ value: JSONValue, indent: Int) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .integer(let number): writeInteger(number)
        case .number(let number): append(number.isFinite ? number.description : "null")
        case .string(let text): writeString(text)
        case .array(let elements):
            guard !elements.isEmpty else {
                append("[]")
                return
            }
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent: indent + 1)
                write(element, indent: indent + 1)
            }
            newline(indent: indent)
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            guard !object.isEmpty else {
                append("{}")
                return
            }
            let entries = object.entries
            // the positions are sorted, not the members: moving a position costs no retain
            let order =
                sortKeys
                ? entries.indices.sorted { Self.precedes(entries[$0].key, entries[$1].key) }
                : Array(entries.indices)
            output.append(UInt8(ascii: "{"))
            for (position, index) in order.enumerated() {
                let entry = entries[index]
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent: indent + 1)
                writeString(entry.key)
                output.append(UInt8(ascii: ":"))
                if pretty { output.append(UInt8(ascii: " ")) }
                write(entry.value, indent: indent + 1)
            }
            newline(indent: indent)
            output.append(UInt8(ascii: "}"))
        }
    }

    /// True when `a`'s UTF-8 bytes sort before `b`'s.
    static func precedes(_ a: String, _ b: String) -> Bool {
        let compared = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                for index in 0..<min(x.count, y.count) where x[index] != y[index] {
                    return x[index] < y[index]
                }
                return x.count < y.count
            }
        }
        return (compared ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { output.append(contentsOf: $0) }
    }

    private mutating func append(_ text: String) {
        output.append(contentsOf: text.utf8)
    }

    private mutating func newline(indent: Int) {
        guard pretty else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * indent))
    }

    /// Digits of `number`, without making a String.
    private mutating func writeInteger(_ number: Int64) {
        if number < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        // 24 bytes: more than the 20 digits of any Int64
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &buffer) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            output.append(contentsOf: digits[start...])
        }
    }

    mutating func writeString(_ text: String) {
        output.append(UInt8(ascii: "\""))
        // a native string's bytes are contiguous: scanning and copying them as a buffer is
        // several times faster than going through the UTF-8 view byte by byte
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            var index = 0
            while index < bytes.count {
                if Self.needsEscape(bytes[index]) { return false }
                index += 1
            }
            output.append(contentsOf: bytes)
            return true
        }
        // nil: the bytes are not contiguous, and are looked at through the view
        let plain = copied ?? !text.utf8.contains(where: Self.needsEscape)
        if plain {
            if copied == nil { output.append(contentsOf: text.utf8) }
            output.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case UInt8(ascii: "\n"): append("\\n")
            case UInt8(ascii: "\r"): append("\\r")
            case UInt8(ascii: "\t"): append("\\t")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            case 0x00...0x1F, 0x7F:
                append("\\u00")
                append(TextDecoding.hex(byte))
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// True for the bytes a string literal cannot hold as they are: `"`, `\\` and the
    /// control characters (every byte of a multi-byte character is 0x80 or above).
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F
    }
}
