import SwarmCore
import SwarmProtocol
import SwarmSystem

/// The kernel side of the runtime's writes into the tree: the one seam where a test plays a
/// full disk. Sendable: state.json is written through it from a helper thread (`StateFile`).
protocol TreeStorage: Sendable {
    /// Replaces `path` atomically (temporary file, rename).
    func replace(_ path: String, with bytes: [UInt8]) throws(Errno)
    /// Appends `bytes` to `path` with one `write(2)`.
    func append(_ path: String, _ bytes: [UInt8]) throws(Errno)
    /// Creates the folder `path` (and the folders above it) if it does not exist.
    func makeDirectory(_ path: String) throws(Errno)
}

/// The real file system.
struct KernelStorage: TreeStorage {
    func replace(_ path: String, with bytes: [UInt8]) throws(Errno) {
        try FileSystem.writeAtomically(path, bytes)
    }

    func append(_ path: String, _ bytes: [UInt8]) throws(Errno) {
        try FileSystem.append(path, bytes)
    }

    func makeDirectory(_ path: String) throws(Errno) {
        try FileSystem.makeDirectory(path)
    }
}

/// Every file the runtime writes into the tree (meta.json, state.json, children.json,
/// alerts.jsonl, dead-letter/) goes through here, so that a write that fails is never lost.
///
/// A file write that fails stays owed: the newest bytes for its path are kept and written
/// again, oldest failure first, after a wait that doubles from 50 ms to 5 s (`Backoff`),
/// until they land. An append that fails is queued, and so is every later append, so lines
/// land in the order they were made; at most `appendLimit` wait (older ones are dropped and
/// counted). While anything is owed the tree counts as stalled: the daemon starts no agent and
/// takes no task in (both need records written), and every new write joins the owed ones
/// instead of being tried on its own. Once all of them land, the tree is writable again.
/// A write into a folder that no longer exists (a person removed it) is dropped, not owed.
struct TreeWriter {
    /// How the tree's writes are going, as the daemon reports it.
    enum Transition: Equatable {
        /// The first write that failed since the tree was last writable.
        case stalled(path: String, error: Errno)
        /// Everything owed has landed, after `owed` writes waited `duration` ms.
        case recovered(owed: Int, duration: Millis)
    }

    /// One owed write: a file's bytes (its folder made first with `makeParent`), or a folder
    /// alone (`bytes` nil).
    private struct OwedFile {
        var bytes: [UInt8]?
        var makeParent: Bool
    }

    /// Appends kept while they cannot land, at most.
    static let appendLimit = 10_000
    /// The wait between tries while writes are owed.
    static let retry = Backoff(base: 50, cap: 5_000)

    let storage: any TreeStorage
    /// Owed file writes by path, and the paths in the order they first failed.
    private var owedFiles: [String: OwedFile] = [:]
    private var owedOrder: [String] = []
    /// Owed appends, oldest first.
    private var owedAppends: [(path: String, bytes: [UInt8])] = []
    /// Appends dropped because more than `appendLimit` waited.
    private(set) var droppedAppends = 0
    /// Since when writes have been owed, and why the first one failed.
    private(set) var stalledSince: (time: Millis, error: Errno)?
    private var failuresInARow = 0
    /// When the owed writes are tried again.
    private(set) var retryAt: Millis?
    /// Transitions not yet taken by the daemon.
    private var transitions: [Transition] = []
    /// Every write that waited during the current stall, for the recovery's report.
    private var lastOwedTotal = 0

    init(storage: any TreeStorage = KernelStorage()) {
        self.storage = storage
    }

    /// True while some write is owed: the tree cannot be trusted to take a record.
    var isStalled: Bool { stalledSince != nil }

    /// How many writes wait.
    var owedCount: Int { owedOrder.count + owedAppends.count }

    /// Replaces `path` with `bytes` (creating its folder first with `makeParent`); true when
    /// the bytes landed now, false when they are owed (or dropped: the folder is gone).
    @discardableResult
    mutating func replace(_ path: String, with bytes: [UInt8], makeParent: Bool = false, now: Millis) -> Bool
    {
        land(path, OwedFile(bytes: bytes, makeParent: makeParent), now: now)
    }

    /// Creates the folder `path` (and those above it); true when it exists now, false when
    /// its creation is owed (the tree is stalled).
    @discardableResult
    mutating func makeDirectory(_ path: String, now: Millis) -> Bool {
        land(path, OwedFile(bytes: nil, makeParent: false), now: now)
    }

    /// Writes `owed` now, or owes it: while stalled, or when the write fails (but for a file
    /// whose folder is gone, which is dropped).
    private mutating func land(_ path: String, _ owed: OwedFile, now: Millis) -> Bool {
        if isStalled {
            owe(path, owed)
            return false
        }
        do {
            try write(path, owed)
            return true
        } catch .noSuchFile where owed.bytes != nil && !owed.makeParent {
            return false
        } catch {
            owe(path, owed)
            stall(path, error, now: now)
            return false
        }
    }

    /// Appends `bytes` to `path`, behind every append still owed; true when it landed now.
    @discardableResult
    mutating func append(_ path: String, _ bytes: [UInt8], now: Millis) -> Bool {
        if isStalled {
            oweAppend(path, bytes)
            return false
        }
        do {
            try storage.append(path, bytes)
            return true
        } catch {
            oweAppend(path, bytes)
            stall(path, error, now: now)
            return false
        }
    }

    /// Tries the owed writes again when their wait is over: appends first, in order, then the
    /// files, oldest failure first, stopping at the first that fails again.
    mutating func retryOwed(now: Millis) {
        guard let due = retryAt, now >= due else { return }
        while let first = owedAppends.first {
            do {
                try storage.append(first.path, first.bytes)
                owedAppends.removeFirst()
            } catch {
                backOff(now: now)
                return
            }
        }
        while let path = owedOrder.first, let owed = owedFiles[path] {
            do {
                try write(path, owed)
            } catch .noSuchFile where !owed.makeParent {
                // the folder is gone: nothing is left to keep up to date there
            } catch {
                backOff(now: now)
                return
            }
            owedOrder.removeFirst()
            owedFiles[path] = nil
        }
        if let since = stalledSince {
            transitions.append(.recovered(owed: lastOwedTotal, duration: now - since.time))
        }
        stalledSince = nil
        failuresInARow = 0
        retryAt = nil
        lastOwedTotal = 0
    }

    /// The transitions since the last call, oldest first.
    mutating func takeTransitions() -> [Transition] {
        defer { transitions = [] }
        return transitions
    }

    private func write(_ path: String, _ owed: OwedFile) throws(Errno) {
        guard let bytes = owed.bytes else {
            try storage.makeDirectory(path)
            return
        }
        if owed.makeParent, let slash = path.lastIndex(of: "/") {
            try storage.makeDirectory(String(path[..<slash]))
        }
        try storage.replace(path, with: bytes)
    }

    private mutating func owe(_ path: String, _ owed: OwedFile) {
        if owedFiles.updateValue(owed, forKey: path) == nil {
            owedOrder.append(path)
            lastOwedTotal += 1
        }
    }

    private mutating func oweAppend(_ path: String, _ bytes: [UInt8]) {
        owedAppends.append((path, bytes))
        lastOwedTotal += 1
        if owedAppends.count > Self.appendLimit {
            owedAppends.removeFirst(owedAppends.count - Self.appendLimit)
            droppedAppends += 1
        }
    }

    private mutating func stall(_ path: String, _ error: Errno, now: Millis) {
        if stalledSince == nil {
            stalledSince = (now, error)
            transitions.append(.stalled(path: path, error: error))
        }
        backOff(now: now)
    }

    private mutating func backOff(now: Millis) {
        failuresInARow += 1
        retryAt = now + Self.retry.ceiling(failure: failuresInARow)
    }
}
