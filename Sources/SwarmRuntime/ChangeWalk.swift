import SwarmSystem

/// The newest modification under a schedule's `when-changed:` paths: a bounded walk that
/// never follows a symbolic link, never looks into `.git` folders nor into the runtime's
/// `swarm/agents/` (nor into `swarm/` at all when it meets it below a path: the runtime
/// rewrites its files all the time), and stops after `entryLimit` entries (one `lstat` each) so that one look
/// costs the daemon's loop a few milliseconds at most.
public enum ChangeWalk {
    /// Entries looked at, at most, in one walk over all of a schedule's paths.
    public static let entryLimit = 10_000

    /// What one walk found.
    public struct Result: Sendable, Equatable {
        /// The newest modification time seen, in nanoseconds since the epoch; nil when every
        /// path is missing.
        public var newest: Int64?
        /// The paths (as written) that do not exist: they count as unchanged.
        public var missing: [String]
        /// True when the walk stopped at `entryLimit`: the schedule then counts as changed.
        public var cut: Bool
    }

    /// `path` as the walk reads it: absolute ones as they are, others under the workspace root.
    public static func resolve(_ path: String, in workspace: Workspace) -> String {
        let full = path.hasPrefix("/") ? path : workspace.root + "/" + path
        let parts = full.split(separator: "/").filter { $0 != "." }
        return "/" + parts.joined(separator: "/")
    }

    /// Walks `paths` (relative to the workspace root, or absolute), looking at `limit` entries
    /// at most.
    public static func newest(_ paths: [String], in workspace: Workspace, limit: Int = entryLimit) -> Result {
        var result = Result(newest: nil, missing: [], cut: false)
        var budget = limit
        let skipped: Set<String> = [workspace.agentsDirectory, workspace.swarmDirectory]
        for path in paths {
            let full = resolve(path, in: workspace)
            guard let status = FileSystem.status(full) else {
                result.missing.append(path)
                continue
            }
            budget -= 1
            note(status.modifiedNanos, in: &result)
            if status.kind == .directory, full != workspace.agentsDirectory {
                walk(full, skipped: skipped, budget: &budget, into: &result)
            }
            if budget <= 0 {
                result.cut = true
                break
            }
        }
        return result
    }

    private static func walk(
        _ directory: String, skipped: Set<String>, budget: inout Int, into result: inout Result
    ) {
        var pending = [directory]
        while let folder = pending.popLast() {
            for entry in (try? FileSystem.entries(of: folder)) ?? [] {
                guard budget > 0 else {
                    result.cut = true
                    return
                }
                let path = folder + "/" + entry.name
                budget -= 1
                guard let status = FileSystem.status(path) else { continue }
                note(status.modifiedNanos, in: &result)
                if status.kind == .directory, entry.name != ".git", !skipped.contains(path) {
                    pending.append(path)
                }
            }
        }
    }

    private static func note(_ nanos: Int64, in result: inout Result) {
        result.newest = max(result.newest ?? nanos, nanos)
    }
}
