import SwarmProtocol
import SwarmSystem

/// Bounds the disk an agent's `stdout.log` and `stderr.log` take: a log keeps its first
/// `head` bytes and its last `tail` bytes, and the blocks between are freed by punching a
/// hole (`FileSystem.punchHole`). The agent keeps appending through its own `O_APPEND`
/// descriptor; the file's size keeps growing (it counts everything ever written), its
/// allocated size stays near `head + tail`, and the hole reads as zeros (`swarm logs` skips
/// it and says how many bytes were dropped there).
///
/// The daemon keeps one value for its whole life and looks at every running agent's logs as
/// `LogCheckSchedule` says (every second while they grow) and at each heartbeat. A call costs one `lstat` per log while there is nothing to free. Where the file system
/// cannot punch holes, the first call says so (`.unsupported`) and every later call does
/// nothing; a log that fails otherwise is reported once until it is trimmed again.
public struct LogCap: Sendable, Equatable {
    /// Bytes kept at the start of a log.
    public var head: Int64
    /// Bytes kept at the end of a log.
    public var tail: Int64
    /// True once a file system refused to punch a hole: capping is off from then on.
    public private(set) var unsupported = false
    /// Logs whose last trim failed and was reported, so the failure is not repeated.
    private var failing: Set<String> = []

    /// A cap keeping `head` and `tail` bytes of each log.
    public init(head: Int64, tail: Int64) {
        precondition(head >= 0 && tail >= 0, "a log cap keeps a non-negative head and tail")
        self.head = head
        self.tail = tail
    }

    /// The cap of swarm.json's `logHead` and `logTail`.
    public init(_ config: SwarmConfig) {
        self.init(head: config.logHeadBytes, tail: config.logTailBytes)
    }

    /// Takes the sizes of a reloaded swarm.json, keeping what this cap has learnt about the
    /// file system and the failing logs.
    public mutating func configure(_ config: SwarmConfig) {
        head = config.logHeadBytes
        tail = config.logTailBytes
    }

    /// How far past `head + tail` a log's allocated size may grow before it is trimmed:
    /// an eighth of the kept bytes, and at least 16 blocks, so that each trim frees a good
    /// stretch and a slowly growing log is not punched every second.
    public func slack(blockSize: Int64) -> Int64 {
        max(16 * blockSize, (head + tail) / 8)
    }

    /// The pure decision: the hole to punch in a log of `size` bytes taking `allocated`
    /// bytes of disk in blocks of `blockSize`, or nil when there is nothing to free.
    ///
    /// Nothing is done while `allocated <= head + tail + slack`. The hole starts at `head`
    /// rounded up to a block and ends at `size - tail` rounded down to one, so the kept bytes
    /// stay whole and only whole blocks are freed. It may cover a hole punched before.
    public func hole(size: Int64, allocated: Int64, blockSize: Int64) -> Range<Int64>? {
        let block = max(blockSize, 512)
        guard allocated > head + tail + slack(blockSize: block), size > tail else { return nil }
        let start = (head + block - 1) / block * block
        let end = (size - tail) / block * block
        return start < end ? start..<end : nil
    }

    /// Trims both logs of an agent, and says how many bytes they hold in all (their sizes, as
    /// seen by the one `lstat` each takes), so that a caller can tell whether they grow.
    public mutating func look(at files: AgentFiles) -> (results: [LogCapResult], bytes: Int64) {
        var bytes: Int64 = 0
        var results: [LogCapResult] = []
        for path in [files.stdout, files.stderr] {
            let status = FileSystem.status(path)
            bytes += status?.size ?? 0
            let result = apply(to: path, status: status, punch: FileSystem.punchHole)
            if result != .untouched { results.append(result) }
        }
        return (results, bytes)
    }

    /// Trims one log if it is over the cap.
    ///
    /// A missing file, a file under the cap, and a name the agent has replaced by anything
    /// but a regular file with a single link (a symbolic link, a FIFO, a hard link to some
    /// other file) are left alone: `.untouched`.
    public mutating func apply(to path: String) -> LogCapResult {
        apply(to: path, punch: FileSystem.punchHole)
    }

    /// `apply(to:)` with the hole punched by `punch`: the seam where a test plays a file
    /// system that cannot punch holes, or one that fails.
    mutating func apply(
        to path: String, punch: (String, Range<Int64>) throws(Errno) -> FileStatus
    ) -> LogCapResult {
        apply(to: path, status: FileSystem.status(path), punch: punch)
    }

    /// `apply(to:punch:)` for a log whose `lstat` the caller took.
    private mutating func apply(
        to path: String, status: FileStatus?, punch: (String, Range<Int64>) throws(Errno) -> FileStatus
    ) -> LogCapResult {
        guard !unsupported, let status, status.kind == .regular,
            status.linkCount == 1,
            let hole = hole(size: status.size, allocated: status.allocatedBytes, blockSize: status.blockSize)
        else { return .untouched }
        do {
            let after = try punch(path, hole)
            failing.remove(path)
            let freed = max(0, status.allocatedBytes - after.allocatedBytes)
            guard freed > 0 else { return .untouched }
            return .trimmed(path: path, hole: hole, freedBytes: freed, allocatedBytes: after.allocatedBytes)
        } catch .notSupported {
            unsupported = true
            return .unsupported(path: path)
        } catch {
            guard failing.insert(path).inserted else { return .untouched }
            return .failed(path: path, error)
        }
    }
}

/// What one `LogCap` call did to a log.
public enum LogCapResult: Sendable, Equatable, CustomStringConvertible {
    /// Nothing: the log is under the cap, missing, not the agent's plain file, capping is
    /// off, the hole was there already, or its failure was reported before.
    case untouched
    /// The bytes of `hole` were freed; `freedBytes` is how much less disk the file takes,
    /// `allocatedBytes` what it takes now.
    case trimmed(path: String, hole: Range<Int64>, freedBytes: Int64, allocatedBytes: Int64)
    /// The file system holding `path` cannot punch holes: logs are not capped from now on.
    case unsupported(path: String)
    /// Punching failed for another reason; the log is as it was.
    case failed(path: String, Errno)

    /// A line for the daemon's log.
    public var description: String {
        switch self {
        case .untouched:
            return "nothing to trim"
        case .trimmed(let path, let hole, let freed, let allocated):
            return
                "capped \(path): freed \(freed) bytes by dropping bytes \(hole.lowerBound)..<\(hole.upperBound); it takes \(allocated) bytes of disk now"
        case .unsupported(let path):
            return
                "the file system of \(path) cannot punch holes, so agents' stdout.log and stderr.log are not capped (logHead, logTail) and can fill the disk; put the workspace on ext4, XFS, Btrfs or tmpfs to cap them"
        case .failed(let path, let error):
            return "cannot cap \(path): \(error); it keeps growing until this is fixed"
        }
    }
}

extension Logger {
    /// Logs what a `LogCap` call did: a trim as info, a file system without holes or a
    /// failure as a warning.
    public func record(_ result: LogCapResult) {
        switch result {
        case .untouched: return
        case .trimmed: info(result.description)
        case .unsupported, .failed: warning(result.description)
        }
    }
}
