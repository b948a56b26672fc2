import SwarmProtocol

/// Milliseconds since the Unix epoch: the only notion of time the core knows. It is always
/// passed in; nothing in this module reads a clock.
public typealias Millis = Int64

/// The states an agent can be in, as `swarm status --json` prints them.
public enum AgentState: String, Sendable, CaseIterable {
    case queued
    case running
    case waiting
    case done
    case failed
    case killed
    case deadLetter = "dead-letter"
    case skipped

    /// True for states an agent leaves only through `swarm retry`.
    public var isSettled: Bool {
        switch self {
        case .queued, .running, .waiting: false
        case .done, .failed, .killed, .deadLetter, .skipped: true
        }
    }
}

/// Why the runtime is stopping an agent; decides what its exit means.
public enum StopReason: String, Sendable, Equatable {
    /// A person ran `swarm kill`: the agent ends `killed`.
    case operatorKill = "operator"
    /// No sign of life for `killAfter` beats: the failure policy's `killed` rule applies.
    case stuck
    /// It, or the subtree it heads, used more tokens or money than its budget allows: the
    /// failure policy's `budget` rule applies.
    case overBudget = "over-budget"
    /// Its orchestrator settled or was stopped: the agent ends `killed`.
    case parentEnded = "parent-ended"
    /// The daemon itself is shutting down (never persisted as a state change).
    case shutdown
}

/// What the runtime saw of an agent at one heartbeat: the evidence of principle 10.
public struct Evidence: Sendable, Equatable {
    /// Bytes in progress.md.
    public var progressBytes: Int64
    /// Bytes in stdout.log plus stderr.log.
    public var outputBytes: Int64
    /// CPU time of the agent's process tree, in clock ticks.
    public var cpuTicks: UInt64
    /// Newest modification time (ns) of the files in the agent's folder.
    public var newestModification: Int64
    /// True while the launcher holds the command back (a Slurm job pending in the queue or
    /// suspended): no sign of life is expected, so the beat counts neither way (unless new
    /// progress lines arrived, which only a running command writes).
    public var held: Bool
    /// Progress lines appended since the previous beat, oldest first.
    public var newLines: [ProgressLine]

    public init(
        progressBytes: Int64 = 0, outputBytes: Int64 = 0, cpuTicks: UInt64 = 0,
        newestModification: Int64 = 0, newLines: [ProgressLine] = [], held: Bool = false
    ) {
        self.held = held
        self.progressBytes = progressBytes
        self.outputBytes = outputBytes
        self.cpuTicks = cpuTicks
        self.newestModification = newestModification
        self.newLines = newLines
    }

    /// True when anything grew compared with `earlier`.
    public func showsLife(since earlier: Evidence) -> Bool {
        progressBytes != earlier.progressBytes || outputBytes != earlier.outputBytes
            || cpuTicks != earlier.cpuTicks || newestModification != earlier.newestModification
    }
}

/// Everything the scheduler knows about one agent. Persisted as the agent's meta.json, from
/// which a restarted runtime rebuilds its whole state.
public struct AgentRecord: Sendable, Equatable {
    public var id: String
    /// The orchestrator that requested this agent; nil for a task from the inbox.
    public var parent: String?
    /// 1 for a task from the inbox, one more for each level below.
    public var depth: Int
    public var kind: AgentKind
    public var role: String
    public var template: String
    public var priority: Priority
    /// The subtree budget of an orchestrator; 0 for a worker.
    public var slots: Int
    public var state: AgentState
    /// How many times this task was started (orchestrator wake-ups are runs, not attempts).
    public var attempts: Int
    /// How many times the command ran in all, wake-ups included.
    public var runs: Int
    /// Arrival order; breaks ties between equal priorities.
    public var sequence: Int
    /// The failure policy of the agent's template.
    public var policy: FailurePolicy
    /// When a queued retry may start (backoff); nil means at once.
    public var notBefore: Millis?
    /// The pid of the running command, when one runs on this machine.
    public var pid: Int32?
    /// The Slurm job of the running command, when it runs as a batch job.
    public var job: String?
    /// What Slurm last said of that job, in words (`PENDING (Resources)`, `RUNNING on n7`).
    public var jobState: String?
    /// True while the command runs (between start and exit).
    public var active: Bool
    /// Why the runtime is stopping this agent, while it does.
    public var stopping: StopReason?
    /// The upstream chosen for the current attempt.
    public var upstream: String?
    /// The upstreams the task or its template prefers, best first, tried before the others.
    public var preferredUpstreams: [String]
    /// After a request too long for its upstream: the smallest context the next run needs.
    public var minimumContext: Int?
    public var createdAt: Millis
    public var startedAt: Millis?
    public var finishedAt: Millis?
    /// Why the last attempt failed, in words a person can act on.
    public var lastFailure: String?
    public var lastFailureKind: FailureKind?
    /// Reasons an orchestrator should run again, coalesced until its next run.
    public var pendingWakes: [WakeReason]
    /// Children requested by this orchestrator, in arrival order.
    public var children: [String]
    /// Spawn requests this orchestrator made that were refused: name and reason.
    public var refusals: [Refusal]
    /// Liveness bookkeeping (see HEARTBEAT.md).
    public var liveness: Liveness
    /// When a finished result was handed to its reader; nil until then.
    public var deliveredAt: Millis?
    /// True once the reader consumed the result.
    public var consumed: Bool
    /// The task's budget (`budget.tokens`, `budget.cost`); an orchestrator's covers its subtree.
    public var tokenBudget: Int64?
    public var costBudget: Double?
    /// Usage of the runs that ended, summed.
    public var tokensUsed: Int64 = 0
    public var costUsed: Double = 0
    /// Usage the current run reported so far (its latest cumulative figures).
    public var runTokens: Int64 = 0
    public var runCost: Double = 0
    /// How the last run was confined: `landlock:ABI`, `off` (swarm.json), `none` (no Landlock
    /// in the kernel); nil before the first run.
    public var confinement: RunConfinement?
    /// The repository the agent works on in a worktree of its own, if any.
    public var git: GitBinding?
    /// The session id the agent's CLI last reported (Claude Code's stream-json init line): a
    /// retry of a template with `resume:` continues it.
    public var session: String?
    /// True when the current (or last) run continued the session of the attempt before.
    public var resumed: Bool = false
    /// What the task itself says the agent may read (`reads:`), narrowing its template's.
    public var reads: ReadRule?
    /// Where the task itself says the agent may connect (`network:`), narrowing its template's.
    public var network: NetworkRule?

    public init(
        id: String, parent: String?, depth: Int, kind: AgentKind, role: String, template: String,
        priority: Priority, slots: Int, policy: FailurePolicy, createdAt: Millis
    ) {
        self.id = id
        self.parent = parent
        self.depth = depth
        self.kind = kind
        self.role = role
        self.template = template
        self.priority = priority
        self.slots = slots
        self.state = .queued
        self.attempts = 0
        self.runs = 0
        self.sequence = 0
        self.policy = policy
        self.notBefore = nil
        self.pid = nil
        self.job = nil
        self.jobState = nil
        self.active = false
        self.stopping = nil
        self.upstream = nil
        self.preferredUpstreams = []
        self.createdAt = createdAt
        self.startedAt = nil
        self.finishedAt = nil
        self.lastFailure = nil
        self.lastFailureKind = nil
        self.pendingWakes = []
        self.children = []
        self.refusals = []
        self.liveness = Liveness()
        self.deliveredAt = nil
        self.consumed = false
        self.confinement = nil
    }

    /// Slots this agent takes from its parent's budget while it holds any.
    public var footprint: Int { kind == .orchestrator ? 1 + slots : 1 }

    /// Everything this agent used, the current run included.
    public var totalTokens: Int64 { tokensUsed + runTokens }
    public var totalCost: Double { costUsed + runCost }

    /// The current run is over (it ended, or never started): no command runs for the agent,
    /// and what the run used joins what the ended runs used. The one end-of-run reset.
    public mutating func endRun() {
        active = false
        pid = nil
        job = nil
        jobState = nil
        tokensUsed += runTokens
        costUsed += runCost
        runTokens = 0
        runCost = 0
    }

    /// Whether intake's record of this agent can be made again from its folder (its source file
    /// and template): a worker taken in from the inbox, without a repository (whose base commit
    /// intake resolves once). Such an agent keeps no record on disk until its first run ends
    /// or lasts 100 ms (crash contract, rules 1 and 2).
    public var isDerivableFromSource: Bool {
        parent == nil && kind == .worker && git == nil
    }

    /// Whether the agent holds its footprint now: a worker while its command runs, an
    /// orchestrator from its first start until it settles.
    public var holdsSlots: Bool {
        switch kind {
        case .worker: active
        case .orchestrator: active || state == .running || state == .waiting
        }
    }
}

/// A spawn request the runtime refused, kept so the fan-in can report it.
public struct Refusal: Sendable, Equatable {
    public var name: String
    public var reason: String
    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }
}

/// Per-agent liveness counters, updated once per heartbeat.
public struct Liveness: Sendable, Equatable {
    public var evidence: Evidence?
    public var silentBeats: Int = 0
    public var investigated: Bool = false
    public var outputs: Int?
    public var stalledOutputBeats: Int = 0
    public var spinningReported: Bool = false
    public var lastStatus: String?
    public var repeatedStatus: Int = 0
    public var loopingReported: Bool = false
    public var lastProgressAt: Millis?
    public var orphanReported: Bool = false
    public init() {}
}
