import SwarmCore
import SwarmProtocol
import SwarmSystem

/// How a good result of an agent on a repository landed.
struct Landing: Sendable {
    var outcome: Outcome
    var status: MergeStatus?
    var binding: GitBinding
}

/// The wiring of code fan-in (`CodeFanIn`) into the daemon's start and end of runs.
extension Daemon {
    /// Before a run of an agent on a repository: its worktree, and after a conflict or a failed
    /// check, the reason in its brief. Nil for an agent without a repository.
    func prepareWorktree(_ record: AgentRecord, wake: [WakeReason]) -> Result<WorktreeGrant?, SwarmError> {
        guard let binding = record.git else { return .success(nil) }
        do {
            let grant = try codeFanIn.prepare(record, binding: binding, wake: wake)
            if wake == [.start], record.attempts > 1 { noteLastFailure(record) }
            return .success(grant)
        } catch {
            log.error("cannot prepare the worktree of \(record.id): \(error.message)")
            return .failure(SwarmError("its worktree cannot be made ready: \(error.message)"))
        }
    }

    /// Rewrites task.md with (or without) the note on why the previous attempt did not land.
    private func noteLastFailure(_ record: AgentRecord) {
        let files = workspace.agentFiles(record.id)
        guard let bytes = try? FileSystem.readFile(files.task, limit: Intake.taskLimit * 4) else { return }
        let current = String(decoding: bytes, as: UTF8.self)
        let brief = CodeFanIn.brief(current, lastFailure: record.lastFailure, kind: record.lastFailureKind)
        if brief != current { writer.replace(files.task, with: Array(brief.utf8), now: now) }
    }

    /// After a good result of an agent on a repository: commit and merge, and say how it went
    /// in merge.json. A problem with git is a failure of kind `exit` (retried by the policy).
    func landResult(_ id: String, result: Result<JSONValue, SwarmError>?) -> Landing? {
        guard let record = scheduler.agents[id], let binding = record.git, record.stopping == nil else {
            return nil
        }
        var value: JSONValue?
        if case .success(let parsed)? = result { value = parsed }
        let started = Clock.monotonicNanoseconds()
        let landing: Landing
        do {
            let status = try codeFanIn.land(
                record, binding: binding, summary: CodeFanIn.summary(of: value, id: id))
            let branch = GitBinding.branch(of: id)
            writer.replace(
                workspace.agentFiles(id).mergeReport,
                with: Array(JSON.encode(status.json(branch: branch, time: now), pretty: true).utf8), now: now)
            landing = Landing(outcome: status.outcome(branch: branch), status: status, binding: binding)
        } catch {
            log.error("\(id): its result cannot land: \(error.message)")
            landing = Landing(
                outcome: .failed(.exit, reason: "its result cannot land: \(error.message)"), status: nil,
                binding: binding)
        }
        let micros = (Clock.monotonicNanoseconds() - started) / 1000
        log.info(
            "\(id): \(landing.status?.word ?? "not landed") in \(micros / 1000).\(micros % 1000 / 100) ms")
        if case .kept(_, _, let reason)? = landing.status { raise(.mergeKept, agent: id, reason) }
        return landing
    }

    /// Once the agent settled done with its result landed, its worktree goes (its branch stays).
    func afterLanding(_ id: String, _ landing: Landing) {
        guard scheduler.agents[id]?.state == .done else { return }
        switch landing.status {
        case .merged?, .committed?: codeFanIn.worktrees.remove(id, repo: landing.binding.repo)
        default: break
        }
    }

    /// The child's merge.json, for its parent's children.json.
    func mergeReport(of id: String) -> JSONValue? {
        guard let bytes = try? FileSystem.readFile(workspace.agentFiles(id).mergeReport, limit: 1 << 20)
        else {
            return nil
        }
        return try? JSON.parse(bytes)
    }
}
