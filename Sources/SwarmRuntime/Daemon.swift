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

/// The daemon: one thread, one epoll loop. It wires small owners together, each with one
/// concern: `WatchTable` (inotify watches), `RunTable` (runs and their pidfds), `IntakeQueue`
/// (inbox files and tasks waiting for a decision), `RecordWriter` (what is written when: the
/// crash contract) over `TreeWriter` (writes that fail stay owed), `Deadlines` (heartbeat,
/// polls, grace periods), `LaunchPlanner` (record + template -> LaunchSpec) and the launchers,
/// which own their runs (`LocalLauncher`, `SlurmLauncher`). The loop turns inotify, pidfd,
/// signal and timer readiness into scheduler events and carries out the scheduler's effects.
public final class Daemon {
    let workspace: Workspace
    let options: DaemonOptions
    let log: Logger
    var scheduler: Scheduler
    var intake: Intake
    let local: LocalLauncher
    var slurm: SlurmLauncher
    /// SWARM_LAUNCHER of the daemon's environment: overrides swarm.json's `launcher`.
    let launcherOverride: LauncherKind?
    var alerts: AlertLog
    /// swarm/events.jsonl: the history `swarm report` draws.
    var history: EventLog
    /// What every launch plan depends on besides the record and its template.
    var context: LaunchContext
    let lock: FileDescriptor
    let epoll: Epoll
    let inotify: Inotify
    let signals: SignalChannel

    var now: Millis = 0
    var stopRequested = false
    var watches = WatchTable()
    var runs = RunTable()
    var queue = IntakeQueue()
    var writer = TreeWriter()
    var records: RecordWriter
    /// state.json's versions, written off the loop (`StateFile`).
    var stateFile = StateFile()
    var deadlines: Deadlines
    /// When timers were last looked at: a deadline that passed since then is due.
    var lastTimerCheck: Millis = 0
    /// The scheduler's next deadline after `lastTimerCheck`, until something changes (nil:
    /// not known; `.some(nil)`: none).
    var deadlineCache: Millis??
    /// How far each running agent's progress.md was read.
    var progressOffsets: [String: Int64] = [:]
    /// The results contract of each unsettled agent's template, read at its start.
    var contracts: [String: ResultContract?] = [:]
    /// Templates whose granted write paths were already checked this run.
    var warnedTemplates: Set<String> = []
    /// What agents can make the runtime keep of their stdout.log and stderr.log, and when
    /// each running agent's logs are looked at next.
    var logCap: LogCap
    var logChecks = LogCheckSchedule()
    /// Agents' worktrees and the merges of their branches.
    let codeFanIn: CodeFanIn
    /// What runs off the loop's thread: landings, and Slurm's commands (`SlurmLanes`).
    let background: BackgroundWork
    /// Starts of local runs under way (`Daemon+Spawn`).
    let spawns: LocalSpawns
    /// The agents whose result is landing, with what stops the landing.
    var landings: [String: Cancellation] = [:]
    /// The schedule files and what each fired and skipped (`Daemon+Schedules`).
    var schedules = Schedules()
    /// The upstreams' status pages, fetched by curl children the loop never waits for.
    var statusPages: StatusPages
    /// Turns the reset times of usage limits into instants.
    let limitClock = LimitClock()

    /// The poll interval used when the kernel runs out of inotify watches.
    static let degradedPoll: Millis = 1_000
    static let inotifyToken: UInt64 = 1
    static let signalToken: UInt64 = 2
    static let backgroundToken: UInt64 = 3

    var heartbeatInterval: Millis { scheduler.limits.heartbeat }

    /// swarm.json as last loaded (kept once, in the launch context).
    var config: SwarmConfig { context.config }

    /// Takes the tree's lock and sets up watching. Throws when another daemon runs on the tree
    /// or the configuration is broken.
    public init(workspace: Workspace, options: DaemonOptions) throws(SwarmError) {
        self.workspace = workspace
        self.options = options
        self.log = Logger(format: options.logFormat, verbose: options.verbose, quiet: options.quiet)
        let config = try Self.loadConfig(workspace)
        let inherited = ProcessEnvironment.snapshot()
        let landlockABI = Landlock.abi(environment: inherited)
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
            guard let lock = try Self.takeLock(workspace) else {
                let holder = Self.lockHolder(workspace).map(String.init) ?? "?"
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
            // after the signal mask is set: the lanes' threads inherit it
            self.background = try BackgroundWork()
        } catch let error as SwarmError {
            throw error
        } catch {
            throw SwarmError("cannot set up the daemon: \(error)")
        }
        Signal.ignore(Signal.pipe)
        var environment = inherited.filter { !$0.key.hasPrefix("SWARM_") }
        let binDirectory = Self.executableDirectory()
        environment["PATH"] = binDirectory + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let baseEnvironment = environment.map { "\($0.key)=\($0.value)" }.sorted()
        self.context = LaunchContext(
            workspace: workspace, config: config, baseEnvironment: baseEnvironment, landlockABI: landlockABI,
            home: inherited["HOME"], swarm: binDirectory + "/swarm")
        let git = Git(environment: baseEnvironment)
        self.intake = Intake(workspace: workspace, git: git)
        self.intake.upstreamNames = config.upstreams.map(\.name)
        self.codeFanIn = CodeFanIn(workspace: workspace, git: git)
        let local = LocalLauncher(workspace: workspace)
        self.local = local
        let override = inherited["SWARM_LAUNCHER"].flatMap { $0.isEmpty ? nil : $0 }
        if let override, LauncherKind(rawValue: override) == nil {
            throw SwarmError(
                "SWARM_LAUNCHER is \"\(override)\"; it must be local, slurm or slurm-srun (or unset)")
        }
        self.launcherOverride = override.flatMap(LauncherKind.init(rawValue:))
        let client = SlurmClient(
            workspace: workspace, swarmExecutable: binDirectory + "/swarm", arguments: config.slurmArguments,
            environment: environment.map { "\($0.key)=\($0.value)" })
        self.slurm = SlurmLauncher(
            client: client, local: local, lanes: SlurmLanes(background: background, log: log))
        self.spawns = LocalSpawns(background: background)
        self.alerts = AlertLog(
            workspace: workspace, command: config.alertCommand, baseEnvironment: baseEnvironment)
        self.scheduler = Scheduler(limits: Limits(config, heartbeat: options.heartbeat))
        self.records = RecordWriter(workspace: workspace)
        self.history = EventLog(workspace: workspace)
        self.logCap = LogCap(config)
        self.deadlines = Deadlines(heartbeatAt: 0, pollInterval: options.poll)
        self.statusPages = StatusPages(workspace: workspace, environment: baseEnvironment)
    }

    /// How long a new daemon waits for the lock of a daemon that is gone: a child it was
    /// starting when it was killed holds a copy of the lock's descriptor until its exec.
    static let lockOfTheDeadWait: Millis = 2_000

    /// The tree's lock, or nil while a live daemon holds it.
    private static func takeLock(_ workspace: Workspace) throws(Errno) -> FileDescriptor? {
        let deadline = Clock.wallMilliseconds() + lockOfTheDeadWait
        while true {
            if let lock = try Flock.tryLock(workspace.daemonLockPath) { return lock }
            let holderAlive = lockHolder(workspace).map(Processes.isAlive) ?? true
            if holderAlive || Clock.wallMilliseconds() >= deadline { return nil }
            Clock.sleep(milliseconds: 10)
        }
    }

    /// The pid the last daemon to take the lock recorded.
    private static func lockHolder(_ workspace: Workspace) -> Int32? {
        (try? FileSystem.readFile(workspace.daemonLockPath + ".pid", limit: 64))
            .flatMap { Int32(String(decoding: $0, as: UTF8.self).trimmingTrailingNewlines()) }
    }

    /// One line at start (and after a reload): the Landlock ABI and what it means for agents.
    func logConfinement() {
        let landlockABI = context.landlockABI
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
            try epoll.add(background.descriptor, token: Self.backgroundToken)
            let wd = try inotify.add(workspace.inbox, mask: [.closeWrite, .movedTo, .create, .onlyDirectory])
            watches.add(wd, .inbox)
            try? FileSystem.makeDirectory(workspace.controlDirectory)
            let control = try inotify.add(
                workspace.controlDirectory, mask: [.closeWrite, .movedTo, .onlyDirectory])
            watches.add(control, .control)
        } catch {
            throw SwarmError("cannot watch \(workspace.inbox): \(error)")
        }
        log.info(
            "swarm daemon \(Processes.currentID) on \(workspace.root): maxSlots \(config.maxSlots), "
                + "reserve \(config.reserve), heartbeat \(DurationText.format(heartbeatInterval))")
        logConfinement()
        history.daemon(started: true, now: now)
        if let pollInterval = deadlines.pollInterval {
            log.info(
                "poll mode: the tree is scanned every \(DurationText.format(pollInterval)) as well as watched"
            )
        }
        if slurmByDefault {
            try checkSlurm()
            pollForSlurm()
        }
        recover()
        statusPages.configure(config, now: now, epoll: epoll)
        lookAtStatusPages()
        scanControl()
        scanInbox()
        startSchedules()
        deadlines.heartbeat = now + heartbeatInterval
        if let pollInterval = deadlines.pollInterval { deadlines.poll(every: pollInterval, from: now) }
        while !stopRequested {
            flush()
            if options.untilIdle && isIdle() && finalLookFindsNothing() { break }
            let left = drainBacklog(limit: IntakeQueue.batch)
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

    /// With `--until-idle`, once the tree looks idle: takes what the kernel has already
    /// reported and not yet been read (an agent that wrote a spawn request, or a task dropped,
    /// before the last run's end was seen), without waiting, until nothing more is reported.
    /// True when the tree is still idle after that: a report that brings no work (the kernel's
    /// note that a watch was removed, say) does not keep the run going.
    private func finalLookFindsNothing() -> Bool {
        while let tokens = try? epoll.wait(timeoutMilliseconds: 0), !tokens.isEmpty {
            now = Clock.wallMilliseconds()
            for token in tokens { dispatch(token) }
            guard isIdle() else { return false }
        }
        return true
    }

    private func dispatch(_ token: UInt64) {
        switch token {
        case Self.inotifyToken: readInotify()
        case Self.signalToken: readSignals()
        case Self.backgroundToken: background.takeFinished()
        case _ where StatusPages.owns(token): lookAtStatusPages()
        default:
            if let watch = runs.process(token: token) { processExited(watch) }
        }
    }

    private func timeout() -> Int32 {
        let stateDue =
            records.stateDirty
            ? records.lastStateWrite + RecordWriter.stateWriteInterval(agents: scheduler.agents.count) : nil
        let due = deadlines.next(
            logChecks.next, schedulerDeadline(), alerts.nextDeadline, stateDue, records.nextDeferredWrite,
            writer.retryAt, history.nextWrite, schedules.nextDeadline(heartbeat: heartbeatInterval, now: now),
            statusPages.nextDeadline)
        let wait = max(0, due - Clock.wallMilliseconds())
        return Int32(min(wait, 60_000))
    }

    private func timers() {
        if deadlines.pollDue(now: now) {
            rescan()
            lookAtJobs()
        }
        if deadlines.heartbeatDue(now: now, interval: heartbeatInterval) { heartbeat() }
        if let next = logChecks.next, next <= now { capLogs(logChecks.due(now: now)) }
        if let due = schedules.nextDeadline(heartbeat: heartbeatInterval, now: now), due <= now {
            fireDueSchedules()
        }
        if let deadline = schedulerDeadline(), deadline <= now {
            deadlineCache = nil
            feed(.tick)
        }
        lastTimerCheck = now
        for (id, stop) in deadlines.dueStops(now: now) {
            // A new run started since the stop is left alone; otherwise whatever is left of the
            // stopped run (its command, or children that ignored SIGTERM) gets SIGKILL.
            if let run = runs[id], run.handle != stop.handle { continue }
            let done = stopper(for: stop.launcher).stop(
                id: id, run: stop.handle.map { Run(launcher: stop.launcher, handle: $0) }, force: true)
            if !done.isEmpty { log.info("\(id) outlived its grace period; \(done)") }
        }
        if let due = statusPages.nextDeadline, due <= now { lookAtStatusPages() }
        retryWrites()
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
            scheduler.updateLimits(Limits(fresh, heartbeat: options.heartbeat))
            context.config = fresh
            logCap.configure(fresh)
            alerts.command = fresh.alertCommand
            slurm.client.arguments = fresh.slurmArguments
            statusPages.configure(fresh, now: now, epoll: epoll)
            intake.upstreamNames = fresh.upstreams.map(\.name)
            logConfinement()
            var broken: [String] = []
            for name in Catalog.names(in: workspace.templatesDirectory) {
                do {
                    _ = try intake.catalog.template(name)
                } catch {
                    broken.append(error.message)
                }
            }
            for problem in broken {
                log.error("after reload: \(problem); tasks naming it are rejected until it is fixed")
            }
            log.info(
                "swarm.json reloaded; templates checked (\(broken.count) broken); roles and templates are read again at every spawn"
            )
            feed(.tick)
        } catch {
            log.error("reload refused, keeping the previous configuration: \(error.message)")
        }
    }

    /// True when nothing is left to do: no agent queued, running or waiting and no task
    /// waiting in the inbox or half-claimed.
    func isIdle() -> Bool {
        guard queue.isEmpty, scheduler.isIdle, !writer.isStalled else { return false }
        let inbox = (try? FileSystem.entries(of: workspace.inbox)) ?? []
        // a name that is not UTF-8 and could not be renamed stays; the log says why
        if inbox.contains(where: { $0.rawName == nil && !Intake.isIgnored($0.name) }) { return false }
        return claimedLeftovers().isEmpty
    }

    private func shutdown() {
        if !landings.isEmpty {
            log.info("\(landings.count) landing(s) stopped; the next daemon lands those results again")
        }
        noteSubmissionsAtStop()
        if !spawns.starting.isEmpty {
            log.info(
                "\(spawns.starting.count) start(s) were under way; the next daemon finds those runs by their folders' locks"
            )
        }
        background.cancelAll()
        alerts.stopAll(log: log)
        statusPages.stopAll(epoll: epoll)
        history.daemon(started: false, now: now)
        flush(force: true)
        if writer.isStalled {
            log.error(
                "stopping with \(writer.owedCount) write(s) still owed to the tree (\(writer.stalledSince.map { "\($0.error)" } ?? "")); "
                    + "the next daemon rebuilds from what landed")
        }
        log.info("stopped; \(scheduler.activeAgents.count) agent(s) left running for the next daemon")
    }
}
