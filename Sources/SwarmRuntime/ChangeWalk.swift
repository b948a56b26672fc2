import SwarmSystem

/// The newest modification under a schedule's `when-changed:` paths: a walk that never follows
/// a symbolic link, never looks into `.git` folders nor into the runtime's `swarm/agents/`
/// (nor into `swarm/` at all when it meets it below a path: the runtime rewrites its files all
/// the time), and is done in steps: the daemon looks at `entriesPerStep` entries (one `lstat`
/// each, about 3 µs) per turn of its loop, so a large tree never holds the loop up, and stops
/// after `entryLimit` entries in all.
public struct ChangeWalk: Sendable {
    /// Entries looked at per step: about 3 ms of the daemon's loop.
    public static let entriesPerStep = 1_000
    /// Entries looked at, at most, in one walk over all of a schedule's paths.
    public static let entryLimit = 100_000

    /// What a walk found.
    public struct Result: Sendable, Equatable {
        /// The newest modification time seen, in nanoseconds since the epoch; nil when every
        /// path is missing.
        public var newest: Int64?
        /// The paths (as written) that do not exist: they count as unchanged.
        public var missing: [String]
        /// True when the walk stopped at its limit: the schedule then counts as changed.
        public var cut: Bool
    }

    /// What was found so far (all of it once `step` returned true).
    public private(set) var result = Result(newest: nil, missing: [], cut: false)
    private let workspace: Workspace
    /// The paths not started yet, last first.
    private var paths: [String]
    /// Folders still to list, and the listed entries of the folder being looked at.
    private var folders: [String] = []
    private var current: (folder: String, names: [String], index: Int)?
    private var budget: Int

    /// A walk of `paths` (relative to the workspace root, or absolute) that looks at `limit`
    /// entries at most.
    public init(_ paths: [String], in workspace: Workspace, limit: Int = entryLimit) {
        self.workspace = workspace
        self.paths = paths.reversed()
        self.budget = limit
    }

    /// `path` as the walk reads it: absolute ones as they are, others under the workspace root.
    public static func resolve(_ path: String, in workspace: Workspace) -> String {
        let full = path.hasPrefix("/") ? path : workspace.root + "/" + path
        let parts = full.split(separator: "/").filter { $0 != "." }
        return "/" + parts.joined(separator: "/")
    }

    /// The whole walk at once (for tests and tools; the daemon walks in steps).
    public static func newest(_ paths: [String], in workspace: Workspace, limit: Int = entryLimit) -> Result {
        var walk = ChangeWalk(paths, in: workspace, limit: limit)
        while !walk.step() {}
        return walk.result
    }

    /// Looks at up to `count` more entries; true when the walk is over.
    public mutating func step(_ count: Int = entriesPerStep) -> Bool {
        var left = count
        while left > 0 {
            guard budget > 0 else {
                result.cut = !isOver
                return true
            }
            if var listing = current {
                guard listing.index < listing.names.count else {
                    current = nil
                    continue
                }
                let name = listing.names[listing.index]
                listing.index += 1
                current = listing
                look(at: listing.folder + "/" + name, name: name)
            } else if let folder = folders.popLast() {
                let names = ((try? FileSystem.entries(of: folder)) ?? []).map(\.name)
                current = (folder, names, 0)
                continue
            } else if let path = paths.popLast() {
                let full = Self.resolve(path, in: workspace)
                guard let status = FileSystem.status(full) else {
                    result.missing.append(path)
                    continue
                }
                note(status.modifiedNanos)
                if status.kind == .directory, full != workspace.agentsDirectory { folders.append(full) }
            } else {
                return true
            }
            budget -= 1
            left -= 1
        }
        return isOver
    }

    /// True when nothing is left to look at.
    private var isOver: Bool {
        paths.isEmpty && folders.isEmpty && (current.map { $0.index >= $0.names.count } ?? true)
    }

    private mutating func look(at path: String, name: String) {
        guard let status = FileSystem.status(path) else { return }
        note(status.modifiedNanos)
        let skipped = name == ".git" || path == workspace.agentsDirectory || path == workspace.swarmDirectory
        if status.kind == .directory, !skipped { folders.append(path) }
    }

    private mutating func note(_ nanos: Int64) {
        result.newest = max(result.newest ?? nanos, nanos)
    }
}
