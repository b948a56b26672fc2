/// One upstream: an environment overlay (or another command) that agents can be run against,
/// listed in swarm.json in order of preference.
public struct Upstream: Sendable, Equatable {
    /// Its name (`SWARM_UPSTREAM`, template key `upstream`).
    public var name: String
    /// Variables set in the agent's environment.
    public var env: [String: String]
    /// Variables removed from the agent's environment.
    public var unset: [String]
    /// A command that replaces the template's command on this upstream, or nil.
    public var command: String?
    /// At most this many agents at once on this upstream, or nil for no limit.
    public var concurrency: Int?
    /// The failure domain: upstreams that share one fail together (one breaker), or nil.
    public var domain: String?
    /// The largest context (tokens) this upstream's model takes, when declared: a task whose
    /// request was too long elsewhere is retried on an upstream with a larger one.
    public var context: Int?
    /// A Statuspage `summary.json` URL (`statusPage`): polled for early warning of outages.
    public var statusPage: String?
    /// The components of that page this upstream depends on (`statusComponents`, names as
    /// the page gives them); empty means every component.
    public var statusComponents: [String] = []
    /// Whether the upstream goes back into service by itself when its usage limit resets
    /// (`resumeAfterLimit`, default true); false keeps it parked until `swarm upstream reset`.
    public var resumeAfterLimit = true

    /// Makes an upstream.
    public init(
        name: String, env: [String: String] = [:], unset: [String] = [], command: String? = nil,
        concurrency: Int? = nil, domain: String? = nil
    ) {
        self.name = name
        self.env = env
        self.unset = unset
        self.command = command
        self.concurrency = concurrency
        self.domain = domain
    }
}

/// What the runtime does about Landlock confinement of agents (`confinement` in swarm.json).
public enum Confinement: String, Sendable, Equatable, CaseIterable {
    /// Confine every agent; without Landlock in the kernel, the daemon refuses to start.
    case require
    /// Confine every agent when the kernel has Landlock; without it, warn and run unconfined.
    case warn
    /// Never confine.
    case off
}

/// Where agents' commands run (`launcher` in swarm.json and in a template).
public enum LauncherKind: String, Sendable, Equatable, CaseIterable {
    /// On this machine, in a session of their own.
    case local
    /// As Slurm batch jobs (`sbatch`), on whatever node Slurm picks; the tree must be on
    /// storage every node shares.
    case slurm
    /// As Slurm job steps started with `srun` from this machine: a quicker start than a
    /// batch job, with one `srun` process here per running agent.
    case slurmSrun = "slurm-srun"

    /// True for the launchers that run agents through Slurm.
    public var isSlurm: Bool { self != .local }
}

/// The contents of `swarm/swarm.json`, with the defaults for every key left out.
public struct SwarmConfig: Sendable, Equatable {
    /// Running agents in all.
    public var maxSlots: Int
    /// Slots only `priority: urgent` work may take; less than `maxSlots`.
    public var reserve: Int
    /// The deepest level an agent may have (an inbox task is depth 1).
    public var maxDepth: Int
    /// The heartbeat interval (`heartbeat`, default 15m).
    public var heartbeatMilliseconds: Int64
    /// Heartbeats without a sign of life before an `investigate` alert.
    public var investigateAfter: Int
    /// Heartbeats without a sign of life before the agent is killed; more than `investigateAfter`.
    public var killAfter: Int
    /// Heartbeats a result may stay unconsumed before an `orphaned-result` alert.
    public var orphanAfter: Int
    /// Heartbeats of progress with an unmoving outputs count before a `spinning` alert.
    public var spinAfter: Int
    /// Repeats of the same status line before a `looping` alert.
    public var loopAfter: Int
    /// Time between SIGTERM and SIGKILL (`killGrace`, default 2s).
    public var killGraceMilliseconds: Int64
    /// A command run for every alert, or nil.
    public var alertCommand: String?
    /// Optional caps on running agents per role at the top level.
    public var roleSlots: [String: Int]
    /// The upstreams in order of preference; empty means the daemon's own environment.
    public var upstreams: [Upstream]
    /// Whether agents are confined with Landlock (default `warn`).
    public var confinement: Confinement
    /// Consecutive overloaded/server/connection failures that open an upstream's breaker.
    public var breakerFailures: Int = 5
    /// How long a breaker first stays open; doubled per opening in a row up to the maximum.
    public var breakerOpenForMilliseconds: Int64 = 30_000
    public var breakerMaxOpenForMilliseconds: Int64 = 300_000
    /// Where agents run unless their template says otherwise (default `local`).
    public var launcher: LauncherKind = .local
    /// Options added to every `sbatch` and `srun` (`slurm.arguments`), e.g. a partition.
    public var slurmArguments: [String] = []
    /// Bytes kept at the start of an agent's stdout.log and stderr.log once the runtime caps
    /// them (`logHead`, default 1MB).
    public var logHeadBytes: Int64 = 1 << 20
    /// Bytes kept at the end of each log (`logTail`, default 16MB); the middle is freed.
    public var logTailBytes: Int64 = 16 << 20
    /// What confined agents may read unless their template says otherwise (`reads`, default
    /// `all`).
    public var reads: ReadRule = .all
    /// Where confined agents may connect unless their template says otherwise (`network`,
    /// default `any`).
    public var network: NetworkRule = .any
    /// How often each upstream's status page is read at most (`statusPoll`, default 1m).
    public var statusPollMilliseconds: Int64 = 60_000

    /// Makes a configuration; every value defaults to the documented default.
    public init(
        maxSlots: Int = 12, reserve: Int = 2, maxDepth: Int = 3, heartbeatMilliseconds: Int64 = 900_000,
        investigateAfter: Int = 2, killAfter: Int = 3, orphanAfter: Int = 3, spinAfter: Int = 3,
        loopAfter: Int = 3,
        killGraceMilliseconds: Int64 = 2000, alertCommand: String? = nil, roleSlots: [String: Int] = [:],
        upstreams: [Upstream] = [], confinement: Confinement = .warn
    ) {
        self.maxSlots = maxSlots
        self.reserve = reserve
        self.maxDepth = maxDepth
        self.heartbeatMilliseconds = heartbeatMilliseconds
        self.investigateAfter = investigateAfter
        self.killAfter = killAfter
        self.orphanAfter = orphanAfter
        self.spinAfter = spinAfter
        self.loopAfter = loopAfter
        self.killGraceMilliseconds = killGraceMilliseconds
        self.alertCommand = alertCommand
        self.roleSlots = roleSlots
        self.upstreams = upstreams
        self.confinement = confinement
    }

    /// Every key at its default.
    public static let standard = SwarmConfig()

    /// The upstream named `name`, if configured.
    public func upstream(named name: String) -> Upstream? {
        upstreams.first { $0.name == name }
    }
}

/// One thing wrong in swarm.json, with its line when known.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line in swarm.json, or nil.
    public var line: Int?
    /// What is wrong and what to do.
    public var message: String

    /// Makes a problem.
    public init(line: Int?, message: String) {
        self.line = line
        self.message = message
    }

    /// `line 3: <message>`, or just the message without a line.
    public var description: String {
        line.map { "line \($0): \(message)" } ?? message
    }
}
