@preconcurrency import Glibc
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

/// The bytes of `path` under Tests/SwarmProtocolTests/Fixtures/.
func fixtureBytes(_ path: String) throws -> [UInt8] {
    let folder = String(#filePath.dropLast("TestSupport.swift".count))
    return try readWholeFile(folder + "Fixtures/" + path)
}

/// The bytes of a file (for fixtures, and the machine's zone files).
func readWholeFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw FixtureMissing(path: path) }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count == 0 { return bytes }
        bytes += buffer[0..<count]
    }
}
