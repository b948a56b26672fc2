import SwarmCore
import SwarmProtocol
import SwarmSystem

/// What `swarm gc` removed.
public struct GarbageReport: Sendable, Equatable {
    /// Branches of merged agents that were deleted.
    public var branches: [String]
    /// Worktrees of settled agents that were removed.
    public var worktrees: [String]
}

/// The operator's commands on agents' branches: `swarm diff`, `swarm merge`, `swarm pr`,
/// `swarm gc`. Each goes through the same owners as the daemon (`Worktrees`, `MergeQueue`),
/// so a merge by hand is the same compare-and-swap as one by the runtime.
public struct BranchCommands: Sendable {
    let workspace: Workspace
    let git: Git
    let environment: [String]

    /// Commands on `workspace`, running git and gh with `environment`.
    public init(workspace: Workspace, environment: [String: String]) {
        self.workspace = workspace
        self.environment = environment.filter { !$0.key.hasPrefix("SWARM_") }.map { "\($0.key)=\($0.value)" }
        self.git = Git(environment: self.environment)
    }

    /// The agent `id`'s record and binding; an error when it has no repository.
    private func bound(_ id: String) throws(SwarmError) -> (AgentRecord, GitBinding) {
        guard AgentID.problem(with: id) == nil, let record = MetaStore.read(workspace.agentFiles(id).meta)
        else {
            throw SwarmError("no agent \(id) in \(workspace.root); `swarm status` lists them")
        }
        guard let binding = record.git else {
            throw SwarmError("\(id) works on no repository (its task and template have no repo:)")
        }
        return (record, binding)
    }

    /// `swarm diff ID`: what the agent changed, against where its current work started.
    public func diff(_ id: String) throws(SwarmError) -> String {
        let (_, binding) = try bound(id)
        let branch = "refs/heads/" + GitBinding.branch(of: id)
        do {
            let start: String
            if let recorded = try git.commit(Worktrees.baseRef(of: id), in: binding.repo) {
                start = recorded
            } else {
                start = try git.check(["merge-base", branch, binding.base], in: binding.repo)
            }
            return try git.check(["diff", "--no-color", start, branch], in: binding.repo)
        } catch {
            throw SwarmError("cannot show the changes of \(id): \(error.message)")
        }
    }

    /// `swarm merge ID`: lands a done agent's kept result in its target, as the runtime would.
    public func merge(_ id: String) throws(SwarmError) -> String {
        let (record, binding) = try bound(id)
        guard record.state == .done else {
            throw SwarmError(
                "\(id) is \(record.state.rawValue); only a done agent's result is merged by hand (swarm retry "
                    + "runs a failed one again)")
        }
        guard let target = binding.target else {
            throw SwarmError(
                "\(id) came from the inbox, so its branch \(GitBinding.branch(of: id)) is the result and has no "
                    + "target; merge it yourself, e.g. git merge \(GitBinding.branch(of: id)), or run swarm pr \(id)"
            )
        }
        let summary = CodeFanIn.summary(
            of: try? ResultReader.read(workspace.agentFiles(id).results)?.get(), id: id)
        let status: MergeStatus
        do {
            status = try MergeQueue(workspace: workspace, git: git).land(
                id, binding: binding, summary: summary, verify: binding.verify)
        } catch {
            throw SwarmError("cannot merge \(id): \(error.message)")
        }
        let branch = GitBinding.branch(of: id)
        try? FileSystem.writeAtomically(
            workspace.agentFiles(id).mergeReport,
            JSON.encodeBytes(status.json(branch: branch, time: Clock.wallMilliseconds()), pretty: true)
        )
        switch status {
        case .merged(let commit, _):
            Worktrees(workspace: workspace, git: git).remove(id, repo: binding.repo)
            return "merged \(branch) into \(target) as \(commit)"
        case .committed(let commit):
            return "\(branch) is at \(commit)"
        case .kept(_, _, let reason):
            throw SwarmError(
                "\(branch) was not merged: \(reason); or run git merge \(branch) in that worktree")
        case .conflicted(_, let paths, _):
            throw SwarmError(
                "\(branch) conflicts with \(target) in \(paths.joined(separator: ", ")); merge it by hand "
                    + "(git switch \(target) && git merge \(branch)) or swarm retry the parent's task")
        case .verifyFailed(_, let command, let exit, let log):
            throw SwarmError(
                "the check \(command) failed (\(exit)) on the merge, so \(target) did not move; its log ends:\n\(log)"
            )
        }
    }

    /// `swarm pr ID`: a pull request of the agent's branch, through `gh` (which must be on
    /// PATH and logged in); prints what gh prints.
    public func pullRequest(_ id: String) throws(SwarmError) -> String {
        let (_, binding) = try bound(id)
        let branch = GitBinding.branch(of: id)
        let summary = CodeFanIn.summary(
            of: try? ResultReader.read(workspace.agentFiles(id).results)?.get(), id: id)
        var arguments = [
            "pr", "create", "--head", branch, "--title", summary, "--body",
            "The result of swarm agent \(id) (branch \(branch)).",
        ]
        if let target = binding.target { arguments += ["--base", target] }
        let output: CommandOutput
        do {
            output = try CommandRunner.run(
                "gh", arguments, environment: environment, workingDirectory: binding.repo,
                timeoutMilliseconds: 120_000)
        } catch .noSuchFile {
            throw SwarmError(
                "gh (the GitHub CLI) is not on PATH; install it and run gh auth login, or push \(branch) and "
                    + "open the pull request yourself")
        } catch {
            throw SwarmError("gh cannot be run: \(error)")
        }
        guard output.succeeded else {
            throw SwarmError("gh pr create failed for \(branch): \(output.complaint)")
        }
        return output.text
    }

    /// `swarm gc`: removes the worktrees of settled agents and the branches of agents whose
    /// branch is merged into its target (a branch from the inbox is a result: it stays).
    public func collect() throws(SwarmError) -> GarbageReport {
        var report = GarbageReport(branches: [], worktrees: [])
        for record in MetaStore.loadAll(workspace).records where record.state.isSettled {
            guard let binding = record.git else { continue }
            let worktrees = Worktrees(workspace: workspace, git: git)
            if FileSystem.exists(worktrees.path(of: record.id)) {
                worktrees.remove(record.id, repo: binding.repo)
                report.worktrees.append(worktrees.path(of: record.id))
            }
            let branch = GitBinding.branch(of: record.id)
            guard record.state == .done, let target = binding.target,
                let head = try? git.commit("refs/heads/" + branch, in: binding.repo),
                let into = try? git.commit("refs/heads/" + target, in: binding.repo),
                (try? git.isAncestor(head, of: into, in: binding.repo)) == true
            else { continue }
            if (try? git.run(["update-ref", "-d", "refs/heads/" + branch, head], in: binding.repo))?.succeeded
                == true
            {
                _ = try? git.run(["update-ref", "-d", Worktrees.baseRef(of: record.id)], in: binding.repo)
                report.branches.append(branch)
            }
        }
        return report
    }
}
