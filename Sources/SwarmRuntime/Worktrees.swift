import SwarmCore
import SwarmProtocol
import SwarmSystem
import Synchronization

/// Held while a runtime-owned worktree's branch moves and the worktree is brought along, and
/// while a worktree is brought up to date for a run: landings run on their own thread, and a
/// worktree brought along by one thread while another reads its marker could be left behind
/// its branch (and its next commit would undo a merge).
private let worktreeMoves = Mutex(())

/// The agents' worktrees: each agent on a repository works in `agents/<id>/worktree` on
/// branch `swarm/<id>`. Nothing here touches the user's checkout: a worktree is created from a
/// commit, and the user's index, files and checked-out branch are never written.
struct Worktrees: Sendable {
    let workspace: Workspace
    let git: Git
    /// How long a template's `setup:` command may run.
    static let setupTimeout: Millis = 600_000
    /// The file of a repository that lists untracked files to copy into each worktree.
    static let includeFile = ".worktreeinclude"

    /// The worktree folder of agent `id`.
    func path(of id: String) -> String { workspace.agentFiles(id).directory + "/worktree" }

    /// The ref that holds where agent `id`'s current work started (`swarm diff` compares
    /// against it); agents cannot write it.
    static func baseRef(of id: String) -> String { "refs/swarm/base/" + id }

    /// Runtime-owned, beside a worktree whose branch the merge queue moves: the commit that
    /// worktree's index and files show, until they are brought to the branch's head.
    static func syncMarker(of folder: String) -> String { folder + ".synced" }

    /// Before the merge queue moves the branch checked out in the runtime-owned worktree
    /// `folder` away from `old`: notes `old` (unless an earlier move is still owed), so that a
    /// crash before `resync` cannot make the worktree look as if it undid the merge.
    func willMove(_ folder: String, from old: String) {
        let marker = Self.syncMarker(of: folder)
        guard !FileSystem.exists(marker) else { return }
        try? FileSystem.writeAtomically(marker, Array((old + "\n").utf8), durable: true)
    }

    /// Runs `body` while no other thread moves a worktree's branch or brings a worktree along.
    static func moving<Value>(_ body: () throws(GitError) -> Value) throws(GitError) -> Value {
        try worktreeMoves.withLock { _ throws(GitError) -> Value in try body() }
    }

    /// Brings the worktree `folder` from the commit its marker names to its branch's head
    /// (`git read-tree -m -u`, which keeps the agent's own uncommitted changes), then drops
    /// the marker. Throws when the agent's changes stand in the way.
    func resync(_ folder: String) throws(GitError) {
        let marker = Self.syncMarker(of: folder)
        guard let bytes = try? FileSystem.readFile(marker, limit: 256) else { return }
        let from = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        if GitText.isObjectID(from) {
            let head = try git.check(["rev-parse", "HEAD"], in: folder)
            if head != from {
                let moved = try git.run(["read-tree", "-m", "-u", from, head], in: folder)
                guard moved.succeeded else {
                    throw GitError(
                        "the worktree \(folder) cannot be brought from \(from) to its branch's head \(head), which "
                            + "merges moved: \(moved.complaint); commit or undo the changes there that stand in the way"
                    )
                }
            }
        }
        try? FileSystem.remove(marker)
    }

    /// Makes agent `id`'s worktree ready for a run and returns its folder. The first run
    /// creates it (branch `swarm/<id>` from the binding's base; the files `.worktreeinclude`
    /// lists copied in; `setup` run in it); a later run reuses it. A run after a conflict
    /// starts again on top of the target's new head (`restart`), the previous work kept in
    /// the branch's reflog.
    func prepare(_ id: String, binding: GitBinding, setup: String?, restartOnTarget: Bool) throws(GitError)
        -> String
    {
        let folder = path(of: id)
        let branch = GitBinding.branch(of: id)
        if FileSystem.exists(folder + "/.git") {
            try Self.moving { () throws(GitError) in
                try resync(folder)
                if restartOnTarget, let target = binding.target {
                    try git.check(["reset", "--hard", "--quiet", "refs/heads/" + target], in: folder)
                    try git.check(["clean", "-fdq"], in: folder)
                    try git.check(
                        ["update-ref", Self.baseRef(of: id), "refs/heads/" + target], in: binding.repo)
                    copyIncluded(from: binding.repo, to: folder)
                }
            }
            return folder
        }
        // a folder left by a crash halfway through `worktree add`, or a stale registration
        _ = try? git.run(["worktree", "prune"], in: binding.repo)
        if FileSystem.exists(folder) { try? FileSystem.removeTree(folder) }
        if try git.commit("refs/heads/" + branch, in: binding.repo) != nil {
            try git.check(["worktree", "add", "--quiet", folder, branch], in: binding.repo)
        } else {
            guard let start = try git.commit(binding.base, in: binding.repo) else {
                throw GitError(
                    "the base \(binding.base) of \(id) no longer names a commit of \(binding.repo); "
                        + "recreate it, or swarm retry a task with another base:")
            }
            try git.check(["update-ref", Self.baseRef(of: id), start], in: binding.repo)
            try git.check(["worktree", "add", "--quiet", "-b", branch, folder, start], in: binding.repo)
        }
        copyIncluded(from: binding.repo, to: folder)
        if let setup, !setup.isEmpty { try runSetup(setup, id: id, in: folder) }
        return folder
    }

    /// Copies what the repository's `.worktreeinclude` lists (one path per line, relative to
    /// the repository; `#` comments) from the user's checkout into `folder`, when it exists
    /// there and is a regular file inside the repository.
    private func copyIncluded(from repo: String, to folder: String) {
        guard let bytes = try? FileSystem.readFile(repo + "/" + Self.includeFile, limit: 64 << 10) else {
            return
        }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let name = line.withoutBlanksAtEnds
            guard !name.isEmpty, !name.hasPrefix("#"), !name.hasPrefix("/"),
                !name.split(separator: "/").contains("..")
            else { continue }
            guard !Self.crossesSymlink(name, in: repo), !Self.crossesSymlink(name, in: folder),
                FileSystem.status(repo + "/" + name)?.kind == .regular,
                let content = try? FileSystem.readFile(repo + "/" + name, limit: 16 << 20)
            else { continue }
            if let slash = name.lastIndex(of: "/") {
                try? FileSystem.makeDirectory(folder + "/" + name[..<slash])
            }
            try? FileSystem.writeAtomically(folder + "/" + name, content)
        }
    }

    /// True when a folder on the way to `name` below `base` is a symbolic link (a copy
    /// through it could read or write outside the repository or the worktree).
    static func crossesSymlink(_ name: String, in base: String) -> Bool {
        var path = base
        for component in name.split(separator: "/").dropLast() {
            path += "/" + component
            if FileSystem.status(path)?.kind == .symlink { return true }
        }
        return false
    }

    /// Runs the template's `setup:` command in the new worktree; its output goes to
    /// `setup.log` in the agent's folder.
    private func runSetup(_ command: String, id: String, in folder: String) throws(GitError) {
        let log = workspace.agentFiles(id).directory + "/setup.log"
        let output: CommandOutput
        do {
            output = try CommandRunner.run(
                "/bin/sh", ["-c", command], environment: git.environment, workingDirectory: folder,
                timeoutMilliseconds: Self.setupTimeout)
        } catch {
            throw GitError("setup: \(command) cannot be run: \(error)")
        }
        try? FileSystem.writeAtomically(log, output.stdout + output.stderr)
        guard output.succeeded else {
            let how = output.status.map(ResultReader.describeExit) ?? "took too long"
            throw GitError(
                "setup: \(command) failed in the worktree (\(how)): \(output.complaint); see \(log)")
        }
    }

    /// Commits what the agent left uncommitted in its worktree, as `swarm <id>`, with
    /// `message`. Returns the branch's head afterwards.
    @discardableResult
    func commitLeftovers(_ id: String, message: String, repo: String) throws(GitError) -> String {
        let folder = path(of: id)
        let branch = GitBinding.branch(of: id)
        guard FileSystem.exists(folder + "/.git") else {
            guard let head = try git.commit("refs/heads/" + branch, in: repo) else {
                throw GitError("the worktree of \(id) (\(folder)) and its branch \(branch) are gone")
            }
            return head
        }
        try Self.moving { () throws(GitError) in try resync(folder) }
        let status = try git.run(["status", "--porcelain"], in: folder)
        if status.succeeded, !status.stdout.isEmpty {
            try git.check(["add", "-A"], in: folder)
            try git.check(
                ["commit", "--quiet", "--no-verify", "-F", "-"], in: folder, identity: "swarm " + id,
                input: Array(message.utf8))
        }
        return try git.check(["rev-parse", "HEAD"], in: folder)
    }

    /// Removes agent `id`'s worktree (its branch stays).
    func remove(_ id: String, repo: String) {
        let folder = path(of: id)
        try? FileSystem.remove(Self.syncMarker(of: folder))
        guard FileSystem.exists(folder) else { return }
        if (try? git.run(["worktree", "remove", "--force", folder], in: repo))?.succeeded != true {
            try? FileSystem.removeTree(folder)
            _ = try? git.run(["worktree", "prune"], in: repo)
        }
    }

    /// What a confined run of agent `id` may write besides its folder so that a commit in its
    /// worktree works: the repository's object store, the branches and reflogs under
    /// `swarm/`, and the worktree's own admin folder. Nothing else of the repository.
    func writablePaths(_ id: String, repo: String) -> [String] {
        let folder = path(of: id)
        guard
            let common = try? git.check(
                ["rev-parse", "--path-format=absolute", "--git-common-dir"], in: folder),
            let own = try? git.check(["rev-parse", "--path-format=absolute", "--git-dir"], in: folder)
        else { return [] }
        for directory in [common + "/refs/heads/swarm", common + "/logs/refs/heads/swarm"] {
            try? FileSystem.makeDirectory(directory)
        }
        return [common + "/objects", common + "/refs/heads/swarm", common + "/logs/refs/heads/swarm", own]
            .filter(FileSystem.exists)
    }
}

extension Substring {
    /// The text without spaces, tabs and carriage returns at either end.
    fileprivate var withoutBlanksAtEnds: String {
        var s = self
        while let first = s.first, first.isWhitespace { s = s.dropFirst() }
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
