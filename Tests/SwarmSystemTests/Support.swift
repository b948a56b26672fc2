import SwarmSystem
import Testing

/// `SwarmSystem.ExitStatus`, spelled out once: Swift Testing has a type of the same name.
typealias ChildExit = SwarmSystem.ExitStatus

/// Runs `body` with a fresh directory under /tmp and removes it (and everything in it) after.
@discardableResult
func withTemporaryDirectory<Result>(_ body: (String) throws -> Result) throws -> Result {
    let path = "/tmp/swarm-system-tests-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
    try FileSystem.makeDirectory(path, intermediates: false)
    defer { try? FileSystem.removeTree(path) }
    return try body(path)
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass; returns its last value.
/// The pause is an epoll wait on nothing, so no test sleeps blindly.
func waitUntil(seconds: Double = 10, _ condition: () -> Bool) throws -> Bool {
    let epoll = try Epoll()
    let deadline = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
    while !condition() {
        if Clock.monotonicNanoseconds() > deadline { return false }
        _ = try epoll.wait(timeoutMilliseconds: 10)
    }
    return true
}

/// Waits (at most `seconds`) for the child `pid` to exit, watching its pidfd with epoll,
/// then reaps it.
func waitForExit(_ pid: Int32, seconds: Int32 = 10) throws -> ChildExit? {
    let epoll = try Epoll()
    let pidfd = try Processes.pidfd(pid)
    try epoll.add(pidfd.rawValue, token: UInt64(pid))
    let deadline = Clock.monotonicNanoseconds() + UInt64(seconds) * 1_000_000_000
    while Clock.monotonicNanoseconds() < deadline {
        if try epoll.wait(timeoutMilliseconds: 100).contains(UInt64(pid)) { break }
    }
    return Processes.reap(pid)
}

/// The contents of a small text file, or "" when it cannot be read.
func readText(_ path: String) -> String {
    guard let bytes = try? FileSystem.readFile(path, limit: 1 << 20) else { return "" }
    return String(decoding: bytes, as: UTF8.self)
}

/// The minimal environment for children started by tests.
let basicEnvironment = ["PATH=/usr/bin:/bin", "LC_ALL=C"]
