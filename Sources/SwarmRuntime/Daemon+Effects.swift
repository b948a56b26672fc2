import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Feeding events to the scheduler and carrying out its effects.
extension Daemon {
    /// Hands `event` to the scheduler, carries out every effect, and feeds the events those
    /// effects produce, until nothing is left.
    func feed(_ event: Event) {
        var queue = [event]
        var index = 0
        while index < queue.count {
            let current = queue[index]
            let deferred = records.deferredWrite(of: current, records: scheduler.agents)
            let effects = scheduler.handle(current, now: now)
            index += 1
            for effect in effects {
                if case .persist(let id) = effect, id == deferred {
                    history.observe(scheduler.agents[id], now: now)
                    records.deferStart(id, now: now)
                    continue
                }
                execute(effect, then: &queue)
            }
        }
        records.touch()
        deadlineCache = nil
        reportWrites()
    }

    /// Carries out effects the scheduler returned outside `feed`, and the events they produce.
    func apply(_ effects: [Effect]) {
        var events: [Event] = []
        for effect in effects { execute(effect, then: &events) }
        for event in events { feed(event) }
        records.touch()
    }

    private func execute(_ effect: Effect, then queue: inout [Event]) {
        switch effect {
        case .accept(let id):
            accept(id)
        case .refuse(let record, let reason):
            guard let task = self.queue.decided(record.id) else { return }
            let kept = intake.reject(
                claimedPath: task.claimedPath, fileName: task.fileName, parent: record.parent,
                reason: reason)
            log.info("refused \(task.fileName): \(reason) (kept as \(kept))")
            if scheduler.agents[record.id] == nil {
                try? FileSystem.remove(workspace.agentFiles(record.id).directory)
            }
        case .start(let id, let wake):
            if let event = start(id, wake: wake) { queue.append(event) }
        case .stop(let id):
            stop(id)
        case .persist(let id):
            records.persist(id)
            history.observe(scheduler.agents[id], now: now)
        case .alert(let alert):
            alerts.record(alert, writer: &writer, log: log, now: now)
        case .deadLetter(let id, let reason):
            DeadLetter.keep(id, reason: reason, workspace: workspace, writer: &writer, now: now)
        case .fanIn(let parent, let children):
            writeFanIn(parent, children)
        }
    }

    private func accept(_ id: String) {
        guard let task = queue.decided(id), let record = scheduler.agents[id] else { return }
        do {
            try intake.materialize(
                task, record: record,
                meta: record.active || record.isDerivableFromSource ? nil : MetaStore.encode(record),
                writer: &writer,
                now: now)
            log.debug("accepted \(task.fileName) as \(id)")
        } catch {
            log.error("cannot create the folder of \(id): \(error); its start will fail")
        }
    }

    /// Starts one run of an agent's command. Returns the event that reports how it went.
    private func start(_ id: String, wake: [WakeReason]) -> Event? {
        guard let record = scheduler.agents[id] else { return nil }
        if let stall = writer.stalledSince {
            return .notStarted(id: id, wake: wake, reason: "the tree takes no writes (\(stall.error))")
        }
        let files = workspace.agentFiles(id)
        let template: Template
        do {
            template = try intake.catalog.template(record.template)
        } catch {
            return .startFailed(id: id, reason: error.message)
        }
        let kind = launcherKind(for: template)
        if kind == .local, let until = leftoversHoldFolder(record) {
            log.info(
                "\(id) starts once the processes its last run left behind are gone (SIGKILL at the end of killGrace)"
            )
            return .startDeferred(
                id: id, until: until,
                reason:
                    "processes its last run left behind still hold its folder's lock; they are being stopped")
        }
        contracts[id] = template.contract
        if wake == [.start] { archivePreviousResult(record) }
        let worktree: WorktreeGrant?
        switch prepareWorktree(record, wake: wake) {
        case .success(let grant): worktree = grant
        case .failure(let error): return .startFailed(id: id, reason: error.message)
        }
        watchAgent(id)
        guard
            let briefing = RunBriefing.prepare(
                record, template: template, wake: wake, files: files, swarm: context.swarm, writer: &writer,
                now: now)
        else {
            reportWrites()
            return .notStarted(id: id, wake: wake, reason: "the brief of \(id) cannot be written")
        }
        let plan: LaunchPlan
        switch LaunchPlanner.plan(
            record, template: template, wake: wake, start: briefing.start, context: context,
            worktree: worktree)
        {
        case .success(let made): plan = made
        case .failure(let error): return .startFailed(id: id, reason: error.message)
        }
        if plan.spec.rules != nil, warnedTemplates.insert(template.name).inserted {
            warnAboutWrites(plan.granted, template: template.name)
            for note in plan.unenforced { log.warning("template \(template.name): \(note)") }
        }
        let writeOwn = records.writesBeforeSpawn(
            record, local: kind == .local, queuedRecordOnDisk: FileSystem.exists(files.meta))
        guard
            records.beforeSpawn(
                record, writeOwn: writeOwn, records: scheduler.agents, writer: &writer, now: now)
        else {
            reportWrites()
            return .notStarted(id: id, wake: wake, reason: "\(files.meta) cannot be written")
        }
        progressOffsets[id] = progressOffsets[id] ?? 0
        let resumed = briefing.start != .fresh
        let why = "run \(record.runs), wake \(wake.words)\(resumed ? ", resuming its session" : "")"
        if kind == .slurm { return submitJob(id, plan: plan, run: record.runs, resumed: resumed, why: why) }
        if kind == .local {
            return spawnLocally(id, plan: plan, run: record.runs, resumed: resumed, why: why)
        }
        pollForSlurm()
        let outcome = slurm.start(plan.spec, as: kind, now: now)
        raiseSlurmNotes()
        switch outcome {
        case .failed(let reason):
            return .startFailed(id: id, reason: reason)
        case .deferred(let until, let reason):
            return .startDeferred(id: id, until: until, reason: reason)
        case .started(let handle):
            let run = Run(launcher: kind, handle: handle)
            track(id, run, ownChild: true)
            log.debug("started \(id) as a Slurm step (pid \(run.pid.map(String.init) ?? "?"), \(why))")
            return .started(id: id, pid: run.pid, confinement: plan.confinement, resumed: resumed)
        }
    }

    /// When processes of `record`'s last run still hold its folder's lock while they are being
    /// stopped (SIGTERM sent, SIGKILL due at the end of the grace period): the time to try the
    /// start again, just after that SIGKILL. A start now would fail on the lock and spend an
    /// attempt. Processes nobody is stopping (left by an earlier daemon) make the start fail
    /// as before, with the advice to `swarm kill` them. A first run costs no look.
    private func leftoversHoldFolder(_ record: AgentRecord) -> Millis? {
        guard record.runs > 1 || record.attempts > 1, let due = deadlines.stopDue(record.id),
            local.lockHeld(record.id)
        else { return nil }
        return max(due, now) + Self.afterKill
    }

    /// How long after a SIGKILL a start waits for the killed processes to be gone.
    static let afterKill: Millis = 100

    /// Warns, once per template and daemon run, about granted paths that do not exist or that
    /// hold the runtime's own tree.
    private func warnAboutWrites(_ granted: [String], template: String) {
        for path in granted where !FileSystem.exists(path) {
            log.warning(
                "template \(template) lets its agents write \(path), which does not exist; they cannot create it"
            )
        }
        let runtime = FileSystem.realPath(workspace.swarmDirectory) ?? workspace.swarmDirectory
        for path in granted {
            let real = FileSystem.realPath(path) ?? path
            if runtime == real || runtime.hasPrefix(real.hasSuffix("/") ? real : real + "/") {
                log.warning(
                    "template \(template) lets its agents write \(path), which holds swarm/: they can write the "
                        + "inbox, other agents' folders and the runtime's files; point workdir and writes outside swarm/"
                )
            }
        }
    }

    /// Before a new attempt, the previous attempt's results.json moves aside so that only the
    /// new attempt's result counts.
    private func archivePreviousResult(_ record: AgentRecord) {
        guard record.attempts > 1 else { return }
        let files = workspace.agentFiles(record.id)
        guard FileSystem.exists(files.results) else { return }
        let kept = files.directory + "/results.attempt-\(record.attempts - 1).json"
        try? FileSystem.rename(files.results, to: kept)
    }

    /// Watches `run` of agent `id` until it ends: through its pidfd when it is a process.
    func track(_ id: String, _ run: Run, ownChild: Bool) {
        logChecks.started(id, now: now)
        guard let token = runs.insert(id, run), let pid = run.pid else { return }
        do {
            let descriptor = try Processes.pidfd(pid)
            let raw = descriptor.rawValue
            try? epoll.add(raw, token: token)
            runs.watch(
                ProcessWatch(id: id, pid: pid, raw: raw, descriptor: descriptor, ownChild: ownChild),
                token: token)
        } catch {
            log.warning(
                "cannot open a pidfd for \(id) (pid \(pid)): \(error); its end is noticed at a heartbeat")
            runs.watch(
                ProcessWatch(id: id, pid: pid, raw: -1, descriptor: nil, ownChild: ownChild), token: token)
        }
    }

    /// The agent's command ended: reap it, read what it left, tell the scheduler.
    func processExited(_ watch: ProcessWatch) {
        var status: ExitStatus?
        if watch.ownChild {
            status = Processes.reap(watch.pid)
            if status == nil { return }
        } else if Processes.isAlive(watch.pid) {
            return
        }
        finishRun(watch.id, status: status)
    }

    /// Classifies the end of a run and feeds it to the scheduler. Processes the run left behind
    /// (still holding the folder's lock) get SIGTERM, then SIGKILL after the grace period, so
    /// that they cannot block the next run.
    ///
    /// `launcherProblem` says why the launcher (Slurm) ended the run, when it did: a run
    /// without a good result then fails with that reason.
    func finishRun(_ id: String, status: ExitStatus?, launcherProblem: String? = nil) {
        let run = runs[id]
        if let watch = runs.remove(id), watch.raw >= 0 { epoll.remove(watch.raw) }
        logChecks.ended(id)
        for wd in watches.removeLogs(id) { inotify.remove(wd) }
        if run?.launcher == .slurmSrun, let outage = slurm.stepNeverAllocated(id, status: status, now: now) {
            raiseSlurmNotes()
            feed(.startDeferred(id: id, until: outage.until, reason: outage.reason))
            return
        }
        if !deadlines.isStopping(id), local.lockHeld(id) {
            let pid = scheduler.agents[id]?.pid
            let signalled = local.signalTree(id: id, pid: pid, Signal.terminate)
            deadlines.stopping(
                id,
                PendingStop(
                    due: now + config.killGraceMilliseconds, launcher: .local,
                    handle: pid.map(RunHandle.process)))
            log.info("\(id) ended but left \(signalled) process(es) behind; SIGTERM to them")
        }
        let contract: ResultContract?
        if let known = contracts[id] {
            contract = known
        } else if let record = scheduler.agents[id] {
            contract = (try? intake.catalog.template(record.template))?.contract
        } else {
            contract = nil
        }
        let files = workspace.agentFiles(id)
        let result = ResultReader.read(files.results)
        var outcome = ResultReader.outcome(
            of: result, files: files, exit: status, contract: contract,
            clock: { [limitClock, now] in limitClock.instant(of: $0, now: now) })
        if case .usageLimited(let reason, let resetsAt, _) = outcome, let record = scheduler.agents[id],
            (try? intake.catalog.template(record.template))?.resumeAfterLimit == false
        {
            outcome = .usageLimited(reason: reason, resetsAt: resetsAt, resumes: false)
        }
        if let launcherProblem, outcome != .succeeded { outcome = .failed(.exit, reason: launcherProblem) }
        log.debug("\(id) ended: \(outcome)")
        let output = try? FileSystem.readTail(files.stdout, maxBytes: SessionReader.tailBytes)
        if let usage = UsageReader.usage(of: result, output: output) {
            feed(.usage(id: id, tokens: usage.tokens, cost: usage.cost))
        }
        if let output, let session = SessionReader.session(inOutput: String(decoding: output, as: UTF8.self))
        {
            feed(.session(id: id, session: session))
        }
        if outcome == .succeeded && landResult(id, result: result) { return }
        endRun(id, outcome: outcome, startedAt: scheduler.agents[id]?.startedAt ?? now)
    }

    /// The end of a run (landed, when it had a result to land) reaches the scheduler.
    func endRun(_ id: String, outcome: Outcome, startedAt: Millis) {
        feed(.exited(id: id, outcome: outcome))
        firingEnded(id)
        if let record = scheduler.agents[id], record.state.isSettled { unwatchAgent(id) }
        // a message that came during an orchestrator's run and was not read wakes it now (one
        // left from before the run was not briefed: it waits for the next wake-up)
        scanMessages(id, since: startedAt)
    }

    /// The launcher that stops runs of `kind`.
    func stopper(for kind: LauncherKind) -> any AgentLauncher {
        kind == .local ? local : slurm
    }

    private func stop(_ id: String) {
        guard let record = scheduler.agents[id], record.active else { return }
        if let landing = landings[id] {
            landing.cancel()
            log.info("stopping \(id): its landing is stopped before the target moves")
            return
        }
        if isSubmitting(id) {
            log.info("stopping \(id): its Slurm job is cancelled as soon as sbatch names it")
            return
        }
        if isSpawning(id) {
            log.info("stopping \(id): its command is stopped as soon as it has started")
            return
        }
        let run = runs[id]
        let kind = run?.launcher ?? .local
        let done = stopper(for: kind).stop(id: id, run: run, force: false)
        deadlines.stopping(
            id, PendingStop(due: now + config.killGraceMilliseconds, launcher: kind, handle: run?.handle))
        log.info("stopping \(id): \(done)")
    }

    /// children.json: the all-settled summary, each fulfilled child with its result.
    private func writeFanIn(_ parent: String, _ children: [Settlement]) {
        var list: [JSONValue] = []
        for child in children {
            var object = JSONObject()
            object["id"] = .string(child.id)
            object["status"] = .string(child.status.rawValue)
            object["state"] = .string(child.state)
            if child.status == .fulfilled {
                let value = ResultReader.read(workspace.agentFiles(child.id).results)
                if case .success(let result)? = value { object["value"] = result }
            } else {
                object["reason"] = .string(child.reason ?? "")
            }
            if let merge = mergeReport(of: child.id) { object["merge"] = merge }
            list.append(.object(object))
        }
        var summary = JSONObject()
        summary["settled"] = .bool(true)
        summary["updated"] = .string(Timestamp.iso8601(milliseconds: now))
        summary["children"] = .array(list)
        records.fanIn(parent, JSON.encodeBytes(.object(summary), pretty: true, sortKeys: false))
    }

    /// Writes what is due: meta.json of every changed agent at once, state.json at most every
    /// `stateWriteInterval` (or now, with `force`).
    func flush(force: Bool = false) {
        history.flush(scheduler.router, now: now, writer: &writer, force: force)
        let state = records.flush(
            records: scheduler.agents, limits: scheduler.limits, router: scheduler.router, writer: &writer,
            now: now, force: force)
        if let state { writeStateFile(state, final: force) }
        reportWrites()
    }

    /// Tries the owed writes again once their wait is over.
    func retryWrites() {
        guard writer.isStalled else { return }
        writer.retryOwed(now: now)
        reportWrites()
    }

    /// Turns the writer's transitions into alerts and scheduler events: a stall holds every
    /// start and the intake; the recovery lets them go and takes in what waited.
    func reportWrites() {
        for transition in writer.takeTransitions() {
            switch transition {
            case .stalled(let path, let error):
                let kind: AlertKind = error.meansFull ? .diskFull : .writeFailed
                log.error("cannot write \(path): \(error); the write is kept and tried again until it lands")
                raise(
                    kind,
                    "the tree takes no writes (\(path): \(error)); no agent starts and no task is taken in until it "
                        + "does"
                        + (error.meansFull ? "; free space on the file system that holds swarm/" : ""))
                feed(.storage(writable: false))
            case .recovered(let owed, let duration):
                log.info("the tree takes writes again: \(owed) owed write(s) landed after \(duration) ms")
                if writer.droppedAppends > 0 {
                    log.warning(
                        "\(writer.droppedAppends) alert line(s) could not be kept while the tree took no writes"
                    )
                }
                raise(
                    .diskRecovered,
                    "the tree takes writes again; \(owed) owed write(s) landed after \(duration) ms")
                feed(.storage(writable: true))
                for leftover in claimedLeftovers() where !queue.holds(claimedPath: leftover.path) {
                    process(claimedPath: leftover.path, fileName: leftover.name, parent: leftover.parent)
                }
                scanInbox()
                for parent in queue.takeHeldSpawnFolders() { scanSpawnFolder(parent) }
            }
        }
    }

    /// Records an alert the daemon itself raises (not the scheduler): alerts.jsonl, the log
    /// and the alert command.
    func raise(_ kind: AlertKind, agent: String? = nil, _ message: String) {
        alerts.record(
            Alert(time: now, kind: kind, agent: agent, message: message), writer: &writer, log: log, now: now)
    }
}
