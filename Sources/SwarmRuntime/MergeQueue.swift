import SwarmCore
import SwarmProtocol
import SwarmSystem

/// How landing an agent's branch ended: what `merge.json` in its folder says.
enum MergeStatus: Sendable, Equatable {
    /// Merged into `target` as `commit` (or found there already: nothing merges twice).
    case merged(commit: String, target: String)
    /// No target (a task from the inbox): the agent's branch, at `commit`, is the result.
    case committed(commit: String)
    /// The target is checked out in a worktree the runtime does not own: the result stays on
    /// the agent's branch (`swarm merge ID` lands it later).
    case kept(commit: String, target: String, reason: String)
    /// The merge conflicts in `paths`, which `siblings` changed on the target.
    case conflicted(target: String, paths: [String], siblings: [String])
    /// The merged tree failed the `verify:` command; `log` is the end of its output.
    case verifyFailed(target: String, command: String, exit: String, log: String)

    /// The word `merge.json` and children.json use.
    var word: String {
        switch self {
        case .merged: "merged"
        case .committed: "committed"
        case .kept: "kept"
        case .conflicted: "conflicted"
        case .verifyFailed: "verify-failed"
        }
    }

    /// What the scheduler hears: a result that landed (or was kept) is a success; a conflict
    /// and a failed check are failures whose reason is what the next attempt's brief shows.
    func outcome(branch: String) -> Outcome {
        switch self {
        case .merged, .committed, .kept:
            return .succeeded
        case .conflicted(let target, let paths, let siblings):
            let who =
                siblings.isEmpty
                ? "" : " (changed there by " + siblings.joined(separator: ", ") + ")"
            return .failed(
                .conflict,
                reason: "\(branch) conflicts with \(target) in \(paths.joined(separator: ", "))\(who); "
                    + "the next attempt starts again from \(target)'s new head")
        case .verifyFailed(let target, let command, let exit, let log):
            return .failed(
                .verify,
                reason: "the check `\(command)` failed (\(exit)) on the merge of \(branch) into \(target); "
                    + "last lines:\n\(log)")
        }
    }

    /// merge.json's object.
    func json(branch: String, time: Millis) -> JSONValue {
        var o = JSONObject()
        o["status"] = .string(word)
        o["branch"] = .string(branch)
        switch self {
        case .merged(let commit, let target):
            o["commit"] = .string(commit)
            o["target"] = .string(target)
        case .committed(let commit):
            o["commit"] = .string(commit)
        case .kept(let commit, let target, let reason):
            o["commit"] = .string(commit)
            o["target"] = .string(target)
            o["reason"] = .string(reason)
        case .conflicted(let target, let paths, let siblings):
            o["target"] = .string(target)
            o["paths"] = .array(paths.map(JSONValue.string))
            o["siblings"] = .array(siblings.map(JSONValue.string))
        case .verifyFailed(let target, let command, let exit, let log):
            o["target"] = .string(target)
            o["verify"] = .string(command)
            o["exit"] = .string(exit)
            o["log"] = .string(log)
        }
        o["time"] = .string(Timestamp.iso8601(milliseconds: time))
        return .object(o)
    }
}

/// Lands agents' branches in their targets, one merge at a time (the daemon's loop runs them
/// in the order the agents finish, so each target branch sees a serial queue). A merge
/// touches no checkout: `git merge-tree --write-tree` finds the merged tree or the
/// conflicts, `git commit-tree` makes the merge commit, the optional `verify:` command runs
/// in a temporary worktree of that commit, and `git update-ref TARGET NEW OLD` moves the
/// target only if nobody moved it meanwhile. A crash at any point leaves the target before
/// or after the merge; landing again finds the branch merged (`merge-base --is-ancestor`).
struct MergeQueue: Sendable {
    let workspace: Workspace
    let git: Git
    /// Keeps an orchestrator's worktree in step with its branch as merges move it.
    var worktrees: Worktrees { Worktrees(workspace: workspace, git: git) }
    /// How long a `verify:` command may run.
    static let verifyTimeout: Millis = 1_800_000
    /// Lines of a failed check's output kept in the failure's reason.
    static let logLines = 30
    /// Times a merge starts again when the target moved between reading it and moving it.
    static let casAttempts = 5

    /// Lands the branch of agent `id` (bound by `binding`) in its target, with `verify` run on
    /// the merged tree first when it is given. Once `cancellation` is set the check is killed
    /// and the target is not moved (the landing throws).
    func land(
        _ id: String, binding: GitBinding, summary: String, verify: String?, cancellation: Cancellation? = nil
    ) throws(GitError) -> MergeStatus {
        let branch = GitBinding.branch(of: id)
        let repo = binding.repo
        guard let head = try git.commit("refs/heads/" + branch, in: repo) else {
            throw GitError("the branch \(branch) of \(id) is gone from \(repo); nothing can be merged")
        }
        guard let target = binding.target else { return .committed(commit: head) }
        for _ in 0..<Self.casAttempts {
            guard let old = try git.commit("refs/heads/" + target, in: repo) else {
                throw GitError("the target branch \(target) of \(id) is gone from \(repo)")
            }
            if try git.isAncestor(head, of: old, in: repo) { return .merged(commit: old, target: target) }
            if let holder = try foreignCheckout(of: target, repo: repo) {
                return .kept(
                    commit: head, target: target,
                    reason: "\(target) is checked out in \(holder), a worktree swarm does not own; the "
                        + "runtime never moves it. Switch that worktree to another branch and run swarm merge \(id)"
                )
            }
            let merge = try git.run(
                ["merge-tree", "--write-tree", "-z", "--name-only", "--no-messages", old, head], in: repo)
            guard case .exited(let code)? = merge.status, code == 0 || code == 1,
                let result = GitText.mergeTree(merge.stdout)
            else { throw GitError("git merge-tree failed in \(repo): \(merge.complaint)") }
            if code == 1 {
                return .conflicted(
                    target: target, paths: result.conflicts,
                    siblings: try siblings(
                        touching: result.conflicts, on: old, notIn: head, except: id, repo: repo))
            }
            let message = "Merge \(branch) into \(target)\n\n\(summary)\n"
            let commit = try git.check(
                ["commit-tree", result.tree, "-p", old, "-p", head, "-F", "-"], in: repo,
                identity: "swarm " + id,
                input: Array(message.utf8))
            if let verify, !verify.isEmpty,
                let failure = try check(
                    verify, on: commit, id: id, target: target, repo: repo, cancellation: cancellation)
            {
                return failure
            }
            if cancellation?.isCancelled == true {
                throw GitError("the landing of \(branch) was stopped before \(target) moved")
            }
            let moved = try Worktrees.moving { () throws(GitError) -> Bool in
                let holders = try ownedCheckouts(of: target, repo: repo)
                for holder in holders { worktrees.willMove(holder, from: old) }
                guard try git.run(["update-ref", "refs/heads/" + target, commit, old], in: repo).succeeded
                else {
                    return false
                }
                // the parent's worktree follows; what cannot follow now is owed (its marker) and
                // done before that worktree is used or committed again
                for holder in holders { try? worktrees.resync(holder) }
                return true
            }
            if moved { return .merged(commit: commit, target: target) }
        }
        throw GitError("\(target) kept moving while \(branch) was merged into it; the merge is tried again")
    }

    /// The worktree outside the runtime's agent folders that has `branch` checked out.
    private func foreignCheckout(of branch: String, repo: String) throws(GitError) -> String? {
        let holders = GitText.worktrees(try git.check(["worktree", "list", "--porcelain"], in: repo))
            .filter { $0.branch == branch }
        return holders.first { !isOwned($0.path) }?.path
    }

    /// True for a worktree inside an agent's folder.
    private func isOwned(_ path: String) -> Bool {
        let agents = FileSystem.realPath(workspace.agentsDirectory) ?? workspace.agentsDirectory
        let real = FileSystem.realPath(path) ?? path
        return real.hasPrefix(agents + "/") && real.hasSuffix("/worktree")
    }

    /// The runtime-owned worktrees (an orchestrator's) that have `branch` checked out.
    private func ownedCheckouts(of branch: String, repo: String) throws(GitError) -> [String] {
        GitText.worktrees(try git.check(["worktree", "list", "--porcelain"], in: repo))
            .filter { $0.branch == branch && isOwned($0.path) }.map(\.path)
    }

    /// The agents whose commits on the target (since the agent's branch left it) changed
    /// `paths`.
    private func siblings(
        touching paths: [String], on target: String, notIn head: String, except id: String, repo: String
    ) throws(GitError) -> [String] {
        guard !paths.isEmpty else { return [] }
        let authors = try git.check(["log", "--format=%an", target, "^" + head, "--"] + paths, in: repo)
        var seen: Set<String> = []
        return authors.split(separator: "\n").compactMap { GitText.agent(inAuthor: String($0)) }
            .filter { $0 != id && seen.insert($0).inserted }
    }

    /// Runs `verify` in a temporary worktree of `commit`; its output is kept as `verify.log`
    /// in the agent's folder. Nil when it passed.
    private func check(
        _ verify: String, on commit: String, id: String, target: String, repo: String,
        cancellation: Cancellation?
    ) throws(GitError) -> MergeStatus? {
        let files = workspace.agentFiles(id)
        let folder = files.directory + "/verify"
        if FileSystem.exists(folder) {
            _ = try? git.run(["worktree", "remove", "--force", folder], in: repo)
            try? FileSystem.removeTree(folder)
        }
        _ = try? git.run(["worktree", "prune"], in: repo)
        try git.check(["worktree", "add", "--quiet", "--detach", folder, commit], in: repo)
        defer {
            _ = try? git.run(["worktree", "remove", "--force", folder], in: repo)
            try? FileSystem.removeTree(folder)
        }
        let output: CommandOutput
        do {
            output = try CommandRunner.run(
                "/bin/sh", ["-c", verify],
                environment: git.environment + ["SWARM_AGENT_ID=" + id, "SWARM_MERGE_COMMIT=" + commit],
                workingDirectory: folder, timeoutMilliseconds: Self.verifyTimeout, cancellation: cancellation)
        } catch {
            throw GitError("verify: \(verify) cannot be run: \(error)")
        }
        if cancellation?.isCancelled == true {
            throw GitError("the landing of \(GitBinding.branch(of: id)) was stopped during verify: \(verify)")
        }
        let log = output.stdout + output.stderr
        try? FileSystem.writeAtomically(files.directory + "/verify.log", log)
        guard !output.succeeded else { return nil }
        let lines = String(decoding: log, as: UTF8.self).split(separator: "\n").suffix(Self.logLines)
        return .verifyFailed(
            target: target, command: verify,
            exit: output.status.map(ResultReader.describeExit) ?? "killed after its deadline",
            log: lines.joined(separator: "\n"))
    }
}
