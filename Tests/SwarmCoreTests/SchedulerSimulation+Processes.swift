import SwarmCore
import SwarmProtocol

/// One process as the fake shell sees it.
struct SimProcess {
    /// When the `.start` effect asked for it (when its spawn created stdout.log).
    var spawnedAt: Millis
    /// True when the launcher runs it as a Slurm batch job rather than a local process.
    var batch: Bool
    /// The spawn happened; `reported` says whether the scheduler was told (`.started`). A
    /// start that was neither spawned nor reported waits for `.started` or a failed start.
    var started = false
    var reported = false
    var pid: Int32?
    var job: String?
    /// The step whose effects asked for it, and its place among all starts: the shell spawns
    /// each start at once, in order, so a crash can only have cut off the last starts of the
    /// last event.
    var startStep: Int
    var startOrder: Int
    /// The scheduler asked for a stop; the process tree dies within a few steps.
    var stopRequested = false
    var stopAge = 0
    /// What the run has used so far (its cumulative usage, as it reports it).
    var tokens: Int64 = 0
    var cost: Double = 0
    /// Why the run was asked for (the `.start` effect's reasons).
    var wake: [WakeReason]

    init(at time: Millis, batch: Bool, step: Int, order: Int, wake: [WakeReason]) {
        spawnedAt = time
        self.batch = batch
        startStep = step
        startOrder = order
        self.wake = wake
    }
}

/// The simulated launcher: starts that are reported, deferred or fail, and processes that
/// exit.
extension Simulation {
    /// The shell reports on a start it was asked for: started (90 %), deferred (a Slurm
    /// controller that does not answer) or failed. Now and then the daemon dies just after a
    /// first run's start, while its meta.json write waits.
    /// True when a child of `id` that is not being stopped has arrived: only a run that
    /// really started can have asked for it.
    func hasLiveChildren(_ id: String) -> Bool {
        scheduler.agents.values.contains { $0.parent == id && !$0.state.isSettled && $0.stopping == nil }
    }

    mutating func deliverStart() {
        guard let id = pick(processes.keys.sorted().filter({ processes[$0]?.started == false })) else {
            return tick()
        }
        if chance(90) {
            reportStarted(id)
            if deferred[id] != nil && chance(10) { crashLosingDeferredWrites() }
        } else if chance(30), let wake = processes[id]?.wake, !hasLiveChildren(id) {
            // the tree took no writes: the shell could not record the start, and spawned nothing
            // (the real shell says so before the command runs, so no child of this run exists)
            processes[id] = nil
            send(.notStarted(id: id, wake: wake, reason: "no space left on the device"))
        } else if chance(50) {
            processes[id] = nil
            send(
                .startDeferred(
                    id: id, until: now + Millis(int(0...2_000)), reason: "the controller does not answer"))
        } else {
            processes[id] = nil
            send(.startFailed(id: id, reason: "spawn failed"))
        }
    }

    /// The spawn of `id` happened: a local process with a pid, or a batch job.
    mutating func spawn(_ id: String) {
        guard var process = processes[id], !process.started else { return }
        process.started = true
        if process.batch {
            nextJob += 1
            process.job = "\(nextJob)"
        } else {
            nextPid += 1
            process.pid = nextPid
        }
        processes[id] = process
    }

    /// The spawn of `id` happened and the launcher says so.
    mutating func reportStarted(_ id: String) {
        spawn(id)
        guard let process = processes[id] else { return }
        processes[id]?.reported = true
        send(.started(id: id, pid: process.pid, job: process.job))
    }

    /// Moves one process on: a pending start is answered, a started process exits.
    mutating func finish(_ id: String, outcome: Outcome? = nil) {
        guard let process = processes[id] else { return }
        if !process.reported {
            reportStarted(id)
            return
        }
        processes[id] = nil
        let kind = scheduler.agents[id]?.kind ?? .worker
        send(.exited(id: id, outcome: outcome ?? randomOutcome(for: kind)))
    }
}
