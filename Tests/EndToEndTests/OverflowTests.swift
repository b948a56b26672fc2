import Glibc
import SwarmSystem
import Testing

/// The inotify queue overflows while the daemon is stopped: it rescans and takes every task
/// exactly once.
@Suite("Watching that cannot miss", .serialized, .timeLimit(.minutes(2)))
struct OverflowTests {
    static let queueLimit = "/proc/sys/fs/inotify/max_queued_events"

    @Test("SIGSTOP the daemon, drop 600 tasks, SIGCONT: each is taken exactly once")
    func overflowWhileStopped() async throws {
        try await withWorkspace(config: ["maxSlots": "22", "reserve": "2"]) { ws in
            // With root, the daemon's inotify instance gets a queue of 64 events, so that the
            // drop below overflows it for sure (IN_Q_OVERFLOW, then a rescan); the system
            // value is put back as soon as the daemon has its instance.
            // the system value is put back however the start goes: a value of 64 left behind
            // would make every later daemon on the machine overflow and rescan
            let saved = ws.systemText(Self.queueLimit)
            let lowered = saved != nil && Self.writeInPlace(Self.queueLimit, "64")
            let started: Result<DaemonProcess, any Error>
            do {
                started = .success(try await ws.startDaemon(["--heartbeat", "5s"]))
            } catch {
                started = .failure(error)
            }
            if lowered, let saved { _ = Self.writeInPlace(Self.queueLimit, saved) }
            let daemon = try started.get()
            daemon.signal(SIGSTOP)
            let count = 600
            for i in 0..<count {
                try ws.drop(
                    "t\(i).md",
                    TestWorkspace.task(
                        [("role", "worker"), ("template", "shell"), ("id", "t\(i)")],
                        "echo '{\"status\": \"ok\"}' > results.json"))
            }
            daemon.signal(SIGCONT)
            let finished = await eventually(timeout: 90, every: 200) {
                let agents = (try? await ws.agents()) ?? []
                return agents.count == count && agents.allSatisfy { $0.state == "done" }
            }
            let agents = try await ws.agents()
            #expect(finished, "\(agents.filter { $0.state != "done" }.count) of \(agents.count) not done")
            #expect(agents.count == count, "every task became exactly one agent")
            #expect(agents.allSatisfy { $0.attempts == 1 }, "none started twice")
            #expect(ws.entries("swarm/inbox").allSatisfy { $0.hasPrefix(".") })
            if lowered {
                #expect(
                    daemon.logText.contains("overflowed"), "the queue overflowed and the daemon rescanned")
            }
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == .exited(0))
        }
    }

    /// Writes `text` into an existing file in place (a /proc/sys setting cannot be replaced
    /// by a rename). True when it worked.
    static func writeInPlace(_ path: String, _ text: String) -> Bool {
        guard Users.isRoot else { return false }
        let fd = open(path, O_WRONLY | O_TRUNC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array((text.hasSuffix("\n") ? text : text + "\n").utf8)
        return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
    }
}

extension TestWorkspace {
    /// A file outside the workspace (a /proc setting), trimmed; nil when unreadable.
    func systemText(_ path: String) -> String? {
        guard let bytes = try? FileSystem.readFile(path, limit: 4096) else { return nil }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters()
    }
}
