import SwarmProtocol
import SwarmSystem

/// Slurm's commands, run off the daemon's loop on lanes of `BackgroundWork`, each answer handed
/// to a continuation on the loop's thread. Submissions take a small pool of lanes, so that one
/// slow `sbatch` holds up only its own; the look at the jobs has a lane of its own and runs
/// once at a time, so that a poll never waits behind a burst of submissions and two polls never
/// overlap; cancels have another, and as many as wait go out in one `scancel`.
///
/// A submission is not stopped when the daemon stops: its `sbatch` runs to its end in a
/// session of its own, and the next daemon waits for it before it looks for the job by the
/// agent's name (`SlurmLauncher.awaitLeftoverSubmissions`).
final class SlurmLanes {
    /// `sbatch` commands at once.
    static let submitLanes = 4

    private let background: BackgroundWork
    private let log: Logger
    private var freeLanes: [String]
    /// Submissions waiting for a free lane, oldest first, each with what sends it on a lane.
    private var waiting: [(id: String, send: (String) -> Void)] = []
    /// True while a look at the jobs is on its lane.
    private(set) var polling = false
    private var cancels: [(job: String, signal: String?)] = []
    private var cancelling = false
    /// The client whose `scancel` the waiting cancels go out with.
    private var cancelClient: SlurmClient?

    init(background: BackgroundWork, log: Logger) {
        self.background = background
        self.log = log
        freeLanes = (1...Self.submitLanes).reversed().map { "slurm submit \($0)" }
    }

    /// Submits `spec` as a batch job (after `scontrol ping`, with `probe`: the first try after
    /// an outage's wait); `then` gets the job id or why there is none.
    func submit(
        _ spec: LaunchSpec, client: SlurmClient, probe: Bool,
        then: @escaping (Result<String, SwarmError>) -> Void
    ) {
        let send: (String) -> Void = { [weak self] lane in
            // the piece's cancellation is not handed on: a stopping daemon must not kill an
            // sbatch halfway, which could leave a job it never heard of
            self?.background.submit(lane: lane) { _ in
                Self.submission(spec, client: client, probe: probe)
            } then: { [weak self] result in
                then(result)
                self?.freed(lane)
            }
        }
        if let lane = freeLanes.popLast() { send(lane) } else { waiting.append((spec.id, send)) }
    }

    /// Takes back the submissions still waiting for a lane (the controller stopped answering);
    /// returns their agents, whose continuations never run.
    func withdrawWaiting() -> [String] {
        defer { waiting.removeAll() }
        return waiting.map(\.id)
    }

    private func freed(_ lane: String) {
        if waiting.isEmpty {
            freeLanes.append(lane)
        } else {
            waiting.removeFirst().send(lane)
        }
    }

    /// One submission, as a lane runs it: `scontrol ping` first with `probe`, then `sbatch`.
    static func submission(_ spec: LaunchSpec, client: SlurmClient, probe: Bool) -> Result<
        String, SwarmError
    > {
        if probe && !client.controllerAnswers() {
            return .failure(SwarmError("`scontrol ping` says the controller is down", transient: true))
        }
        do {
            return .success(try client.submit(spec))
        } catch {
            return .failure(error)
        }
    }

    /// Looks up `jobs` with `squeue` unless a look is under way (false then: the next poll
    /// asks again); `then` gets what Slurm knows of them, or nil when it could not be asked.
    func poll(_ jobs: [String], client: SlurmClient, then: @escaping ([String: SlurmJob]?) -> Void) -> Bool {
        guard !polling else { return false }
        polling = true
        background.submit(lane: "slurm poll") { cancellation in
            client.jobs(jobs, cancellation: cancellation)
        } then: { [weak self] known in
            self?.polling = false
            then(known)
        }
        return true
    }

    /// Cancels `job` (with `signal`, only signals it; see `SlurmClient.cancel`). A failure is
    /// logged: the job's end, or its absence, shows at the next poll.
    func cancel(_ job: String, signal: String?, client: SlurmClient) {
        cancels.append((job, signal))
        cancelClient = client
        if !cancelling { sendCancels() }
    }

    private func sendCancels() {
        guard !cancels.isEmpty, let client = cancelClient else {
            cancelling = false
            return
        }
        cancelling = true
        // one scancel per signal, in the order they were first asked for
        var groups: [(signal: String?, jobs: [String])] = []
        for (job, signal) in cancels {
            if let index = groups.firstIndex(where: { $0.signal == signal }) {
                if !groups[index].jobs.contains(job) { groups[index].jobs.append(job) }
            } else {
                groups.append((signal, [job]))
            }
        }
        cancels.removeAll()
        let batch = groups
        background.submit(lane: "slurm cancel") { _ in
            batch.map { group in (group.jobs, client.cancel(jobs: group.jobs, signal: group.signal)) }
        } then: { [weak self] (outcomes: [([String], CommandOutput?)]) in
            for (jobs, output) in outcomes where output?.succeeded != true {
                let why = output.map {
                    $0.complaint.isEmpty ? "exit \($0.status.map { "\($0)" } ?? "killed")" : $0.complaint
                }
                self?.log.info("scancel \(jobs.joined(separator: " ")): \(why ?? "cannot run scancel")")
            }
            self?.sendCancels()
        }
    }
}
