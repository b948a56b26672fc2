import FoundationEssentials
@preconcurrency import Glibc
import SwarmSystem
import Testing

/// `SwarmSystem.ExitStatus`, spelled out once: Swift Testing has a type of the same name.
typealias ChildExit = SwarmSystem.ExitStatus

// MARK: - The binary under test

/// The built `swarm` executable.
enum SwarmBinary {
    /// `SWARM_TEST_BINARY` when set; else the `swarm` beside the running test executable
    /// (`swift test` runs `<scratch>/debug/<package>PackageTests.xctest`, so this follows any
    /// `--scratch-path`); else `.build/debug/swarm` under the package root found from this file.
    static let path: String = locate()

    static func locate() -> String {
        if let explicit = ProcessEnvironment.snapshot()["SWARM_TEST_BINARY"], !explicit.isEmpty {
            return explicit
        }
        if let executable = FileSystem.readLink("/proc/self/exe") {
            var folder = parent(executable)
            for _ in 0..<4 {
                if isProgram(folder + "/swarm") { return folder + "/swarm" }
                folder = parent(folder)
            }
        }
        var folder = parent(#filePath)
        while folder != "/" && !FileSystem.exists(folder + "/Package.swift") { folder = parent(folder) }
        return folder + "/.build/debug/swarm"
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    static func isProgram(_ path: String) -> Bool {
        FileSystem.statusFollowing(path)?.kind == .regular && access(path, X_OK) == 0
    }

    /// The environment every process a test starts gets: nothing of ours (no SWARM_*), the
    /// binary's folder first on PATH, no colour.
    static var environment: [String] {
        let inherited = ProcessEnvironment.snapshot()
        var environment: [String: String] = [
            "PATH": parent(path) + ":" + (inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"),
            "HOME": inherited["HOME"] ?? "/tmp",
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
        ]
        if let user = inherited["USER"] { environment["USER"] = user }
        // SWARM_LAUNCHER=slurm (with the SLURM_CONF of scripts/slurm-up) runs every agent of
        // the end-to-end tests as a Slurm job
        for key in ["SWARM_LAUNCHER", "SLURM_CONF"] { environment[key] = inherited[key] }
        return environment.map { "\($0.key)=\($0.value)" }.sorted()
    }
}

// MARK: - Running processes

/// How one command ended and what it printed.
struct CommandOutput: Sendable, CustomStringConvertible {
    var exit: ChildExit
    var stdout: String
    var stderr: String

    /// The exit code, or -1 when a signal ended it.
    var status: Int32 {
        if case .exited(let code) = exit { return code }
        return -1
    }

    var description: String { "exit \(exit)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}

/// A command that outlived its time limit (it was killed).
struct TimedOut: Error, CustomStringConvertible {
    var command: [String]
    var seconds: Double
    var description: String { "\(command.joined(separator: " ")) did not end within \(seconds) s" }
}

enum Run {
    /// Pauses the calling task (never the thread) between polls.
    static func pause(milliseconds: Int) async {
        try? await Task.sleep(for: .milliseconds(milliseconds))
    }

    /// Runs `executable` with `arguments` to its end (killing it after `timeout` seconds) and
    /// returns what it printed. Started with posix_spawn in a session of its own.
    static func command(
        _ executable: String, _ arguments: [String], environment: [String] = SwarmBinary.environment,
        directory: String? = nil, stdin: String = "/dev/null", timeout: Double = 30
    ) async throws -> CommandOutput {
        let tag = "/tmp/swarm-e2e-io-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        let out = tag + ".out"
        let err = tag + ".err"
        defer {
            try? FileSystem.remove(out)
            try? FileSystem.remove(err)
        }
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: executable, arguments: arguments, environment: environment,
                workingDirectory: directory, stdinPath: stdin, stdoutPath: out, stderrPath: err))
        guard let exit = await waitForExit(pid, timeout: timeout) else {
            _ = Processes.signalGroup(pid, SIGKILL)
            _ = await waitForExit(pid, timeout: 5)
            throw TimedOut(command: [executable] + arguments, seconds: timeout)
        }
        return CommandOutput(exit: exit, stdout: text(out), stderr: text(err))
    }

    /// Polls the child `pid` until it ends (reaping it) or `timeout` seconds pass.
    static func waitForExit(_ pid: Int32, timeout: Double) async -> ChildExit? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
        var delay = 1
        while true {
            if let exit = Processes.reap(pid) { return exit }
            if Clock.monotonicNanoseconds() > deadline { return nil }
            await pause(milliseconds: delay)
            delay = min(delay * 2, 20)
        }
    }

    static func text(_ path: String) -> String {
        (try? FileSystem.readFile(path, limit: 64 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

/// Polls `condition` every `every` ms until it holds or `timeout` seconds pass.
func eventually(
    timeout: Double = 15, every: Int = 20, _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
    while true {
        if try await condition() { return true }
        if Clock.monotonicNanoseconds() > deadline { return false }
        await Run.pause(milliseconds: every)
    }
}

// MARK: - A daemon in the background

/// A `swarm run` started by a test. Killed (SIGKILL) and reaped when no longer needed.
final class DaemonProcess: @unchecked Sendable {
    let pid: Int32
    let log: String
    private(set) var ended: ChildExit?

    init(pid: Int32, log: String) {
        self.pid = pid
        self.log = log
    }

    func signal(_ signal: Int32) {
        _ = Processes.signal(pid, signal)
    }

    /// Waits for the daemon to end; nil when it still runs after `timeout` seconds.
    func waitForExit(timeout: Double = 15) async -> ChildExit? {
        if let ended { return ended }
        ended = await Run.waitForExit(pid, timeout: timeout)
        return ended
    }

    /// SIGKILL, at once, like a crash.
    func crash() async {
        signal(SIGKILL)
        _ = await waitForExit(timeout: 10)
    }

    var logText: String { Run.text(log) }

    deinit {
        guard ended == nil else { return }
        _ = Processes.signal(pid, SIGKILL)
        var tries = 0
        while Processes.reap(pid) == nil && tries < 1000 {
            Clock.sleep(milliseconds: 2)
            tries += 1
        }
    }
}

// MARK: - What the CLI prints

/// One agent of `swarm status --json`.
struct AgentStatus: Decodable, Sendable {
    var id: String
    var parent: String?
    var role: String?
    var template: String?
    var kind: String?
    var state: String
    var depth: Int?
    var slots: Int?
    var pid: Int32?
    var job: String?
    var job_state: String?
    var attempts: Int
    var runs: Int?
    var reason: String?
    var dir: String?
    var branch: String?
    var head: String?
    var confinement: String?
    var start: String?
    var session: String?
    var unread: Int?
    var messages: [MessageLine]?
}

/// One message of an agent in `swarm status --json`, with its receipt.
struct MessageLine: Decodable, Sendable {
    var name: String
    var sent: String
    var status: String
    var receipt: String
}

struct StatusDocument: Decodable {
    var agents: [AgentStatus]
}

/// One line of alerts.jsonl (`swarm alerts --json`).
struct AlertLine: Decodable, Sendable {
    var time: String
    var kind: String
    var agent: String?
    var message: String
}

struct AlertsDocument: Decodable {
    var alerts: [AlertLine]
}

/// The budgets of state.json.
struct StateDocument: Decodable {
    struct Budget: Decodable {
        var holder: String
        var used: Int
        var total: Int
    }
    var updated: String
    var daemon_pid: Int32?
    var budgets: [Budget]
    var agents: [AgentStatus]
}

func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(text.utf8))
}
