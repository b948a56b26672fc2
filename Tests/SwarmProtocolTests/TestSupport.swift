import SwarmProtocol

/// The error `body` throws, or nil when it returns.
func failure<T>(_ body: () throws(ProtocolError) -> T) -> ProtocolError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// The UTF-8 bytes of `text`.
func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// One input that must be rejected: where (line, nil for "no line") and a fragment of the
/// message or hint.
struct Rejection: Sendable, CustomStringConvertible {
    var name: String
    var fileName: String
    var bytes: [UInt8]
    var line: Int?
    var fragment: String

    init(_ name: String, file: String = "task.md", _ text: String, line: Int?, _ fragment: String) {
        self.init(name, file: file, bytes: utf8(text), line: line, fragment)
    }

    init(_ name: String, file: String = "task.md", bytes: [UInt8], line: Int?, _ fragment: String) {
        self.name = name
        self.fileName = file
        self.bytes = bytes
        self.line = line
        self.fragment = fragment
    }

    var description: String { name }
}
