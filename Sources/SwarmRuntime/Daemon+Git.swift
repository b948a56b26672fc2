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

    /// After a good result of an agent on a repository: commit and merge on the lane of its
    /// repository, off the loop's thread, then `landed` on the loop. False when the agent has
    /// nothing to land (no repository, or it is being stopped). Until then the agent keeps its
    /// slot and counts as held at heartbeats: landing, with a long `verify:`, is not silence.
    func landResult(_ id: String, result: Result<JSONValue, SwarmError>?) -> Bool {
        guard let record = scheduler.agents[id], let binding = record.git, record.stopping == nil else {
            return false
        }
        var value: JSONValue?
        if case .success(let parsed)? = result { value = parsed }
        let summary = CodeFanIn.summary(of: value, id: id)
        let startedAt = record.startedAt ?? now
        let fanIn = codeFanIn
        log.debug("\(id): landing its result in \(binding.target ?? "its branch")")
        landings[id] = background.submit(lane: "land " + binding.repo) { cancellation in
            let started = Clock.monotonicNanoseconds()
            let status: Result<MergeStatus, GitError>
            do throws(GitError) {
                status = .success(
                    try fanIn.land(record, binding: binding, summary: summary, cancellation: cancellation))
            } catch {
                status = .failure(error)
            }
            return (status, (Clock.monotonicNanoseconds() - started) / 1000)
        } then: { [weak self] (status: Result<MergeStatus, GitError>, micros: UInt64) in
            self?.landed(id, status, binding: binding, micros: micros, startedAt: startedAt)
        }
        return true
    }

    /// A landing finished: merge.json says how, and the run's end reaches the scheduler.
    private func landed(
        _ id: String, _ status: Result<MergeStatus, GitError>, binding: GitBinding, micros: UInt64,
        startedAt: Millis
    ) {
        landings[id] = nil
        let landing: Landing
        switch status {
        case .success(let status):
            let branch = GitBinding.branch(of: id)
            writer.replace(
                workspace.agentFiles(id).mergeReport,
                with: JSON.encodeBytes(status.json(branch: branch, time: now), pretty: true), now: now)
            landing = Landing(outcome: status.outcome(branch: branch), status: status, binding: binding)
        case .failure(let error):
            log.error("\(id): its result cannot land: \(error.message)")
            landing = Landing(
                outcome: .failed(.exit, reason: "its result cannot land: \(error.message)"), status: nil,
                binding: binding)
        }
        log.info(
            "\(id): \(landing.status?.word ?? "not landed") in \(micros / 1000).\(micros % 1000 / 100) ms")
        if case .kept(_, _, let reason)? = landing.status { raise(.mergeKept, agent: id, reason) }
        endRun(id, outcome: landing.outcome, startedAt: startedAt)
        afterLanding(id, landing)
    }

    /// Once the agent settled done with its result landed, its worktree goes (its branch stays).
    private func afterLanding(_ id: String, _ landing: Landing) {
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
