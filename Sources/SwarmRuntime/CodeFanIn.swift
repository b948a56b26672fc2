import SwarmCore
import SwarmProtocol
import SwarmSystem

/// What a run on a repository is given: its worktree as working directory, and what it may
/// write for a commit there to work.
struct WorktreeGrant: Sendable, Equatable {
    var folder: String
    var writable: [String]
}

/// Code fan-in through git, as the daemon uses it: before a run, the agent's worktree
/// (`Worktrees`); after a good result, what the agent left uncommitted is committed and its
/// branch lands in its target (`MergeQueue`); the agent's brief says why an attempt did not
/// land. The daemon keeps the wiring; this owner keeps the decisions.
struct CodeFanIn: Sendable {
    let workspace: Workspace
    let git: Git
    let worktrees: Worktrees
    let queue: MergeQueue

    /// The line task.md's note about the previous attempt starts with.
    static let noteMarker = "## Why your previous attempt did not land"

    init(workspace: Workspace, git: Git) {
        self.workspace = workspace
        self.git = git
        self.worktrees = Worktrees(workspace: workspace, git: git)
        self.queue = MergeQueue(workspace: workspace, git: git)
    }

    /// The worktree of `record` ready for the run woken for `wake`.
    func prepare(_ record: AgentRecord, binding: GitBinding, wake: [WakeReason]) throws(GitError)
        -> WorktreeGrant
    {
        let restart = wake == [.start] && record.attempts > 1 && record.lastFailureKind == .conflict
        let folder = try worktrees.prepare(
            record.id, binding: binding, setup: binding.setup, restartOnTarget: restart)
        return WorktreeGrant(
            folder: folder, writable: [folder] + worktrees.writablePaths(record.id, repo: binding.repo))
    }

    /// Lands the result of `record`: commits its leftovers with `summary` as message, then
    /// merges its branch into its target (stopped early once `cancellation` is set).
    func land(_ record: AgentRecord, binding: GitBinding, summary: String, cancellation: Cancellation? = nil)
        throws(GitError) -> MergeStatus
    {
        try worktrees.commitLeftovers(record.id, message: summary, repo: binding.repo)
        return try queue.land(
            record.id, binding: binding, summary: summary, verify: binding.verify, cancellation: cancellation)
    }

    /// The commit message of a result: its `summary`, else a line naming the agent.
    static func summary(of result: JSONValue?, id: String) -> String {
        let text = result?["summary"]?.stringValue ?? ""
        return text.isEmpty ? "swarm \(id): the agent's result" : text
    }

    /// task.md for a new attempt: the brief as rendered at intake, and after a conflict or a
    /// failed check, a note with the reason (the paths and the sibling, or the check's log).
    static func brief(_ current: String, lastFailure: String?, kind: FailureKind?) -> String {
        var brief = current
        if let range = brief.firstRange(of: "\n" + noteMarker) {
            brief = String(brief[..<range.lowerBound]).trimmingTrailingNewlines() + "\n"
        }
        guard let lastFailure, kind == .conflict || kind == .verify else { return brief }
        let advice =
            kind == .conflict
            ? "Your worktree was reset to the target branch's new head, which holds your siblings' merged "
                + "work. Do the task again on top of it, keeping their changes."
            : "Your worktree still holds your previous attempt. Fix what the check reports, then finish again."
        return brief + "\n" + noteMarker + "\n\n" + lastFailure + "\n\n" + advice + "\n"
    }
}
