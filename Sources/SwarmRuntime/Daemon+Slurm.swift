import SwarmCore
import SwarmProtocol
import SwarmSystem

/// The daemon's side of the Slurm launcher (which owns Slurm's state, `SlurmLauncher`):
/// which launcher an agent uses, polling the tree, and turning what the launcher saw into
/// alerts and scheduler events. See docs/SCALING.md.
extension Daemon {
    /// The launcher for agents of `template`: the template's `launcher:`, else
    /// SWARM_LAUNCHER of the daemon's environment, else swarm.json's `launcher`.
    func launcherKind(for template: Template) -> LauncherKind {
        template.launcher ?? launcherOverride ?? config.launcher
    }

    /// The launcher `record`'s template names now (swarm.json's when it cannot be read).
    func launcherKind(of record: AgentRecord) -> LauncherKind {
        guard let template = try? intake.catalog.template(record.template) else {
            return launcherOverride ?? config.launcher
        }
        return launcherKind(for: template)
    }

    /// True when agents without a `launcher:` of their own run through Slurm.
    var slurmByDefault: Bool { (launcherOverride ?? config.launcher).isSlurm }

    /// With a Slurm launcher, agents write from other machines, which inotify never sees:
    /// from the first Slurm agent on, the daemon also polls the tree.
    func pollForSlurm() {
        guard deadlines.pollInterval == nil else { return }
        deadlines.poll(every: SlurmLauncher.poll, from: now)
        log.info(
            "Slurm launcher: inotify sees nothing written on other nodes, so the tree is also polled every "
                + "\(DurationText.format(SlurmLauncher.poll)) (set it with --poll)")
    }

    /// At the start of a daemon whose agents run through Slurm: refuses to run without Slurm's
    /// commands, and warns when the controller does not answer.
    func checkSlurm() throws(SwarmError) {
        let (message, warning) = try slurm.check(kind: launcherOverride ?? config.launcher)
        if warning { log.warning(message) } else { log.info(message) }
    }

    /// Raises the alerts of an outage of Slurm's controller, as the launcher noted them.
    func raiseSlurmNotes() {
        for note in slurm.takeNotes() {
            switch note {
            case .unavailable(let reason, let until):
                raise(
                    .slurmUnavailable,
                    "Slurm's controller does not answer (\(reason)); batch jobs wait in the queue without "
                        + "spending attempts and are tried again from \(Timestamp.iso8601(milliseconds: until))"
                )
            case .recovered:
                raise(.slurmRecovered, "Slurm's controller answers again")
            }
        }
    }

    /// Submits agent `id`'s run (run number `run`) as a batch job, on a lane off the loop.
    /// Returns nil, the start pending until `sbatch` answers (`submitted`), or the deferral
    /// while Slurm's controller does not answer.
    func submitJob(_ id: String, plan: LaunchPlan, run: Int, resumed: Bool, why: String) -> Event? {
        pollForSlurm()
        switch slurm.admit(id, now: now) {
        case .deferred(let until, let reason):
            return .startDeferred(id: id, until: until, reason: reason)
        case .submit(let probe):
            log.debug("submitting \(id) to Slurm (\(why))")
            let confinement = plan.confinement
            slurm.lanes.submit(plan.spec, client: slurm.client, probe: probe) { [weak self] answer in
                self?.submitted(id, answer, run: run, confinement: confinement, resumed: resumed, why: why)
            }
            return nil
        }
    }

    /// `sbatch` answered for agent `id`: the run is watched as its job (and cancelled at once
    /// when a stop came meanwhile), or waits out an outage (with every submission that had not
    /// gone out yet), or fails as a start.
    private func submitted(
        _ id: String, _ answer: Result<String, SwarmError>, run: Int, confinement: RunConfinement?,
        resumed: Bool, why: String
    ) {
        let outcome = slurm.submitted(id, answer, now: now)
        raiseSlurmNotes()
        guard let record = scheduler.agents[id], record.active, record.runs == run, runs[id] == nil else {
            if case .started(.job(let job)) = outcome {
                log.warning("\(id): Slurm job \(job) was submitted for a run that is over; cancelling it")
                slurm.lanes.cancel(job, signal: nil, client: slurm.client)
            }
            return
        }
        switch outcome {
        case .started(let handle):
            track(id, Run(launcher: .slurm, handle: handle), ownChild: true)
            let job = Run(launcher: .slurm, handle: handle).job
            log.debug("submitted \(id) as Slurm job \(job ?? "?") (\(why))")
            feed(.started(id: id, pid: nil, confinement: confinement, job: job, resumed: resumed))
            if scheduler.agents[id]?.stopping != nil { apply([.stop(id: id)]) }
        case .deferred(let until, let reason):
            feed(.startDeferred(id: id, until: until, reason: reason))
            for other in slurm.lanes.withdrawWaiting() {
                if case .deferred(let until, let reason) = slurm.withdrawn(other, now: now) {
                    feed(.startDeferred(id: other, until: until, reason: reason))
                }
            }
        case .failed(let reason):
            feed(.startFailed(id: id, reason: reason))
        }
    }

    /// True while agent `id`'s batch job is being submitted.
    func isSubmitting(_ id: String) -> Bool { slurm.submitting.contains(id) }

    /// Looks at every watched batch job: the exit statuses their scripts recorded, then, for
    /// the others, one `squeue` off the loop (unless the last one is still under way).
    func lookAtJobs() {
        let jobs = runs.jobs
        guard !jobs.isEmpty else { return }
        let (ended, open) = slurm.recordedEnds(jobs)
        for report in ended { self.report(report) }
        guard !open.isEmpty else { return }
        _ = slurm.lanes.poll(open.map(\.job), client: slurm.client) { [weak self] known in
            self?.polled(open, known: known)
        }
    }

    /// What `squeue` said of `jobs`. A job whose end was seen meanwhile (its exit status came
    /// first), or whose agent runs again, is left alone: an older answer never undoes a newer
    /// fact. Nothing is concluded when Slurm could not be asked.
    private func polled(_ jobs: [(id: String, job: String)], known: [String: SlurmJob]?) {
        guard let known else { return }
        let current = jobs.filter { runs[$0.id]?.job == $0.job }
        for report in slurm.judge(current, known: known) { self.report(report) }
    }

    /// At a stop: submissions under way are left to finish (their `sbatch` runs on), and the
    /// next daemon finds their jobs by name.
    func noteSubmissionsAtStop() {
        guard !slurm.submitting.isEmpty else { return }
        log.info(
            "\(slurm.submitting.count) Slurm submission(s) under way finish on their own; the next daemon "
                + "finds their jobs by the agents' names")
    }

    /// Tells the scheduler what Slurm said of a job: its state in words (meta.json and
    /// `swarm status` show it), or its end. An end of a job the agent no longer runs (a retry
    /// started meanwhile) changes nothing.
    func report(_ report: JobReport) {
        switch report {
        case .state(let id, let words):
            guard scheduler.agents[id]?.jobState != words else { return }
            log.debug("\(id): Slurm job \(runs[id]?.job ?? "?") \(words)")
            feed(.jobState(id: id, state: words))
        case .ended(let id, let job, let status, let problem):
            guard runs[id]?.job == job else { return }
            log.debug("\(id): Slurm job \(job) ended (\(status.map { "\($0)" } ?? "status unknown"))")
            finishRun(id, status: status, launcherProblem: problem)
        }
    }
}
