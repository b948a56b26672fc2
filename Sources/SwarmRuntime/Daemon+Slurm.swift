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

    /// Looks up every watched batch job with one `scontrol` call.
    func lookAtJobs() {
        let jobs = runs.jobs
        guard !jobs.isEmpty else { return }
        for report in slurm.look(at: jobs) { self.report(report) }
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
