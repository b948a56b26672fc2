@preconcurrency import Glibc
import SwarmProtocol
import SwarmSystem

/// Shared plumbing of the benchmark scenarios: workspaces, processes, timing, statistics.
enum Bench {
    /// The `swarm` binary built beside this one.
    static var swarm: String {
        let exe = FileSystem.readLink("/proc/self/exe") ?? ""
        return String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)]) + "/swarm"
    }

    static func now() -> Double { Double(Clock.monotonicNanoseconds()) / 1e9 }
    static func wallNanos() -> Int64 {
        Clock.wallMilliseconds() * 1_000_000 + Int64(Clock.monotonicNanoseconds() % 1_000_000)
    }

    /// A fresh workspace under /tmp with `settings` set in swarm.json.
    static func workspace(_ name: String, settings: [String: JSONValue] = [:]) throws -> String {
        let root = "/tmp/swarm-bench-\(name)-\(Processes.currentID)"
        try? FileSystem.removeTree(root)
        try run(swarm, ["init", root])
        if !settings.isEmpty {
            let path = root + "/swarm/swarm.json"
            guard var config = try JSON.parse(FileSystem.readFile(path, limit: 1 << 20)).objectValue else {
                throw BenchError("\(path) is not a JSON object")
            }
            for (key, value) in settings { config[key] = value }
            try FileSystem.writeAtomically(path, JSON.encodeBytes(.object(config)))
        }
        return root
    }

    /// Runs a command to its end; throws when it fails.
    @discardableResult
    static func run(
        _ executable: String, _ arguments: [String], environment: [String] = defaultEnvironment(),
        directory: String? = nil, output: String? = nil, input: String = "/dev/null"
    ) throws -> Int32 {
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: executable, arguments: arguments, environment: environment,
                workingDirectory: directory, stdinPath: input, stdoutPath: output, stderrPath: output,
                passedDescriptors: [:]))
        let status = wait(pid)
        guard status == .exited(0) else {
            throw BenchError("\(executable) \(arguments.joined(separator: " ")) ended with \(status)")
        }
        return pid
    }

    /// Starts a command in the background; returns its pid.
    static func start(
        _ executable: String, _ arguments: [String], environment: [String] = defaultEnvironment(),
        output: String? = nil
    ) throws -> Int32 {
        try Spawner.spawn(
            SpawnRequest(
                executable: executable, arguments: arguments, environment: environment,
                workingDirectory: nil, stdoutPath: output, stderrPath: output, passedDescriptors: [:]))
    }

    static func wait(_ pid: Int32) -> ExitStatus {
        while true {
            if let status = Processes.reap(pid) { return status }
            Clock.sleep(milliseconds: 1)
        }
    }

    static func defaultEnvironment() -> [String] {
        ProcessEnvironment.snapshot().filter { !$0.key.hasPrefix("SWARM_") }.map { "\($0.key)=\($0.value)" }
    }

    /// Polls `condition` every millisecond until it holds or `seconds` pass.
    static func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = now() + seconds
        while now() < deadline {
            if condition() { return true }
            Clock.sleep(milliseconds: 1)
        }
        return condition()
    }

    /// Writes a file elsewhere and renames it into the inbox, as a careful person does.
    static func drop(_ root: String, _ name: String, _ text: String) throws {
        let temp = root + "/swarm/inbox/." + name
        try FileSystem.writeAtomically(temp, Array(text.utf8))
        try FileSystem.rename(temp, to: root + "/swarm/inbox/" + name)
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let index = min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[index]
    }

    static func readNumber(_ path: String) -> Int64? {
        guard let bytes = try? FileSystem.readFile(path, limit: 64) else { return nil }
        return Int64(String(decoding: bytes, as: UTF8.self).trimmingCharacters())
    }

    /// User and system CPU seconds of every child reaped so far, with the children they reaped
    /// (a daemon and the commands it ran).
    static func childCPU() -> Double {
        var usage = rusage()
        _ = getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        let seconds = { (time: timeval) in Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func cpuTicks(_ pid: Int32) -> UInt64 {
        ProcFS.entry(of: pid)?.cpuTicks ?? 0
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\n" { s = s.dropLast() }
        return String(s)
    }
}
