import SwarmCore
import SwarmProtocol

/// Slurm batch jobs in the simulation: what Slurm says of a job, and what the records keep
/// of the launcher's word.
extension Simulation {
    /// Slurm reports a state for an agent's job (now and then for an agent that has none).
    mutating func reportJobState() {
        let jobs = processes.keys.sorted().filter {
            processes[$0]?.job != nil && processes[$0]?.reported == true
        }
        guard let id = chance(85) ? pick(jobs) : pick(ids()) else { return tick() }
        let state = pick(["PENDING (Resources)", "RUNNING on node1", "RUNNING on node2", "SUSPENDED"])!
        send(.jobState(id: id, state: state))
    }

    /// Keeps Slurm's last word on each current job, as the scheduler was told it.
    mutating func noteJobs(_ event: Event, _ effects: [Effect]) {
        switch event {
        case .jobState(let id, let state):
            if let r = scheduler.agents[id], r.active, r.job != nil {
                jobStates[id] = state
                count("job-state")
            }
        case .exited(let id, _), .startFailed(let id, _), .startDeferred(let id, _, _):
            jobStates[id] = nil
        default:
            break
        }
    }

    /// A record names the pid or job of its current run exactly as the launcher reported it,
    /// and Slurm's last word on that job; a record with no run names none.
    mutating func checkJobs() {
        for r in scheduler.agents.values {
            guard r.active, let process = processes[r.id] else {
                if r.pid != nil || r.job != nil || r.jobState != nil {
                    return fail(
                        "\(r.id) has no run but names pid \(r.pid.map(String.init) ?? "-") job \(r.job ?? "-")"
                    )
                }
                continue
            }
            let pid = process.reported ? process.pid : nil
            let job = process.reported ? process.job : nil
            if r.pid != pid || r.job != job || r.jobState != jobStates[r.id] {
                return fail(
                    "\(r.id) names pid \(r.pid.map(String.init) ?? "-") job \(r.job ?? "-") (\(r.jobState ?? "-")); "
                        + "the launcher said pid \(pid.map(String.init) ?? "-") job \(job ?? "-") "
                        + "(\(jobStates[r.id] ?? "-"))")
            }
            if job != nil { count("job-run") }
        }
    }
}
