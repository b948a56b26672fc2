import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Local runs start off the loop (`LocalSpawns`) while it has other work: the scheduler hears
/// of such a run once its process exists. A start while the loop is free (`loopIsFree`) is
/// made on the loop's own thread.
extension Daemon {
    /// Starts `plan`'s run of agent `id`: at once while the loop is free and no other task
    /// waits for a decision, returning `.started` (or `.startFailed`); otherwise on a spawn
    /// lane, feeding that event when the lane has the process, and returning no event: nothing
    /// is known yet.
    func spawnLocally(_ id: String, plan: LaunchPlan, run: Int, resumed: Bool, why: String) -> Event? {
        let confinement = plan.confinement
        if loopIsFree && queue.undecided == 0 {
            do {
                let pid = try local.spawn(plan.spec)
                watchStarted(id, pid: pid, why: why)
                return .started(id: id, pid: pid, confinement: confinement, resumed: resumed)
            } catch {
                return .startFailed(id: id, reason: error.message)
            }
        }
        spawns.start(plan.spec, with: local) { [weak self] result in
            self?.spawned(id, result, run: run, confinement: confinement, resumed: resumed, why: why)
        }
        return nil
    }

    /// The lane started agent `id`'s command (or could not): the process is watched and the
    /// scheduler told, and a stop that came meanwhile goes out at once.
    private func spawned(
        _ id: String, _ result: Result<Int32, SwarmError>, run: Int, confinement: RunConfinement?,
        resumed: Bool, why: String
    ) {
        guard let record = scheduler.agents[id], record.active, record.runs == run, runs[id] == nil else {
            if case .success(let pid) = result {
                log.warning("\(id): pid \(pid) started for a run that is over; killing it")
                _ = Processes.signalGroup(pid, Signal.kill)
                _ = Processes.awaitExit([pid], timeoutMilliseconds: 1_000)
                _ = Processes.reap(pid)
            }
            return
        }
        switch result {
        case .success(let pid):
            watchStarted(id, pid: pid, why: why)
            feed(.started(id: id, pid: pid, confinement: confinement, resumed: resumed))
            if scheduler.agents[id]?.stopping != nil { apply([.stop(id: id)]) }
        case .failure(let error):
            feed(.startFailed(id: id, reason: error.message))
        }
    }

    /// Watches the process `pid` of agent `id`'s run, which has just started.
    private func watchStarted(_ id: String, pid: Int32, why: String) {
        track(id, Run(launcher: .local, handle: .process(pid)), ownChild: true)
        log.debug("started \(id) (pid \(pid), \(why))")
    }

    /// True while agent `id`'s command is being started.
    func isSpawning(_ id: String) -> Bool { spawns.starting.contains(id) }
}
