/// Turns the bytes of a file people write (task, template, role, answer) into text.
///
/// A UTF-8 byte order mark is dropped and CRLF line ends become LF. A NUL byte means the file
/// is not text; invalid UTF-8 is named by line and byte offset, so the writer can find it.
public enum TextDecoding {
    /// The UTF-8 byte order mark.
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Decodes `bytes` as UTF-8 text: strips a leading BOM, turns CRLF into LF, and rejects
    /// NUL bytes ("looks binary") and invalid UTF-8 (naming the line and byte offset).
    public static func decode(_ bytes: [UInt8]) throws(ProtocolError) -> String {
        let start = hasByteOrderMark(bytes) ? byteOrderMark.count : 0
        if let nul = bytes[start...].firstIndex(of: 0) {
            throw ProtocolError(
                line: lineNumber(in: bytes, at: nul),
                "the file looks binary: it holds a NUL byte at byte offset \(nul)",
                hint: "save it as plain UTF-8 text")
        }
        if let bad = UTF8Check.firstInvalidOffset(in: bytes, from: start) {
            throw ProtocolError(
                line: lineNumber(in: bytes, at: bad),
                "invalid UTF-8 at byte offset \(bad) (byte 0x\(hex(bytes[bad])))",
                hint: "save the file as UTF-8")
        }
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count - start)
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A {
                // CR LF (and CR CR LF...) end a line as LF alone: no CR may stay before a LF,
                // or Swift would see one "\r\n" character and a line split would miss it
                while text.last == 0x0D { text.removeLast() }
            }
            text.append(byte)
            index += 1
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// True when `bytes` starts with the UTF-8 byte order mark.
    static func hasByteOrderMark(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
    }

    /// The 1-based line that byte `offset` of `bytes` is on.
    static func lineNumber(in bytes: [UInt8], at offset: Int) -> Int {
        var line = 1
        for byte in bytes[..<min(offset, bytes.count)] where byte == 0x0A {
            line += 1
        }
        return line
    }

    /// Two upper-case hex digits.
    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}

/// A UTF-8 validator that reports where the first bad sequence starts (RFC 3629: no
/// overlong forms, no surrogates, nothing above U+10FFFF).
enum UTF8Check {
    /// The offset of the first byte of the first invalid sequence at or after `start`, or nil
    /// when the bytes are valid UTF-8.
    static func firstInvalidOffset(in bytes: [UInt8], from start: Int = 0) -> Int? {
        var index = start
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return index
            }
            guard index + length <= count else { return index }
            let second = bytes[index + 1]
            guard second >= low, second <= high else { return index }
            for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 {
                return index
            }
            index += length
        }
        return nil
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace (spaces, tabs, newlines).
    var trimmed: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
            let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}

extension Character {
    /// `0-9`.
    var isASCIIDigit: Bool { asciiValue.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
}

extension String {
    /// True when the text is one or more ASCII digits and nothing else.
    var isDigits: Bool { !isEmpty && allSatisfy(\.isASCIIDigit) }
}
