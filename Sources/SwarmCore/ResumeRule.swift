import SwarmProtocol

/// How a run begins: a fresh conversation from the brief, or a continuation of the session
/// the CLI recorded in the attempt before.
public enum RunStart: Sendable, Equatable {
    /// The command, with the brief (task.md).
    case fresh
    /// The template's `resume:` command, on session `session`, with a short note that says
    /// `why` the last attempt was interrupted.
    case resume(session: String, why: String)
}

/// Which retries continue the session of the attempt before (pure; the daemon asks it for
/// every start).
///
/// A retry continues when its template has a `resume:` command, the agent's CLI reported a
/// session, and the attempt before was interrupted from outside the conversation: killed for
/// silence (`killed`), an upstream failure (`upstream`), a process that ended without a
/// result or whose end no daemon saw (`exit`: a kill -9, a daemon restart). It starts fresh
/// when the failure came from the conversation itself: a result that broke the contract
/// after a resume (one breach after a fresh start may be fixed in the same conversation), an
/// error the agent reported or the API gave for the request (`error`: context too long, bad
/// request), a budget overrun, a merge that conflicted or failed its `verify:` (the fresh
/// brief says on top of what and why); when a resumed run ended without a result (`exit`: the CLI may
/// not have found the session, as Claude Code does when its HOME or folder changed); and
/// every first run or orchestrator wake-up.
public enum ResumeRule {
    /// How the run of `record` woken for `wake` begins, when its template can resume
    /// (`canResume`).
    public static func start(for record: AgentRecord, wake: [WakeReason], canResume: Bool) -> RunStart {
        guard canResume, wake == [.start], record.attempts > 1, let session = record.session,
            let kind = record.lastFailureKind
        else { return .fresh }
        let why = record.lastFailure ?? kind.rawValue
        switch kind {
        case .killed, .upstream: return .resume(session: session, why: why)
        case .exit, .contract: return record.resumed ? .fresh : .resume(session: session, why: why)
        case .error, .budget, .conflict, .verify: return .fresh
        }
    }
}
