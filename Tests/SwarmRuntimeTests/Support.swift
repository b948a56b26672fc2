import SwarmScaffold
import SwarmSystem

/// A fresh folder under /tmp, removed with everything in it when `body` returns.
func withTemporaryFolder<T>(_ body: (String) throws -> T) throws -> T {
    let path = "/tmp/swarm-runtime-tests-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
    try FileSystem.makeDirectory(path, intermediates: false)
    defer { try? FileSystem.removeTree(path) }
    return try body(path)
}

/// A folder holding what `swarm init` makes (the scaffold), plus `files` (path: text).
func withWorkspaceFolder<T>(_ files: [String: String] = [:], _ body: (String) throws -> T) throws -> T {
    try withTemporaryFolder { root in
        for file in Scaffold.files { try write(root + "/" + file.path, file.contents) }
        for (path, text) in files { try write(root + "/" + path, text) }
        return try body(root)
    }
}

/// Writes `text` to `path`, making the folders above it.
func write(_ path: String, _ text: String) throws {
    if let slash = path.lastIndex(of: "/") { try FileSystem.makeDirectory(String(path[..<slash])) }
    try FileSystem.writeAtomically(path, Array(text.utf8))
}

/// The text of a file, or nil.
func read(_ path: String) -> String? {
    (try? FileSystem.readFile(path, limit: 16 << 20)).map { String(decoding: $0, as: UTF8.self) }
}

/// Polls `condition` every 2 ms until it holds (true) or `seconds` have passed (false).
func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
    while !condition() {
        if Clock.monotonicNanoseconds() >= deadline { return false }
        Clock.sleep(milliseconds: 2)
    }
    return true
}
