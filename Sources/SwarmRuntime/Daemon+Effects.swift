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
            let deferred = deferredStart(queue[index])
            let effects = scheduler.handle(queue[index], now: now)
            index += 1
            for effect in effects {
                if case .persist(let id) = effect, id == deferred {
                    unwrittenStarts[id] = now
                    stateLines[id] = nil
                    continue
                }
                execute(effect, then: &queue)
            }
        }
        stateDirty = true
        deadlineCache = nil
    }

    /// Carries out effects the scheduler returned outside `feed`, and the events they produce.
    func apply(_ effects: [Effect]) {
        var events: [Event] = []
        for effect in effects { execute(effect, then: &events) }
        for event in events { feed(event) }
        stateDirty = true
    }

    /// The agent whose record `event` changes only by naming the pid of its first run, if it
    /// does: that meta.json write waits (`pidWriteDelay`), so a run that ends sooner is
    /// recorded once, when it ends. Until then meta.json holds the record written just before
    /// the spawn; a restarted daemon tells such a run by its lock and its stdout.log, which
    /// the spawn creates (`recover`).
    private func deferredStart(_ event: Event) -> String? {
        guard case .started(let id, _?, _, nil) = event, let record = scheduler.agents[id],
            record.active, record.runs == 1, record.attempts == 1, !dirtyMeta.contains(id)
        else { return nil }
        return id
    }

    /// Queues the meta.json write of every first run that has lasted `pidWriteDelay`.
    func writeAgedStarts() {
        for (id, started) in unwrittenStarts where now - started >= Self.pidWriteDelay {
            dirtyMeta.insert(id)
        }
    }

    private func execute(_ effect: Effect, then queue: inout [Event]) {
        switch effect {
        case .accept(let id):
            accept(id)
        case .refuse(let record, let reason):
            guard let task = pending.removeValue(forKey: record.id) else { return }
            let kept = intake.reject(
                claimedPath: task.claimedPath, fileName: task.fileName, parent: record.parent,
                reason: reason)
            log.info("refused \(task.fileName): \(reason) (kept as \(kept))")
        case .start(let id, let wake):
            if let event = start(id, wake: wake) { queue.append(event) }
        case .stop(let id):
            stop(id)
        case .persist(let id):
            dirtyMeta.insert(id)
            stateLines[id] = nil
        case .alert(let alert):
            alerts.record(alert, log: log, now: now)
        case .deadLetter(let id, let reason):
            DeadLetter.keep(id, reason: reason, workspace: workspace, log: log)
        case .fanIn(let parent, let children):
            writeFanIn(parent, children)
        }
    }

    private func accept(_ id: String) {
        guard let task = pending.removeValue(forKey: id), let record = scheduler.agents[id] else {
            return
        }
        do {
            try intake.materialize(task, record: record, meta: record.active ? nil : MetaStore.encode(record))
            log.debug("accepted \(task.fileName) as \(id)")
        } catch {
            log.error("cannot create the folder of \(id): \(error); its start will fail")
        }
    }

    /// Starts one run of an agent's command. Returns the event that reports how it went.
    private func start(_ id: String, wake: [String]) -> Event? {
        guard let record = scheduler.agents[id] else { return nil }
        let files = workspace.agentFiles(id)
        let template: Template
        do {
            template = try intake.catalog.template(record.template)
        } catch {
            return .startFailed(id: id, reason: error.message)
        }
        contracts[id] = template.contract
        if wake == ["start"] { archivePreviousResult(record) }
        watchAgent(id)
        let kind = launcherKind(for: template)
        // a record change still owed (say, the retry of a task that never ran, in the same
        // event) means meta.json does not hold the queued record: the start is recorded
        let owed = dirtyMeta.remove(id) != nil
        flushMeta()
        if owed || !startsUnrecorded(record, kind: kind, files: files) {
            do {
                try MetaStore.write(record, in: workspace)
            } catch {
                return .startFailed(id: id, reason: "cannot write \(files.meta): \(error)")
            }
        }
        let upstream = record.upstream.flatMap { config.upstream(named: $0) }
        let workdir = template.workdir.map(resolve)
        guard let (confinement, writable) = confinement(for: template, workdir: workdir, files: files) else {
            return .startFailed(
                id: id, reason: "swarm.json requires confinement, but this kernel offers no Landlock")
        }
        var environment = environment(for: record, wake: wake, upstream: upstream)
        let privateHome = template.privateHome ? files.directory + "/home" : nil
        if let privateHome {
            // a HOME of its own; the XDG folders fall back to it (TMPDIR is private already)
            let replaced: Set<String> = [
                "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
            ]
            environment.removeAll { replaced.contains(String($0.prefix { $0 != "=" })) }
            environment.append("HOME=" + privateHome)
        }
        let spec = LaunchSpec(
            id: id, command: upstream?.command ?? template.command,
            workingDirectory: workdir ?? files.directory,
            environment: environment, files: files, writable: writable, privateHome: privateHome,
            landlockABI: landlockABI)
        progressOffsets[id] = progressOffsets[id] ?? 0
        srunAgents.remove(id)
        if kind.isSlurm { pollForSlurm() }
        if kind.isSlurm, let wait = waitWhileSlurmIsDown(id) { return wait }
        let handle: RunHandle
        do {
            handle = try launcher(for: kind).start(spec)
        } catch {
            if kind.isSlurm && error.transient { return slurmUnavailable(id, reason: error.message) }
            return .startFailed(id: id, reason: error.message)
        }
        let why = "run \(record.runs), wake \(wake.joined(separator: ","))"
        switch handle {
        case .process(let pid):
            if kind == .slurmSrun { srunAgents.insert(id) }
            watchProcess(id: id, pid: pid, ownChild: true)
            log.debug("started \(id) (pid \(pid), \(why))")
            return .started(id: id, pid: pid, confinement: confinement)
        case .job(let job):
            slurmAnswers()
            slurmJobs[id] = job
            heldJobs.insert(id)
            log.debug("submitted \(id) as Slurm job \(job) (\(why))")
            return .started(id: id, pid: nil, confinement: confinement, job: job)
        }
    }

    /// True when the run about to start is the agent's first, started on this machine without
    /// an upstream, and meta.json already holds its queued record (it waited for a slot):
    /// that record stays until the run has lasted `pidWriteDelay` or ended. A restarted
    /// daemon tells that the run started by the stdout.log its spawn creates (`recover`).
    private func startsUnrecorded(_ record: AgentRecord, kind: LauncherKind, files: AgentFiles) -> Bool {
        kind == .local && record.runs == 1 && record.attempts == 1 && record.upstream == nil
            && FileSystem.exists(files.meta)
    }

    /// How a run of `template` is confined, and the paths it may write (nil: unconfined);
    /// nil when swarm.json requires confinement this kernel cannot give.
    private func confinement(for template: Template, workdir: String?, files: AgentFiles) -> (String, [String]?)? {
        switch (config.confinement, landlockABI) {
        case (.off, _):
            return ("off", nil)
        case (.require, 0):
            return nil
        case (_, 0):
            return ("none", nil)
        default:
            let granted = (workdir.map { [$0] } ?? []) + template.writes.map(resolveWritable)
            if warnedTemplates.insert(template.name).inserted { warnAboutWrites(granted, template: template.name) }
            return ("landlock:\(landlockABI)", [files.directory] + granted)
        }
    }

    /// A path from a template: absolute as is, otherwise relative to the workspace root.
    private func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return workspace.root + "/" + path
    }

    /// Warns, once per template and daemon run, about granted paths that do not exist or that
    /// hold the runtime's own tree.
    private func warnAboutWrites(_ granted: [String], template: String) {
        for path in granted where !FileSystem.exists(path) {
            log.warning("template \(template) lets its agents write \(path), which does not exist; they cannot create it")
        }
        let runtime = FileSystem.realPath(workspace.swarmDirectory) ?? workspace.swarmDirectory
        for path in granted {
            let real = FileSystem.realPath(path) ?? path
            if runtime == real || runtime.hasPrefix(real.hasSuffix("/") ? real : real + "/") {
                log.warning(
                    "template \(template) lets its agents write \(path), which holds swarm/: they can write the "
                        + "inbox, other agents' folders and the runtime's files; point workdir and writes outside swarm/")
            }
        }
    }

    /// A template's `writes` entry as a path: absolute as is, `~` and `~/...` in the daemon's
    /// HOME, anything else relative to the workspace root.
    private func resolveWritable(_ path: String) -> String {
        if path == "~" { return home ?? "/" }
        if path.hasPrefix("~/"), let home { return home + path.dropFirst(1) }
        return resolve(path)
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

    /// The environment of CLI.md for one run.
    func environment(for record: AgentRecord, wake: [String], upstream: Upstream?) -> [String] {
        let files = workspace.agentFiles(record.id)
        var environment = baseEnvironment
        if let upstream {
            let replaced = Set(upstream.unset + Array(upstream.env.keys))
            environment.removeAll { entry in
                replaced.contains(String(entry.prefix { $0 != "=" }))
            }
            environment += upstream.env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        }
        environment.append("SWARM_ROOT=" + workspace.root)
        environment.append("SWARM_AGENT_ID=" + record.id)
        environment.append("SWARM_AGENT_DIR=" + files.directory)
        environment.append("SWARM_PARENT_ID=" + (record.parent ?? ""))
        environment.append("SWARM_DEPTH=\(record.depth)")
        environment.append("SWARM_SLOTS=\(record.kind == .orchestrator ? record.slots : 0)")
        environment.append("SWARM_PROGRESS=" + files.progress)
        environment.append("SWARM_RESULTS=" + files.results)
        environment.append("SWARM_UPSTREAM=" + (record.upstream ?? ""))
        environment.append("SWARM_ATTEMPT=\(record.attempts)")
        environment.append("SWARM_WAKE=" + wake.joined(separator: " "))
        environment.append("TMPDIR=" + files.temporary)
        return environment
    }

    func watchProcess(id: String, pid: Int32, ownChild: Bool) {
        let token = nextToken
        nextToken += 1
        do {
            let descriptor = try Processes.pidfd(pid)
            let raw = descriptor.rawValue
            try? epoll.add(raw, token: token)
            processes[token] = ProcessWatch(id: id, pid: pid, raw: raw, descriptor: descriptor, ownChild: ownChild)
        } catch {
            log.warning("cannot open a pidfd for \(id) (pid \(pid)): \(error); its end is noticed at a heartbeat")
            processes[token] = ProcessWatch(id: id, pid: pid, raw: -1, descriptor: nil, ownChild: ownChild)
        }
        processTokens[id] = token
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
        if let token = processTokens.removeValue(forKey: watch.id) {
            if watch.raw >= 0 { epoll.remove(watch.raw) }
            processes[token] = nil
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
        if let outage = stepNeverAllocated(id, status: status) {
            srunAgents.remove(id)
            feed(slurmUnavailable(id, reason: outage))
            return
        }
        if killDeadlines[id] == nil, launcher.isRunning(id) {
            let pid = scheduler.agents[id]?.pid
            let signalled = launcher.signalTree(id: id, pid: pid, Signal.terminate)
            killDeadlines[id] = (now + config.killGraceMilliseconds, .local, pid.map(RunHandle.process))
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
        var outcome = ResultReader.outcome(of: result, files: files, exit: status, contract: contract)
        if let launcherProblem, outcome != .succeeded { outcome = .failed(.exit, reason: launcherProblem) }
        srunAgents.remove(id)
        log.debug("\(id) ended: \(outcome)")
        if let usage = UsageReader.usage(of: result, files: files) {
            feed(.usage(id: id, tokens: usage.tokens, cost: usage.cost))
        }
        feed(.exited(id: id, outcome: outcome))
        if let record = scheduler.agents[id], record.state.isSettled { unwatchAgent(id) }
    }

    private func stop(_ id: String) {
        guard let record = scheduler.agents[id], record.active else { return }
        let kind: LauncherKind = slurmJobs[id] != nil ? .slurm : srunAgents.contains(id) ? .slurmSrun : .local
        let done = launcher(for: kind).stop(id: id, run: record.run, force: false)
        killDeadlines[id] = (now + config.killGraceMilliseconds, kind, record.run)
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
            list.append(.object(object))
        }
        var summary = JSONObject()
        summary["settled"] = .bool(true)
        summary["updated"] = .string(Timestamp.iso8601(milliseconds: now))
        summary["children"] = .array(list)
        let text = JSON.encode(.object(summary), pretty: true, sortKeys: false)
        do {
            try FileSystem.writeAtomically(workspace.agentFiles(parent).fanIn, Array(text.utf8))
        } catch {
            log.error("cannot write children.json of \(parent): \(error)")
        }
    }

    /// Writes what changed: meta.json of every touched agent at once, state.json at most every
    /// `stateWriteInterval` (or now, with `force`).
    func flush(force: Bool = false) {
        if force {
            dirtyMeta.formUnion(unwrittenStarts.keys)
        } else if !unwrittenStarts.isEmpty {
            writeAgedStarts()
        }
        flushMeta()
        let due = Clock.wallMilliseconds() - lastStateWrite >= stateWriteInterval
        if stateDirty && (due || force) { writeState() }
    }

    /// state.json: one compact line per agent (cached until the agent changes), so a
    /// rewrite costs little even with thousands of agents.
    /// Writes every meta.json that changed, in id order.
    func flushMeta() {
        for id in dirtyMeta.sorted() {
            unwrittenStarts[id] = nil
            guard let record = scheduler.agents[id] else { continue }
            do {
                try MetaStore.write(record, in: workspace)
            } catch {
                log.error("cannot write meta.json of \(id): \(error)")
            }
        }
        dirtyMeta.removeAll()
    }

    private func writeState() {
        let records = scheduler.agents.values.sorted { $0.sequence < $1.sequence }
        var text = "{\n  \"agents\": ["
        for (index, record) in records.enumerated() {
            let line: String
            if let cached = stateLines[record.id] {
                line = cached
            } else {
                line = JSON.encode(AgentSummary(record, workspace: workspace, progress: nil).json, pretty: false)
                stateLines[record.id] = line
            }
            text += (index == 0 ? "\n    " : ",\n    ") + line
        }
        text += records.isEmpty ? "],\n" : "\n  ],\n"
        let budgets = StatusView.budgets(records, limits: scheduler.limits).map { b -> JSONValue in
            .object(["holder": .string(b.holder), "used": .integer(Int64(b.used)), "total": .integer(Int64(b.total))])
        }
        text += "  \"budgets\": " + JSON.encode(.array(budgets), pretty: false) + ",\n"
        text += "  \"daemon_pid\": \(Processes.currentID),\n"
        text += "  \"updated\": " + JSON.quote(Timestamp.iso8601(milliseconds: now)) + "\n}\n"
        do {
            try FileSystem.writeAtomically(workspace.statePath, Array(text.utf8))
            if !scheduler.router.isEmpty {
                let upstreams = UpstreamSnapshot.make(scheduler.router, now: now)
                try FileSystem.writeAtomically(workspace.upstreamsPath, MetaStore.encodeValue(upstreams))
            }
        } catch {
            log.error("cannot write state.json: \(error)")
        }
        stateDirty = false
        lastStateWrite = Clock.wallMilliseconds()
    }
}
