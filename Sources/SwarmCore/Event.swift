import SwarmProtocol

/// Something that happened, as the shell tells the scheduler.
public enum Event: Sendable, Equatable {
    /// A new task passed intake (parsed, role and template found) and asks to be scheduled.
    case arrived(AgentRecord)
    /// A child request of `parent` could not even be read or checked (the shell says why).
    case rejected(parent: String, name: String, reason: String)
    /// The shell started the command of an agent the scheduler asked it to start, confined
    /// as `confinement` says (`landlock:ABI`, `off`, `none`; nil when not known): as process
    /// `pid` on this machine, or as Slurm batch job `job`; `resumed` when the run continues the
    /// session of the attempt before (the template's `resume:` command).
    case started(
        id: String, pid: Int32?, confinement: RunConfinement? = nil, job: String? = nil, resumed: Bool = false
    )
    /// Slurm reports a new state for the batch job of the agent's current run, in words for
    /// a person (`PENDING (Resources)`, `RUNNING on node7`).
    case jobState(id: String, state: String)
    /// The launcher cannot take a worker's run now (a Slurm controller that does not answer):
    /// the start is undone, no attempt is spent, and the worker waits in the queue until
    /// `until`. (An orchestrator's run, or one being stopped, fails as a start instead.)
    case startDeferred(id: String, until: Millis, reason: String)
    /// The shell could not start the command (the reason is for a person).
    case startFailed(id: String, reason: String)
    /// The shell could not record the start (the tree takes no writes), so it spawned nothing:
    /// the start is undone without spending an attempt (an orchestrator's wake-up keeps its
    /// reasons, `wake`), and no run starts until `.storage(writable: true)`.
    case notStarted(id: String, wake: [WakeReason], reason: String)
    /// The tree stopped taking writes (false: no run starts, since each start needs its record
    /// written) or takes them again (true: held starts and wake-ups go ahead).
    case storage(writable: Bool)
    /// The agent's command ended; the shell read what it left behind.
    case exited(id: String, outcome: Outcome)
    /// The agent's current run reported its usage so far (cumulative for the run): from its
    /// progress lines, its results.json or its CLI's output.
    case usage(id: String, tokens: Int64?, cost: Double?)
    /// question.md appeared without an answer.
    case asked(id: String)
    /// answer.md appeared for a waiting agent.
    case answered(id: String)
    /// One heartbeat: the evidence the shell gathered for every agent with a running command.
    case heartbeat([String: Evidence])
    /// Time passed (a backoff may have expired); no other news.
    case tick
    /// The shell rebuilt the scheduler from the tree after a restart. A fan-in is derived from
    /// the children's records, so each one a crash may have cut short is written again, and its
    /// orchestrator is woken to read it.
    case recovered
    /// A person asked to stop an agent (`swarm kill`).
    case killRequested(id: String)
    /// A person asked to run a settled task again (`swarm retry`).
    case retryRequested(id: String)
    /// The reader of a delivered result consumed it.
    case consumed(id: String)
    /// A message from a person landed in the agent's `messages/` folder: an idle orchestrator
    /// is woken with `message` (a running agent reads it itself, a queued one in its brief).
    case messaged(id: String)
    /// The run that just ended reported the session id of its CLI (Claude Code's stream-json
    /// init line), which a retry may continue.
    case session(id: String, session: String)
    /// An upstream's status page was read (or could not be: `unknown`).
    case statusPage(upstream: String, verdict: StatusPageVerdict)
}

/// What an agent's command left behind when it ended, as the shell classified it.
public enum Outcome: Sendable, Equatable {
    /// A results.json that parses, meets the contract and reports success.
    case succeeded
    /// The command ended without a result. For an orchestrator that exited 0 this means it is
    /// idle until woken; for everything else it is a failure of kind `exit`.
    case noResult(exitStatus: String, clean: Bool)
    /// The attempt failed: the kind picks the failure policy's rule.
    case failed(FailureKind, reason: String)
    /// The agent's upstream (its model API) failed it: the router learns of it and the retry
    /// goes where the upstreams' health allows.
    case upstreamFailed(UpstreamErrorClass, reason: String, retryAfter: Millis?)
    /// The subscription behind the agent's upstream hit its usage limit, which resets at
    /// `resetsAt` (nil: not said). The upstream is parked until then (for good, until a person
    /// resets it, when `resumes` is false: the template's `resumeAfterLimit: false`); the
    /// attempt is given back and the task waits in the queue (an orchestrator is woken again).
    case usageLimited(reason: String, resetsAt: Millis?, resumes: Bool)
}
