/// What `git merge-tree --write-tree -z --name-only --no-messages` printed.
public struct MergeTreeResult: Sendable, Equatable {
    /// The merged tree (with conflict markers in the conflicted files when there are any).
    public var tree: String
    /// The paths that conflict, in git's order, each once; empty for a clean merge.
    public var conflicts: [String]

    public init(tree: String, conflicts: [String]) {
        self.tree = tree
        self.conflicts = conflicts
    }
}

/// One entry of `git worktree list --porcelain`.
public struct WorktreeEntry: Sendable, Equatable {
    /// The worktree's folder.
    public var path: String
    /// The branch checked out there (`refs/heads/...` without the prefix), nil when detached.
    public var branch: String?

    public init(path: String, branch: String?) {
        self.path = path
        self.branch = branch
    }
}

/// Pure readers of the output of the git commands the runtime runs.
public enum GitText {
    /// Reads merge-tree's `-z --name-only --no-messages` output: the tree, then one
    /// NUL-terminated path per conflicted file. Nil when the output has no tree id.
    public static func mergeTree(_ bytes: [UInt8]) -> MergeTreeResult? {
        let fields = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard let first = fields.first?.split(separator: "\n").first.map(String.init),
            isObjectID(first)
        else { return nil }
        var seen: Set<String> = []
        var conflicts: [String] = []
        for field in fields.dropFirst() where !field.isEmpty && seen.insert(field).inserted {
            conflicts.append(field)
        }
        return MergeTreeResult(tree: first, conflicts: conflicts)
    }

    /// Reads `git worktree list --porcelain`: blocks of `worktree PATH`, `HEAD OID`,
    /// `branch refs/heads/NAME` (or `detached`), separated by empty lines.
    public static func worktrees(_ text: String) -> [WorktreeEntry] {
        var entries: [WorktreeEntry] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("worktree ") {
                entries.append(WorktreeEntry(path: String(line.dropFirst(9)), branch: nil))
            } else if line.hasPrefix("branch refs/heads/"), !entries.isEmpty {
                entries[entries.count - 1].branch = String(line.dropFirst(18))
            }
        }
        return entries
    }

    /// The agent id in an author name the runtime wrote (`swarm ID`), or nil.
    public static func agent(inAuthor name: String) -> String? {
        guard name.hasPrefix("swarm "), name.count > 6 else { return nil }
        return String(name.dropFirst(6))
    }

    /// True for a full hexadecimal object id (SHA-1 or SHA-256).
    public static func isObjectID(_ text: String) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64)
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
            }
    }
}
