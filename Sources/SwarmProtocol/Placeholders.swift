/// `{{name}}` placeholders in template briefs.
///
/// A placeholder is `{{`, optional spaces, a name (letters, digits, `_`, `.`, `-`), optional
/// spaces, `}}`. Anything else with braces is plain text and stays as it is: `{{{{`,
/// `{{ two words }}`, `{{}}`, and `${{ ... }}` (a GitHub Actions expression in an example).
/// There is no escape syntax, and a value put in is never scanned again, so a value that
/// contains `{{x}}` stays literal.
public enum Placeholders {
    /// `body` with every placeholder replaced by its value. An unknown name is an error
    /// naming it and its line (`firstLine` is the file line of the body's first line) and
    /// listing the known names.
    public static func render(_ body: String, values: [String: String], firstLine: Int = 1)
        throws(ProtocolError) -> String
    {
        var output = ""
        output.reserveCapacity(body.utf8.count)
        var error: ProtocolError?
        scan(body, firstLine: firstLine) { piece in
            guard error == nil else { return }
            switch piece {
            case .text(let text):
                output += text
            case .placeholder(let name, let line):
                if let value = values[name] {
                    output += value
                } else {
                    let near =
                        Suggestion.closest(to: name, among: values.keys.sorted()).map {
                            "did you mean {{\($0)}}? "
                        } ?? ""
                    error = ProtocolError(
                        line: line, "unknown placeholder {{\(name)}}",
                        hint: near + "known: " + values.keys.sorted().joined(separator: ", "))
                }
            }
        }
        if let error { throw error }
        return output
    }

    /// The distinct placeholder names in `body`, in order of first appearance.
    public static func names(in body: String) -> [String] {
        var names: [String] = []
        scan(body, firstLine: 1) { piece in
            if case .placeholder(let name, _) = piece, !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// Each placeholder name in `body` with the line it is on, in order (repeats included).
    public static func occurrences(in body: String, firstLine: Int = 1) -> [(name: String, line: Int)] {
        var found: [(name: String, line: Int)] = []
        scan(body, firstLine: firstLine) { piece in
            if case .placeholder(let name, let line) = piece { found.append((name, line)) }
        }
        return found
    }

    // MARK: Scanning

    private enum Piece {
        case text(String)
        case placeholder(name: String, line: Int)
    }

    /// Splits `body` into literal text and placeholders, in order.
    private static func scan(_ body: String, firstLine: Int, _ visit: (Piece) -> Void) {
        let bytes = Array(body.utf8)
        var line = firstLine
        var textStart = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0A {
                line += 1
                index += 1
                continue
            }
            guard bytes[index] == 0x7B, index + 1 < bytes.count, bytes[index + 1] == 0x7B,
                index == 0 || bytes[index - 1] != 0x24,
                let (name, end) = placeholder(in: bytes, at: index + 2)
            else {
                index += 1
                continue
            }
            if textStart < index { visit(.text(String(decoding: bytes[textStart..<index], as: UTF8.self))) }
            visit(.placeholder(name: name, line: line))
            index = end
            textStart = end
        }
        if textStart < bytes.count { visit(.text(String(decoding: bytes[textStart...], as: UTF8.self))) }
    }

    /// The name and the index just past `}}` when a placeholder body starts at `start`.
    private static func placeholder(in bytes: [UInt8], at start: Int) -> (String, Int)? {
        var index = start
        while index < bytes.count, bytes[index] == 0x20 { index += 1 }
        let nameStart = index
        while index < bytes.count, isNameByte(bytes[index]) { index += 1 }
        guard index > nameStart else { return nil }
        let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
        while index < bytes.count, bytes[index] == 0x20 { index += 1 }
        guard index + 1 < bytes.count, bytes[index] == 0x7D, bytes[index + 1] == 0x7D else { return nil }
        return (name, index + 2)
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
            || byte == 0x5F || byte == 0x2E || byte == 0x2D
    }
}
