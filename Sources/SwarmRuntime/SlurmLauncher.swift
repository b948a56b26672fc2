import SwarmCore
import SwarmProtocol
import SwarmSystem

/// What the Slurm launcher has to tell the daemon's alerts.
enum SlurmNote: Equatable {
    /// The controller stopped answering: starts wait until `until`.
    case unavailable(reason: String, until: Millis)
    /// A submission went through again.
    case recovered
}

/// What a look at the batch jobs found for one agent.
enum JobReport: Equatable {
    /// Slurm's word on a job that has not ended (`PENDING (Resources)`, `RUNNING on node7`).
    case state(id: String, words: String)
    /// The job ended: its recorded exit status, and why Slurm ended it when it did.
    case ended(id: String, job: String, status: ExitStatus?, problem: String?)
}

/// How a batch run recorded in meta.json stands after a restart.
enum RecoveredJob: Equatable {
    /// It still runs (or waits in Slurm's queue, noted in `held`): watch it again.
    case adopt(job: String)
    /// It ended while no daemon watched.
    case ended(job: String, status: ExitStatus?, problem: String?)
    /// No job of it is known: judge it as a run that never started.
    case unknown
}

/// Runs agents through Slurm, the cluster's own scheduler: as batch jobs (`launcher: slurm`,
/// `sbatch`) or as job steps (`launcher: slurm-srun`: an `srun` started here by the local
/// launcher, watched, locked and adopted like a local run; confinement is applied on the node,
/// inside the step). It owns what the daemon knows of Slurm: which batch jobs Slurm holds
/// back, whether its controller answers (an outage defers starts with a doubling wait instead
/// of spending attempts), and how recorded jobs stand after a restart. See docs/SCALING.md.
struct SlurmLauncher: AgentLauncher {
    /// The poll interval used with a Slurm launcher when `--poll` does not set one: agents
    /// write from other machines, which inotify never sees.
    static let poll: Millis = 1_000
    /// The wait after the controller stopped answering: 5 s, doubling to 5 min.
    static let outageWait = Backoff(base: 5_000, cap: 300_000)

    var client: SlurmClient
    let local: LocalLauncher
    /// Agents whose batch job Slurm holds back (pending, suspended) at the last look.
    private(set) var held: Set<String> = []
    /// While the controller does not answer: when starts are tried again, and the failures in
    /// a row that led there.
    private(set) var outage: (until: Millis, failures: Int)?
    private var notes: [SlurmNote] = []

    init(client: SlurmClient, local: LocalLauncher) {
        self.client = client
        self.local = local
    }

    /// Submits a batch job, or starts an srun step through the local launcher. During an
    /// outage the start is deferred until the wait is over and `scontrol ping` answers.
    mutating func start(_ spec: LaunchSpec, as kind: LauncherKind, now: Millis) -> LaunchOutcome {
        if let wait = waitWhileDown(now: now) { return wait }
        if kind == .slurmSrun {
            try? FileSystem.remove(spec.files.slurmJob)
            var step = spec
            step.command = client.srunCommand(spec)
            step.rules = nil
            return local.start(step, as: kind, now: now)
        }
        do {
            let job = try client.submit(spec)
            held.insert(spec.id)
            answered()
            return .started(.job(job))
        } catch {
            if error.transient { return unavailable(error.message, now: now) }
            return .failed(error.message)
        }
    }

    /// A batch job: cancelled (Slurm sends SIGTERM to every process it started on its node,
    /// and SIGKILL after its KillWait; a signal alone could be lost on a job that has not
    /// started its script yet); with `force`, cancelled again and whatever of it runs on this
    /// machine gets SIGKILL. A job step: the local `srun` is signalled (it passes SIGTERM on to
    /// the step) and the job too (`scancel --signal=TERM --full`); with `force`, SIGKILL here
    /// and a cancel of the job.
    func stop(id: String, run: Run?, force: Bool) -> String {
        if run?.launcher == .slurmSrun {
            let here = local.stop(id: id, run: run, force: force)
            guard let job = client.stepJob(id) else { return here }
            let done = client.cancel(job: job, signal: force ? nil : "TERM")
            let there = done ? (force ? "Slurm job \(job) cancelled" : "SIGTERM to Slurm job \(job)") : ""
            return [here, there].filter { !$0.isEmpty }.joined(separator: "; ")
        }
        guard let job = run?.job else { return local.stop(id: id, run: run, force: force) }
        let cancelled = client.cancel(job: job, signal: nil)
        guard force else { return cancelled ? "Slurm job \(job) cancelled" : "scancel \(job) failed" }
        let here = local.stop(id: id, run: nil, force: true)
        return ([cancelled ? "Slurm job \(job) cancelled again" : ""] + [here]).filter { !$0.isEmpty }
            .joined(separator: "; ")
    }

    /// Whether the launcher holds `run` back: a batch job Slurm has not started (or
    /// suspended), or an srun step that has not written its job id yet.
    func isHeld(_ id: String, run: Run?) -> Bool {
        switch run?.launcher {
        case .slurm?: held.contains(id)
        case .slurmSrun?: !FileSystem.exists(client.workspace.agentFiles(id).slurmJob)
        default: false
        }
    }

    /// Looks up `jobs` (agent, batch job) with one `scontrol` call after reading the exit
    /// statuses their scripts recorded: notes which Slurm holds back, and reports those that
    /// ended (or that Slurm forgot).
    mutating func look(at jobs: [(id: String, job: String)]) -> [JobReport] {
        var reports: [JobReport] = []
        var open: [(id: String, job: String)] = []
        for (id, job) in jobs {
            if FileSystem.exists(client.workspace.agentFiles(id).exitStatus) {
                reports.append(ended(id, job: job, status: client.recordedExit(id), problem: nil))
            } else {
                open.append((id, job))
            }
        }
        guard !open.isEmpty, let known = client.jobs() else { return reports }
        for (id, job) in open {
            guard let info = known[job] else {
                let recorded = client.recordedExit(id)
                reports.append(
                    ended(
                        id, job: job, status: recorded,
                        problem: recorded == nil ? "is no longer known to Slurm and left no exit status" : nil
                    ))
                continue
            }
            switch info.phase {
            case .held:
                held.insert(id)
                reports.append(.state(id: id, words: "\(info.state) (\(info.reason))"))
            case .running:
                held.remove(id)
                reports.append(.state(id: id, words: "\(info.state) on \(info.nodes)"))
            case .ended(let problem):
                let status =
                    client.recordedExit(id)
                    ?? (info.signal != 0 ? .signaled(info.signal) : .exited(info.exitCode))
                reports.append(ended(id, job: job, status: status, problem: problem))
            }
        }
        return reports
    }

    /// A batch job's script recorded its exit status (inotify saw `exit-status`).
    mutating func exitRecorded(_ id: String, job: String) -> JobReport {
        ended(id, job: job, status: client.recordedExit(id), problem: nil)
    }

    private mutating func ended(_ id: String, job: String, status: ExitStatus?, problem: String?) -> JobReport
    {
        held.remove(id)
        return .ended(id: id, job: job, status: status, problem: problem.map { "Slurm job \(job) \($0)" })
    }

    /// An srun step that failed before Slurm gave it a node (it never wrote `slurm-job`)
    /// because the controller did not answer: srun's complaint, else nil. Nothing of the
    /// agent ran, so this is an outage, not a failed attempt.
    mutating func stepNeverAllocated(_ id: String, status: ExitStatus?, now: Millis) -> (
        until: Millis, reason: String
    )? {
        let files = client.workspace.agentFiles(id)
        guard status != .exited(0), !FileSystem.exists(files.slurmJob),
            let tail = try? FileSystem.readTail(files.stderr, maxBytes: 4_096)
        else { return nil }
        let complaint =
            String(decoding: tail, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard SlurmClient.isOutage(complaint), case .deferred(let until, _) = unavailable(complaint, now: now)
        else { return nil }
        return (until, complaint)
    }

    /// A submission went through (a batch job was taken, an srun step got its node): an
    /// outage is over.
    mutating func answered() {
        guard outage != nil else { return }
        outage = nil
        notes.append(.recovered)
    }

    /// The notes since the last call, oldest first.
    mutating func takeNotes() -> [SlurmNote] {
        defer { notes = [] }
        return notes
    }

    /// Slurm's controller did not take a submission: starts wait (without spending an
    /// attempt) for a while that doubles at each failure in a row, with one note per outage.
    private mutating func unavailable(_ reason: String, now: Millis) -> LaunchOutcome {
        let failures = (outage?.failures ?? 0) + 1
        let until = now + Self.outageWait.ceiling(failure: failures)
        if outage == nil { notes.append(.unavailable(reason: reason, until: until)) }
        outage = (until, failures)
        return .deferred(until: until, reason: reason)
    }

    /// During an outage: the deferral for a start, or nil to try Slurm (the wait is over and
    /// the controller answers `scontrol ping`, which, unlike `sbatch`, fails at once).
    private mutating func waitWhileDown(now: Millis) -> LaunchOutcome? {
        guard let outage else { return nil }
        if now < outage.until {
            return .deferred(
                until: outage.until,
                reason:
                    "Slurm's controller does not answer; next try at \(Timestamp.iso8601(milliseconds: outage.until))"
            )
        }
        if client.controllerAnswers() { return nil }
        return unavailable("`scontrol ping` says the controller is down", now: now)
    }

    /// Every job Slurm knows, for recovery (one `scontrol` call); nil when it cannot be asked.
    func knownJobs() -> [String: SlurmJob]? { client.jobs() }

    /// How the batch run of `record` stands after a restart: the job it recorded, or (when the
    /// daemon stopped between `sbatch` and writing meta.json) a live job with the agent's name
    /// and log.
    mutating func recover(_ record: AgentRecord, known: [String: SlurmJob]?) -> RecoveredJob {
        guard let job = record.job ?? jobNamed(record, known: known) else { return .unknown }
        switch known?[job]?.phase {
        case .ended(let problem)?:
            let info = known![job]!
            let status =
                client.recordedExit(record.id)
                ?? (info.signal != 0 ? .signaled(info.signal) : .exited(info.exitCode))
            return .ended(job: job, status: status, problem: problem.map { "Slurm job \(job) \($0)" })
        case nil where known != nil:
            let recorded = client.recordedExit(record.id)
            let problem =
                recorded == nil ? "Slurm job \(job) is no longer known to Slurm and left no exit status" : nil
            return .ended(job: job, status: recorded, problem: problem)
        case .held?:
            held.insert(record.id)
            return .adopt(job: job)
        default:
            return .adopt(job: job)
        }
    }

    private func jobNamed(_ record: AgentRecord, known: [String: SlurmJob]?) -> String? {
        guard record.pid == nil, let known else { return nil }
        let stdout = client.workspace.agentFiles(record.id).stdout
        return known.values.filter { job in
            guard job.name == record.id, job.stdout == stdout else { return false }
            if case .ended = job.phase { return false }
            return true
        }
        .max { (Int($0.id) ?? 0) < (Int($1.id) ?? 0) }?.id
    }

    /// At the start of a daemon whose agents run through Slurm (`kind`): refuses to run
    /// without Slurm's commands (no agent could start); returns what to log, and whether it is
    /// a warning (the controller does not answer).
    func check(kind: LauncherKind) throws(SwarmError) -> (message: String, warning: Bool) {
        let missing = ["sbatch", "srun", "scancel", "scontrol"].filter {
            Processes.locateProgram($0, environment: client.environment, workingDirectory: nil) == nil
        }
        if !missing.isEmpty {
            throw SwarmError(
                "the launcher is \(kind.rawValue), but \(missing.joined(separator: ", ")) cannot be found on PATH; "
                    + "install Slurm's client commands (Debian: slurm-client), or set \"launcher\": \"local\""
            )
        }
        let ping = try? CommandRunner.run(
            "scontrol", ["ping"], environment: client.environment, timeoutMilliseconds: 5_000)
        if let ping, ping.succeeded {
            return (
                "launcher: \(kind.rawValue); agents run as Slurm jobs (\(ping.text.trimmingTrailingNewlines()))",
                false
            )
        }
        return (
            "launcher: \(kind.rawValue), but `scontrol ping` failed (\(ping?.complaint ?? "no answer")); "
                + "agents are submitted anyway and fail with sbatch's message while Slurm is unreachable",
            true
        )
    }
}
