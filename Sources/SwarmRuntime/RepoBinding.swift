import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Intake's part of code fan-in: which repository a task works on (task key `repo:`, else
/// its template's, else its parent's) and where its branch starts (`base:`, else the
/// repository's HEAD; a child of an orchestrator on the same repository starts from the
/// parent's branch and merges back into it, with the parent's `setup:` and `verify:` unless it
/// names its own). Every check that can be made before the agent
/// exists is made here, so that a bad task is refused with a reason instead of failing later.
enum RepoBinding {
    /// The binding of a task, nil when it names no repository, or why it cannot be taken.
    static func resolve(
        task: TaskSpec, template: Template, parent: AgentRecord?, workspace: Workspace, git: Git, id: String
    ) -> Result<GitBinding?, SwarmError> {
        let templateValue = { (key: String) in template.fields.last { $0.key == key }?.value }
        let value = { (key: String) in
            (task.value(key) ?? templateValue(key)).flatMap { $0.isEmpty ? nil : $0 }
        }
        let bound = bind(task: task, template: template, parent: parent, workspace: workspace, git: git)
        if case .success(let found?) = bound,
            (try? git.commit("refs/heads/" + GitBinding.branch(of: id), in: found.repo)) ?? nil != nil
        {
            return .failure(
                SwarmError(
                    "the branch \(GitBinding.branch(of: id)) already exists in \(found.repo), from an earlier run; "
                        + "delete it (git branch -D \(GitBinding.branch(of: id))) or give the task another id:"
                ))
        }
        return bound.map {
            $0.map { found in
                // a child merging into its parent's branch keeps the parent's setup and check
                let inherited = found.target != nil ? parent?.git : nil
                var binding = found
                binding.setup = value("setup") ?? inherited?.setup
                binding.verify = value("verify") ?? inherited?.verify
                return binding
            }
        }
    }

    private static func bind(
        task: TaskSpec, template: Template, parent: AgentRecord?, workspace: Workspace, git: Git
    ) -> Result<GitBinding?, SwarmError> {
        let templateValue = { (key: String) in template.fields.last { $0.key == key }?.value }
        let named = task.value("repo") ?? templateValue("repo")
        let baseText = task.value("base") ?? templateValue("base")
        guard let named, !named.isEmpty else {
            guard let inherited = parent?.git else { return .success(nil) }
            let parentBranch = GitBinding.branch(of: parent?.id ?? "")
            if let baseText, !baseText.isEmpty {
                return .failure(
                    SwarmError(
                        "base: \(baseText) needs repo: as well; a child of \(parent?.id ?? "") without repo: "
                            + "works on its parent's repository from its parent's branch"))
            }
            return .success(GitBinding(repo: inherited.repo, base: parentBranch, target: parentBranch))
        }
        let path = LaunchPlanner.resolve(named, root: workspace.root)
        do {
            guard FileSystem.statusFollowing(path)?.kind == .directory else {
                throw GitError(
                    "repo: \(named) is \(path), which is not a folder; name a git repository (relative to "
                        + "\(workspace.root), or absolute)")
            }
            let top = try git.run(["rev-parse", "--show-toplevel"], in: path)
            let repo = top.text.split(separator: "\n").first.map(String.init) ?? ""
            guard top.succeeded, !repo.isEmpty else {
                throw GitError(
                    "repo: \(named) (\(path)) is not a git repository with a working tree; run git init there, "
                        + "or name the repository's folder")
            }
            let gitDirectory = try git.check(
                ["rev-parse", "--path-format=absolute", "--git-common-dir"], in: repo)
            if FileSystem.exists(gitDirectory + "/index.lock") {
                throw GitError(
                    "repo: \(named) is locked (\(gitDirectory)/index.lock exists): another git command runs there, "
                        + "or one crashed; wait for it, or remove that file when no git runs, then drop the task again"
                )
            }
            if let parentGit = parent?.git, parentGit.repo == repo, baseText == nil {
                let parentBranch = GitBinding.branch(of: parent?.id ?? "")
                return .success(GitBinding(repo: repo, base: parentBranch, target: parentBranch))
            }
            let base = try resolveBase(baseText, repo: repo, named: named, git: git)
            return .success(GitBinding(repo: repo, base: base, target: nil))
        } catch let error as GitError {
            return .failure(SwarmError(error.message))
        } catch {
            return .failure(SwarmError("\(error)"))
        }
    }

    /// The commit `base:` names (HEAD when it is absent). With the default base, a checkout
    /// with uncommitted changes to tracked files is refused: they would not be in the agent's
    /// worktree.
    private static func resolveBase(_ text: String?, repo: String, named: String, git: Git) throws(GitError)
        -> String
    {
        let revision = (text?.isEmpty ?? true) ? "HEAD" : text!
        guard let commit = try git.commit(revision, in: repo) else {
            if revision == "HEAD" {
                throw GitError(
                    "repo: \(named) has no commit yet (HEAD names nothing); commit something first, "
                        + "or name base: BRANCH")
            }
            throw GitError(
                "base: \(revision) names no branch or commit of \(repo); name one that exists (git branch "
                    + "lists them), or leave base: out to start from HEAD")
        }
        if revision == "HEAD" {
            let status = try git.run(["status", "--porcelain", "--untracked-files=no"], in: repo)
            if status.succeeded, !status.stdout.isEmpty {
                let first = status.text.split(separator: "\n").first.map { String($0.dropFirst(3)) } ?? ""
                throw GitError(
                    "repo: \(named) has uncommitted changes (\(first)...), which an agent's worktree would not "
                        + "hold; commit or stash them, or name base: BRANCH to start from a commit")
            }
        }
        return commit
    }
}
