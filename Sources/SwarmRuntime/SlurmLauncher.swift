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

/// How a batch job's submission may go ahead.
enum Admission: Equatable {
    /// Submit it; with `probe`, ask `scontrol ping` first (the first try after an outage's wait).
    case submit(probe: Bool)
    /// The controller does not answer: the start waits until `until`.
    case deferred(until: Millis, reason: String)
}

/// Runs agents through Slurm, the cluster's own scheduler: as batch jobs (`launcher: slurm`,
/// `sbatch`, submitted off the loop: `admit`, `SlurmLanes.submit`, `submitted`) or as job steps
/// (`launcher: slurm-srun`: an `srun` started here by the local launcher, watched, locked and
/// adopted like a local run; confinement is applied on the node, inside the step). It owns what
/// the daemon knows of Slurm: which agents' submissions are under way, which batch jobs Slurm
/// holds back, whether its controller answers (an outage defers starts with a doubling wait
/// instead of spending attempts), and how recorded jobs stand after a restart. See
/// docs/SCALING.md.
struct SlurmLauncher: AgentLauncher {
    /// The poll interval used with a Slurm launcher when `--poll` does not set one: agents
    /// write from other machines, which inotify never sees.
    static let poll: Millis = 1_000
    /// The wait after the controller stopped answering: 5 s, doubling to 5 min.
    static let outageWait = Backoff(base: 5_000, cap: 300_000)

    var client: SlurmClient
    let local: LocalLauncher
    /// Where Slurm's commands run, off the loop.
    let lanes: SlurmLanes
    /// Agents whose batch job is being submitted: their start is pending (they hold their
    /// slot, count as held at heartbeats, and are not submitted again).
    private(set) var submitting: Set<String> = []
    /// Agents whose batch job Slurm holds back (pending, suspended) at the last look.
    private(set) var held: Set<String> = []
    /// While the controller does not answer: when starts are tried again, and the failures in
    /// a row that led there.
    private(set) var outage: (until: Millis, failures: Int)?
    private var notes: [SlurmNote] = []

    init(client: SlurmClient, local: LocalLauncher, lanes: SlurmLanes) {
        self.client = client
        self.local = local
        self.lanes = lanes
    }

    /// Starts an srun step through the local launcher (batch jobs are submitted off the loop,
    /// see `admit`). During an outage's wait the start is deferred; after it the step itself
    /// tries the controller, since it runs as a process the loop watches.
    mutating func start(_ spec: LaunchSpec, as kind: LauncherKind, now: Millis) -> LaunchOutcome {
        if let outage, now < outage.until {
            return .deferred(until: outage.until, reason: waitReason(outage.until))
        }
        try? FileSystem.remove(spec.files.slurmJob)
        var step = spec
        step.command = client.srunCommand(spec)
        step.rules = nil
        return local.start(step, as: kind, now: now)
    }

    /// Whether agent `id`'s batch job may be submitted now; when it may, the agent counts as
    /// submitting until `submitted`.
    mutating func admit(_ id: String, now: Millis) -> Admission {
        if let outage, now < outage.until {
            return .deferred(until: outage.until, reason: waitReason(outage.until))
        }
        submitting.insert(id)
        return .submit(probe: outage != nil)
    }

    /// What `sbatch` answered for agent `id`: its job (held until Slurm starts it), an outage
    /// (the start waits), or a refusal.
    mutating func submitted(_ id: String, _ answer: Result<String, SwarmError>, now: Millis) -> LaunchOutcome
    {
        submitting.remove(id)
        switch answer {
        case .success(let job):
            held.insert(id)
            answered()
            return .started(.job(job))
        case .failure(let error) where error.transient:
            return unavailable(error.message, now: now)
        case .failure(let error):
            return .failed(error.message)
        }
    }

    /// A submission taken back before it was sent (`SlurmLanes.withdrawWaiting`): the start
    /// waits for the outage's end.
    mutating func withdrawn(_ id: String, now: Millis) -> LaunchOutcome {
        submitting.remove(id)
        let until = outage?.until ?? now
        return .deferred(until: until, reason: waitReason(until))
    }

    /// A batch job: cancelled (Slurm sends SIGTERM to every process it started on its node,
    /// and SIGKILL after its KillWait; a signal alone could be lost on a job that has not
    /// started its script yet); with `force`, cancelled again and whatever of it runs on this
    /// machine gets SIGKILL. A job step: the local `srun` is signalled (it passes SIGTERM on to
    /// the step) and the job too (`scancel --signal=TERM --full`); with `force`, SIGKILL here
    /// and a cancel of the job. Slurm's side goes out on the cancel lane; a failure is logged
    /// there.
    func stop(id: String, run: Run?, force: Bool) -> String {
        if run?.launcher == .slurmSrun {
            let here = local.stop(id: id, run: run, force: force)
            guard let job = client.stepJob(id) else { return here }
            lanes.cancel(job, signal: force ? nil : "TERM", client: client)
            let there = force ? "Slurm job \(job) cancelled" : "SIGTERM to Slurm job \(job)"
            return [here, there].filter { !$0.isEmpty }.joined(separator: "; ")
        }
        guard let job = run?.job else { return local.stop(id: id, run: run, force: force) }
        lanes.cancel(job, signal: nil, client: client)
        guard force else { return "Slurm job \(job) cancelled" }
        let here = local.stop(id: id, run: nil, force: true)
        return (["Slurm job \(job) cancelled again"] + [here]).filter { !$0.isEmpty }.joined(separator: "; ")
    }

    /// Whether the launcher holds agent `id`'s run back: a batch job being submitted, or one
    /// Slurm has not started (or suspended), or an srun step that has not written its job id.
    func isHeld(_ id: String, run: Run?) -> Bool {
        if submitting.contains(id) { return true }
        switch run?.launcher {
        case .slurm?: return held.contains(id)
        case .slurmSrun?: return !FileSystem.exists(client.workspace.agentFiles(id).slurmJob)
        default: return false
        }
    }

    /// The batch jobs (agent, job) whose scripts recorded an exit status, as ended, and the
    /// others, still open: those the next look asks Slurm about.
    mutating func recordedEnds(_ jobs: [(id: String, job: String)]) -> (
        reports: [JobReport], open: [(id: String, job: String)]
    ) {
        var reports: [JobReport] = []
        var open: [(id: String, job: String)] = []
        for (id, job) in jobs {
            if FileSystem.exists(client.workspace.agentFiles(id).exitStatus) {
                reports.append(ended(id, job: job, status: client.recordedExit(id), problem: nil))
            } else {
                open.append((id, job))
            }
        }
        return (reports, open)
    }

    /// What Slurm's answer (`known`, by job) says of the open jobs `jobs` (agent, job): notes
    /// which Slurm holds back, and reports those that ended (or that Slurm forgot).
    mutating func judge(_ jobs: [(id: String, job: String)], known: [String: SlurmJob]) -> [JobReport] {
        var reports: [JobReport] = []
        for (id, job) in jobs {
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
    /// attempt) for a while that doubles at each failure in a row, with one note per outage. A
    /// failure during the wait (of a command sent before the outage was known) is part of
    /// that outage, not one more in the row.
    private mutating func unavailable(_ reason: String, now: Millis) -> LaunchOutcome {
        if let outage, now < outage.until { return .deferred(until: outage.until, reason: reason) }
        let failures = (outage?.failures ?? 0) + 1
        let until = now + Self.outageWait.ceiling(failure: failures)
        if outage == nil { notes.append(.unavailable(reason: reason, until: until)) }
        outage = (until, failures)
        return .deferred(until: until, reason: reason)
    }

    private func waitReason(_ until: Millis) -> String {
        "Slurm's controller does not answer; next try at \(Timestamp.iso8601(milliseconds: until))"
    }

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
}
