import SwarmCore
import SwarmProtocol
import SwarmSystem

/// One agent as `swarm status` and state.json show it.
public struct AgentSummary: Sendable, Equatable {
    public var id: String
    public var parent: String?
    public var role: String
    public var template: String
    public var kind: String
    public var state: String
    public var priority: String
    public var depth: Int
    public var slots: Int
    public var dir: String
    public var pid: Int32?
    /// The Slurm batch job of the running command, or nil.
    public var job: String?
    /// What Slurm last said of that job (`PENDING (Resources)`, `RUNNING on n7`), or nil.
    public var jobState: String?
    public var attempts: Int
    public var runs: Int
    public var upstream: String?
    /// How the agent's last run was confined (`landlock:ABI`, `off`, `none`), or nil.
    public var confinement: String?
    public var lastProgress: String?
    public var outputs: Int?
    public var status: String?
    public var reason: String?
    public var created: String
    public var finished: String?
    /// The repository of an agent that works in a worktree, its branch and the branch's head
    /// (read from the repository), or nil.
    public var repo: String?
    public var branch: String?
    public var head: String?
    /// How the last run began: `fresh`, or `resume` (it continued its CLI's session); nil
    /// before the first run.
    public var start: String?
    /// The session id the agent's CLI last reported, if any.
    public var session: String?
    /// Why a queued agent waits, when the runtime holds it back on purpose (background work
    /// while its upstream is degraded); nil otherwise.
    public var waiting: String?

    public init(_ r: AgentRecord, workspace: Workspace, progress: ProgressLine?) {
        id = r.id
        parent = r.parent
        role = r.role
        template = r.template
        kind = r.kind.rawValue
        state = r.state.rawValue
        priority = r.priority.rawValue
        depth = r.depth
        slots = r.slots
        dir = workspace.agentDirectory(r.id)
        pid = r.active ? r.pid : nil
        job = r.active ? r.job : nil
        jobState = r.active ? r.jobState : nil
        attempts = r.attempts
        runs = r.runs
        upstream = r.upstream
        confinement = r.confinement?.description
        lastProgress = progress.map { Timestamp.iso8601(milliseconds: $0.timeMilliseconds) }
        outputs = progress?.outputs
        status = progress?.status
        reason = r.state == .done ? nil : r.lastFailure
        created = Timestamp.iso8601(milliseconds: r.createdAt)
        finished = r.finishedAt.map { Timestamp.iso8601(milliseconds: $0) }
        repo = r.git?.repo
        branch = r.git.map { _ in GitBinding.branch(of: r.id) }
        head = r.git.flatMap { BranchHead.read(repo: $0.repo, branch: GitBinding.branch(of: r.id)) }
        start = r.runs > 0 ? (r.resumed ? "resume" : "fresh") : nil
        session = r.session
    }

    /// The summary as a JSON object; every field is present (null when unknown).
    public var json: JSONValue {
        func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        func number(_ value: Int?) -> JSONValue { value.map { .integer(Int64($0)) } ?? .null }
        var o = JSONObject()
        o["id"] = .string(id)
        o["parent"] = text(parent)
        o["role"] = .string(role)
        o["template"] = .string(template)
        o["kind"] = .string(kind)
        o["state"] = .string(state)
        o["priority"] = .string(priority)
        o["depth"] = .integer(Int64(depth))
        o["slots"] = .integer(Int64(slots))
        o["dir"] = .string(dir)
        o["pid"] = number(pid.map(Int.init))
        o["job"] = text(job)
        o["job_state"] = text(jobState)
        o["attempts"] = .integer(Int64(attempts))
        o["runs"] = .integer(Int64(runs))
        o["upstream"] = text(upstream)
        o["confinement"] = text(confinement)
        o["last_progress"] = text(lastProgress)
        o["outputs"] = number(outputs)
        o["status"] = text(status)
        o["reason"] = text(reason)
        o["created"] = .string(created)
        o["finished"] = text(finished)
        o["repo"] = text(repo)
        o["branch"] = text(branch)
        o["head"] = text(head)
        o["start"] = text(start)
        o["session"] = text(session)
        o["waiting"] = text(waiting)
        return .object(o)
    }
}

/// The slots one budget holder uses and has.
public struct BudgetSummary: Sendable, Equatable {
    public var holder: String
    public var used: Int
    public var total: Int

    public init(holder: String, used: Int, total: Int) {
        self.holder = holder
        self.used = used
        self.total = total
    }
}

/// Builds status views from records.
public enum StatusView {
    /// The last progress line of an agent, read from the tail of its progress.md.
    public static func lastProgress(_ files: AgentFiles) -> ProgressLine? {
        guard let bytes = try? FileSystem.readFile(files.progress, limit: 1 << 20) else { return nil }
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[end - 1] == 0x0A { end -= 1 }
        guard end > bytes.startIndex else { return nil }
        var start = end
        while start > bytes.startIndex, bytes[start - 1] != 0x0A { start -= 1 }
        return ProgressLine.parse(String(decoding: bytes[start..<end], as: UTF8.self))
    }

    /// `swarm/<id>@<first 8 of its head>` for an agent that works on a repository, else nil.
    public static func branchLabel(_ record: AgentRecord) -> String? {
        guard let git = record.git else { return nil }
        let branch = GitBinding.branch(of: record.id)
        return branch + "@" + String(BranchHead.read(repo: git.repo, branch: branch)?.prefix(8) ?? "?")
    }

    /// The summaries of `records`; with the upstreams' snapshot, each says why it waits.
    public static func summaries(
        _ records: [AgentRecord], workspace: Workspace, upstreams: UpstreamSnapshot? = nil
    ) -> [AgentSummary] {
        records.map {
            var summary = AgentSummary(
                $0, workspace: workspace, progress: lastProgress(workspace.agentFiles($0.id)))
            summary.waiting = upstreams?.backgroundWait($0)
            return summary
        }
    }

    /// Used and total slots of the top budget and of every orchestrator.
    public static func budgets(_ records: [AgentRecord], limits: Limits) -> [BudgetSummary] {
        var used: [String: Int] = [:]
        for r in records where r.holdsSlots { used[r.parent ?? "", default: 0] += r.footprint }
        var out = [BudgetSummary(holder: "", used: used[""] ?? 0, total: limits.maxSlots)]
        for r in records where r.kind == .orchestrator {
            out.append(BudgetSummary(holder: r.id, used: used[r.id] ?? 0, total: r.slots))
        }
        return out
    }
}
