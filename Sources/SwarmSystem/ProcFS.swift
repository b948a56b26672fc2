@preconcurrency import Glibc

/// One process as `/proc/PID/stat` describes it.
public struct ProcessEntry: Sendable, Equatable {
    /// Process id.
    public var pid: Int32
    /// Parent's pid (0 for the first process of a pid namespace).
    public var parent: Int32
    /// Process group id.
    public var group: Int32
    /// Session id (0 for kernel threads).
    public var session: Int32
    /// CPU time used so far, user plus system, in clock ticks (`ProcFS.ticksPerSecond`).
    public var cpuTicks: UInt64
    /// The state letter: R running, S sleeping, D disk wait, Z zombie, T stopped, ...
    public var state: Character

    /// Builds an entry from its parts.
    public init(pid: Int32, parent: Int32, group: Int32, session: Int32, cpuTicks: UInt64, state: Character) {
        self.pid = pid
        self.parent = parent
        self.group = group
        self.session = session
        self.cpuTicks = cpuTicks
        self.state = state
    }
}

/// Facts about processes read from `/proc`. Processes come and go while it is read:
/// one that vanishes halfway is left out, never reported as an error.
public enum ProcFS {
    /// Every process visible in `/proc`, by ascending pid.
    public static func snapshot() -> [ProcessEntry] {
        guard let names = try? FileSystem.entries(of: "/proc") else { return [] }
        return names.compactMap { Int32($0.name) }.sorted().compactMap(entry(of:))
    }

    /// The `/proc/PID/stat` facts of one process; `nil` when it does not exist.
    public static func entry(of pid: Int32) -> ProcessEntry? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/stat", limit: 4096) else { return nil }
        return parseStat(bytes)
    }

    /// The environment `pid` was started with (`/proc/PID/environ`, split on NUL), as
    /// "KEY=VALUE" strings. `nil` when it cannot be read (gone, or another user's);
    /// empty for zombies and kernel threads.
    public static func environment(of pid: Int32) -> [String]? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/environ", limit: 8 << 20) else {
            return nil
        }
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The arguments `pid` runs with (`/proc/PID/cmdline`, split on NUL), its program name
    /// first; `nil` when it cannot be read (gone); empty for zombies and kernel threads.
    public static func arguments(of pid: Int32) -> [String]? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/cmdline", limit: 1 << 20) else { return nil }
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The pids, ascending, of every process (other than this one) that is in one of
    /// `sessions`, or is one of `roots`, or whose environment holds every string in
    /// `markers` (e.g. `["SWARM_ROOT=/x", "SWARM_AGENT_ID=a1"]`), together with all
    /// descendants of those.
    ///
    /// This finds an agent's whole tree for a kill, including a grandchild that started
    /// its own session and was re-parented to init: it still carries the environment it
    /// inherited. Empty `markers` match nothing (not everything), and session 0 (kernel
    /// threads) is never matched. Pass only sessions that the runtime created.
    public static func members(
        sessions: Set<Int32>, roots: Set<Int32> = [], markers: [String]
    ) -> [Int32] {
        let processes = snapshot()
        let me = getpid()
        var chosen = Set<Int32>()
        for process in processes where process.pid != me {
            if (process.session > 0 && sessions.contains(process.session)) || roots.contains(process.pid) {
                chosen.insert(process.pid)
            } else if !markers.isEmpty, let environment = environment(of: process.pid),
                Set(environment).isSuperset(of: markers)
            {
                chosen.insert(process.pid)
            }
        }
        var children: [Int32: [Int32]] = [:]
        for process in processes { children[process.parent, default: []].append(process.pid) }
        var pending = Array(chosen)
        while let pid = pending.popLast() {
            for child in children[pid] ?? [] where child != me && chosen.insert(child).inserted {
                pending.append(child)
            }
        }
        return chosen.sorted()
    }

    /// Whether `pid` has a descriptor open on the file or folder `target` (the same device
    /// and inode), as `/proc/PID/fd` shows; false when that cannot be read (gone, or another
    /// user's).
    public static func hasOpen(_ target: FileStatus, pid: Int32) -> Bool {
        let folder = "/proc/\(pid)/fd"
        guard let entries = try? FileSystem.entries(of: folder) else { return false }
        return entries.contains { entry in
            guard let status = FileSystem.statusFollowing(folder + "/" + entry.name) else { return false }
            return status.inode == target.inode && status.device == target.device
        }
    }

    /// Clock ticks per second, the unit of `ProcessEntry.cpuTicks` (`sysconf(_SC_CLK_TCK)`).
    public static var ticksPerSecond: Int {
        sysconf(Int32(_SC_CLK_TCK))
    }

    /// Resident memory of `pid` in bytes (`/proc/PID/statm`); `nil` when it is gone.
    public static func residentBytes(of pid: Int32) -> Int64? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/statm", limit: 4096) else { return nil }
        let fields = bytes.split(separator: UInt8(ascii: " "))
        guard fields.count >= 2, let pages = Int64(String(decoding: fields[1], as: UTF8.self)) else {
            return nil
        }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Parses `pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
    /// cmajflt utime stime ...`. The command name may hold spaces and parentheses, so the
    /// fields are counted from the last ")".
    static func parseStat(_ bytes: [UInt8]) -> ProcessEntry? {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")),
            let close = bytes.lastIndex(of: UInt8(ascii: ")")),
            let pidField = bytes[..<open].split(separator: UInt8(ascii: " ")).first,
            let pid = Int32(String(decoding: pidField, as: UTF8.self))
        else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count >= 13, let letter = fields[0].first else { return nil }
        func number<Value: FixedWidthInteger>(_ index: Int, as: Value.Type) -> Value? {
            Value(String(decoding: fields[index], as: UTF8.self))
        }
        guard let parent = number(1, as: Int32.self), let group = number(2, as: Int32.self),
            let session = number(3, as: Int32.self), let user = number(11, as: UInt64.self),
            let system = number(12, as: UInt64.self)
        else { return nil }
        return ProcessEntry(
            pid: pid, parent: parent, group: group, session: session, cpuTicks: user + system,
            state: Character(Unicode.Scalar(letter)))
    }
}
