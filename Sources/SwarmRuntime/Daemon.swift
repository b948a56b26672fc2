import SwarmCore
import SwarmProtocol
import SwarmSystem

/// How `swarm run` was asked to behave.
public struct DaemonOptions: Sendable {
    /// Exit 0 once the inbox is empty and no agent is queued, running or waiting.
    public var untilIdle = false
    /// Overrides swarm.json's `heartbeat` for this run.
    public var heartbeat: Millis?
    /// Poll the tree at this interval as well as watching it (network file systems).
    public var poll: Millis?
    /// The daemon log's format.
    public var logFormat: Logger.Format = .text
    public var verbose = false
    /// Log only warnings and errors (used by `swarm demo`).
    public var quiet = false
    public init() {}
}

/// A watched process: the pidfd that becomes readable when the agent's command exits.
final class ProcessWatch {
    let id: String
    let pid: Int32
    /// The pidfd's number, or -1 when none could be opened (then the heartbeat polls).
    let raw: Int32
    private let descriptor: FileDescriptor?
    /// False for agents adopted after a restart: they are not our children.
    let ownChild: Bool

    init(id: String, pid: Int32, raw: Int32, descriptor: consuming FileDescriptor?, ownChild: Bool) {
        self.id = id
        self.pid = pid
        self.raw = raw
        self.descriptor = descriptor
        self.ownChild = ownChild
    }
}

/// What an inotify watch descriptor stands for.
enum WatchTarget: Equatable {
    case inbox
    case agent(String)
    case spawnRequests(String)
    case control
}

/// The daemon: one thread, one epoll loop that owns all state. It turns inotify, pidfd, signal
/// and timer readiness into scheduler events and carries out the scheduler's effects.
public final class Daemon {
    let workspace: Workspace
    let options: DaemonOptions
    let log: Logger
    var config: SwarmConfig
    var scheduler: Scheduler
    var intake: Intake
    let launcher: LocalLauncher
    var slurm: SlurmLauncher
    /// SWARM_LAUNCHER of the daemon's environment: overrides swarm.json's `launcher`.
    let launcherOverride: LauncherKind?
    /// Agents running as Slurm batch jobs: agent id -> job id.
    var slurmJobs: [String: String] = [:]
    /// Agents whose batch job Slurm holds back (pending, suspended) at the last look.
    var heldJobs: Set<String> = []
    /// Agents whose current run is an srun job step.
    var srunAgents: Set<String> = []
    /// While Slurm's controller does not answer: when batch starts are tried again, and the
    /// wait that led there (doubled at each failure in a row).
    var slurmOutage: (until: Millis, delay: Millis)?
    var alerts: AlertLog
    let baseEnvironment: [String]
    /// The Landlock ABI the kernel offers (lowered by SWARM_LANDLOCK_ABI); 0 without Landlock.
    let landlockABI: Int
    /// HOME of the daemon's environment: `~` in a template's `writes`.
    let home: String?
    let lock: FileDescriptor
    let epoll: Epoll
    let inotify: Inotify
    let signals: SignalChannel

    var now: Millis = 0
    var stopRequested = false
    var watches: [Int32: WatchTarget] = [:]
    var agentWatches: [String: Int32] = [:]
    var spawnWatches: [String: Int32] = [:]
    var processes: [UInt64: ProcessWatch] = [:]
    var processTokens: [String: UInt64] = [:]
    var nextToken: UInt64 = 16
    var pending: [String: PreparedTask] = [:]
    /// Inbox files found by a scan and not yet taken in, in order.
    var backlog: [String] = []
    var backlogged: Set<String> = []
    /// With `--until-idle`: since when the tree has been idle without a break.
    var idleSince: Millis?
    /// How long `--until-idle` waits in an idle tree before it exits.
    static let idleSettle: Millis = 250
    /// Set in poll mode: how often the whole tree is looked at (inotify sees nothing that
    /// other machines write on a network file system).
    var pollInterval: Millis?
    var nextPoll: Millis = 0
    /// The poll interval used when the kernel runs out of inotify watches.
    static let degradedPoll: Millis = 1_000
    var backlogIndex = 0
    /// Inbox files taken per loop turn while a backlog remains.
    static let intakeBatch = 32
    /// Inbox files taken per loop turn while agents run: few, so that the loop soon gets back
    /// to the agents that ended and starts the next ones (a batch of 32 left slots idle
    /// for several milliseconds).
    static let intakeBatchWhileRunning = 4
    var dirtyMeta: Set<String> = []
    /// First runs whose pid is not in meta.json yet, with the time they started.
    var unwrittenStarts: [String: Millis] = [:]
    /// How long the first run of an agent may go before meta.json names its pid.
    static let pidWriteDelay: Millis = 100
    /// Each agent's line of state.json, until the agent changes.
    var stateLines: [String: String] = [:]
    var stateDirty = true
    var lastStateWrite: Millis = 0
    var nextHeartbeat: Millis = 0
    /// Agents asked to stop: when the grace period ends, the launcher of the stopped run, and
    /// how that run is known.
    var killDeadlines: [String: (due: Millis, kind: LauncherKind, run: RunHandle?)] = [:]
    /// When timers were last looked at: a deadline that passed since then is due.
    var lastTimerCheck: Millis = 0
    /// The scheduler's next deadline after `lastTimerCheck`, until something changes (nil:
    /// not known; `.some(nil)`: none).
    var deadlineCache: Millis??
    var progressOffsets: [String: Int64] = [:]
    var contracts: [String: ResultContract?] = [:]
    /// Templates whose granted write paths were already checked this run.
    var warnedTemplates: Set<String> = []

    static let inotifyToken: UInt64 = 1
    static let signalToken: UInt64 = 2
    /// state.json is rewritten at most this often while things change.
    static let stateInterval: Millis = 250

    /// How often state.json may be rewritten: every 250 ms, or every N/10 ms for N agents when
    /// that is longer (a tree of 10,000 agents rewrites its 4 MB snapshot once a second).
    var stateWriteInterval: Millis { max(Self.stateInterval, Millis(scheduler.agents.count / 10)) }

    var heartbeatInterval: Millis { scheduler.limits.heartbeat }

    /// Takes the tree's lock and sets up watching. Throws when another daemon runs on the tree
    /// or the configuration is broken.
    public init(workspace: Workspace, options: DaemonOptions) throws(SwarmError) {
        self.workspace = workspace
        self.options = options
        self.log = Logger(format: options.logFormat, verbose: options.verbose, quiet: options.quiet)
        let config = try Self.loadConfig(workspace)
        self.config = config
        let inherited = ProcessEnvironment.snapshot()
        self.landlockABI = Landlock.abi(environment: inherited)
        self.home = inherited["HOME"]
        if config.confinement == .require && landlockABI == 0 {
            throw SwarmError(
                "swarm/swarm.json says \"confinement\": \"require\", but this kernel offers no Landlock "
                    + "(it needs Linux 5.13 or later with landlock in the lsm= boot list); enable it, or set "
                    + "\"confinement\" to \"warn\" or \"off\" to run agents unconfined")
        }
        try? FileSystem.makeDirectory(workspace.inbox)
        try? FileSystem.makeDirectory(workspace.agentsDirectory)
        // agent folders are unrelated trees: let ext4 place them away from the churn of the
        // folder the workspace lives in (see FileSystem.markTopOfHierarchies)
        try? FileSystem.markTopOfHierarchies(workspace.agentsDirectory)
        do {
            guard let lock = try Flock.tryLock(workspace.daemonLockPath) else {
                let holder = (try? FileSystem.readFile(workspace.daemonLockPath + ".pid", limit: 64))
                    .map { String(decoding: $0, as: UTF8.self).trimmingTrailingNewlines() } ?? "?"
                throw SwarmError(
                    "another swarm daemon (pid \(holder)) already runs on \(workspace.root); "
                        + "stop it first, or use `swarm status` to watch it")
            }
            self.lock = lock
            try? FileSystem.writeAtomically(
                workspace.daemonLockPath + ".pid", Array("\(Processes.currentID)\n".utf8))
            self.epoll = try Epoll()
            self.inotify = try Inotify()
            self.signals = try SignalChannel([Signal.terminate, Signal.interrupt, Signal.hangup])
        } catch let error as SwarmError {
            throw error
        } catch {
            throw SwarmError("cannot set up the daemon: \(error)")
        }
        Signal.ignore(Signal.pipe)
        var environment = inherited.filter { !$0.key.hasPrefix("SWARM_") }
        let binDirectory = Self.executableDirectory()
        environment["PATH"] = binDirectory + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        self.baseEnvironment = environment.map { "\($0.key)=\($0.value)" }.sorted()
        self.intake = Intake(workspace: workspace)
        self.launcher = LocalLauncher(workspace: workspace)
        let override = inherited["SWARM_LAUNCHER"].flatMap { $0.isEmpty ? nil : $0 }
        if let override, LauncherKind(rawValue: override) == nil {
            throw SwarmError(
                "SWARM_LAUNCHER is \"\(override)\"; it must be local, slurm or slurm-srun (or unset)")
        }
        self.launcherOverride = override.flatMap(LauncherKind.init(rawValue:))
        self.slurm = SlurmLauncher(
            workspace: workspace, swarmExecutable: binDirectory + "/swarm", arguments: config.slurmArguments,
            environment: environment.map { "\($0.key)=\($0.value)" })
        self.alerts = AlertLog(
            workspace: workspace, command: config.alertCommand, baseEnvironment: baseEnvironment)
        self.scheduler = Scheduler(limits: Limits(config, heartbeat: options.heartbeat))
        self.pollInterval = options.poll
    }

    /// One line at start (and after a reload): the Landlock ABI and what it means for agents.
    func logConfinement() {
        switch (config.confinement, landlockABI) {
        case (.off, _):
            log.info("confinement: off in swarm.json; agents run unconfined (Landlock ABI \(landlockABI))")
        case (_, 0):
            log.warning(
                "confinement: this kernel offers no Landlock; agents run unconfined and may write anywhere "
                    + "this user may (set \"confinement\": \"off\" in swarm.json to silence this)")
        default:
            log.info(
                "confinement: Landlock ABI \(landlockABI); agents may write only their own folder, "
                    + "their workdir and their template's writes")
        }
    }

    /// The folder of the running `swarm` binary, put first on every agent's PATH.
    static func executableDirectory() -> String {
        guard let path = FileSystem.readLink("/proc/self/exe"),
            let slash = path.lastIndex(of: "/")
        else { return "/usr/local/bin" }
        return String(path[..<slash])
    }

    static func loadConfig(_ workspace: Workspace) throws(SwarmError) -> SwarmConfig {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(workspace.configPath, limit: 1 << 20)
        } catch {
            throw SwarmError("swarm/swarm.json cannot be read: \(describe(error))")
        }
        let (config, problems) = ConfigParser.parse(bytes)
        if !problems.isEmpty {
            let list = problems.map { "swarm/swarm.json:\($0.description)" }.joined(separator: "; ")
            throw SwarmError("\(list); fix these (swarm check lists them all) and start again")
        }
        return config
    }

    /// Runs until a signal stops it (or, with `untilIdle`, until there is nothing left to do).
    public func run() throws(SwarmError) {
        now = Clock.wallMilliseconds()
        do {
            try epoll.add(inotify.rawValue, token: Self.inotifyToken)
            try epoll.add(signals.rawValue, token: Self.signalToken)
            let wd = try inotify.add(workspace.inbox, mask: [.closeWrite, .movedTo, .create, .onlyDirectory])
            watches[wd] = .inbox
            try? FileSystem.makeDirectory(workspace.controlDirectory)
            let control = try inotify.add(
                workspace.controlDirectory, mask: [.closeWrite, .movedTo, .onlyDirectory])
            watches[control] = .control
        } catch {
            throw SwarmError("cannot watch \(workspace.inbox): \(error)")
        }
        log.info(
            "swarm daemon \(Processes.currentID) on \(workspace.root): maxSlots \(config.maxSlots), "
                + "reserve \(config.reserve), heartbeat \(DurationText.format(heartbeatInterval))")
        logConfinement()
        if let pollInterval {
            log.info("poll mode: the tree is scanned every \(DurationText.format(pollInterval)) as well as watched")
        }
        if slurmByDefault {
            try checkSlurm()
            pollForSlurm()
        }
        recover()
        scanControl()
        scanInbox()
        nextHeartbeat = now + heartbeatInterval
        nextPoll = now + (pollInterval ?? 0)
        while !stopRequested {
            flush()
            if options.untilIdle && settledIdle() { break }
            let left = drainBacklog(limit: processes.isEmpty ? Self.intakeBatch : Self.intakeBatchWhileRunning)
            let tokens: [UInt64]
            do {
                tokens = try epoll.wait(timeoutMilliseconds: left > 0 ? 0 : timeout())
            } catch {
                throw SwarmError("waiting for events failed: \(error)")
            }
            now = Clock.wallMilliseconds()
            for token in tokens { dispatch(token) }
            timers()
            alerts.reap(now: now, log: log)
        }
        shutdown()
    }

    /// With `--until-idle`: true once the tree has been idle for `idleSettle` without a
    /// break, so that a task dropped into the inbox just as the last agent ended (a script
    /// submitting its next batch, an agent's last spawn request) is still taken by this run.
    private func settledIdle() -> Bool {
        guard isIdle() else {
            idleSince = nil
            return false
        }
        let since = idleSince ?? now
        idleSince = since
        return now - since >= Self.idleSettle
    }

    private func dispatch(_ token: UInt64) {
        switch token {
        case Self.inotifyToken: readInotify()
        case Self.signalToken: readSignals()
        default:
            if let watch = processes[token] { processExited(watch) }
        }
    }

    private func timeout() -> Int32 {
        var due = nextHeartbeat
        if let deadline = schedulerDeadline() { due = min(due, deadline) }
        if let kill = killDeadlines.values.map(\.due).min() { due = min(due, kill) }
        if pollInterval != nil { due = min(due, nextPoll) }
        if let hook = alerts.nextDeadline { due = min(due, hook) }
        if let idleSince { due = min(due, idleSince + Self.idleSettle) }
        if stateDirty { due = min(due, lastStateWrite + stateWriteInterval) }
        if let oldest = unwrittenStarts.values.min() { due = min(due, oldest + Self.pidWriteDelay) }
        let wait = max(0, due - Clock.wallMilliseconds())
        return Int32(min(wait, 60_000))
    }

    private func timers() {
        if let pollInterval, now >= nextPoll {
            rescan()
            lookAtJobs()
            nextPoll = now + pollInterval
        }
        if now >= nextHeartbeat {
            heartbeat()
            nextHeartbeat = now + heartbeatInterval
        }
        if let deadline = schedulerDeadline(), deadline <= now {
            deadlineCache = nil
            feed(.tick)
        }
        lastTimerCheck = now
        for (id, deadline) in killDeadlines where deadline.due <= now {
            killDeadlines[id] = nil
            // A new run started since the stop is left alone; otherwise whatever is left of the
            // stopped run (its command, or children that ignored SIGTERM) gets SIGKILL.
            if let record = scheduler.agents[id], record.active, record.run != deadline.run { continue }
            let done = launcher(for: deadline.kind).stop(id: id, run: deadline.run, force: true)
            if !done.isEmpty { log.info("\(id) outlived its grace period; \(done)") }
        }
    }

    /// The scheduler's next deadline after the last timer check; computed again only after an
    /// event changed the scheduler or the deadline passed (the computation walks the queue).
    private func schedulerDeadline() -> Millis? {
        if let cached = deadlineCache { return cached }
        let value = scheduler.nextDeadline(after: lastTimerCheck)
        deadlineCache = .some(value)
        return value
    }

    private func readSignals() {
        for signal in signals.read() {
            if signal == Signal.hangup {
                reload()
            } else {
                log.info("\(Signal.name(signal)) received; stopping (agents keep running)")
                stopRequested = true
            }
        }
    }

    /// SIGHUP: read swarm.json again. A broken file keeps the old configuration.
    func reload() {
        do {
            let fresh = try Self.loadConfig(workspace)
            config = fresh
            scheduler.updateLimits(Limits(fresh, heartbeat: options.heartbeat))
            alerts.command = fresh.alertCommand
            slurm.arguments = fresh.slurmArguments
            logConfinement()
            var broken: [String] = []
            for name in Catalog.names(in: workspace.templatesDirectory) {
                do {
                    _ = try intake.catalog.template(name)
                } catch {
                    broken.append(error.message)
                }
            }
            for problem in broken { log.error("after reload: \(problem); tasks naming it are rejected until it is fixed") }
            log.info("swarm.json reloaded; templates checked (\(broken.count) broken); roles and templates are read again at every spawn")
            feed(.tick)
        } catch {
            log.error("reload refused, keeping the previous configuration: \(error.message)")
        }
    }

    /// True when nothing is left to do: no agent queued, running or waiting and no task
    /// waiting in the inbox or half-claimed.
    func isIdle() -> Bool {
        guard backlogIndex >= backlog.count, pending.isEmpty, scheduler.isIdle else { return false }
        let inbox = (try? FileSystem.entries(of: workspace.inbox)) ?? []
        if inbox.contains(where: { !Intake.isIgnored($0.name) }) { return false }
        return claimedLeftovers().isEmpty
    }

    private func shutdown() {
        alerts.stopAll(log: log)
        flush(force: true)
        log.info("stopped; \(scheduler.activeAgents.count) agent(s) left running for the next daemon")
    }
}
