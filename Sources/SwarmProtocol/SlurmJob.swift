/// One job as `squeue` describes it: the fields the runtime reads.
public struct SlurmJob: Sendable, Equatable {
    /// The job id (`JobID`).
    public var id: String
    /// `Name`: the agent's id when the runtime submitted it.
    public var name: String
    /// `State`, e.g. `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, `TIMEOUT`.
    public var state: String
    /// `Reason`: why a job waits or ended (`None`, `Resources`, `Priority`, `NonZeroExitCode`).
    public var reason: String
    /// The exit code of the batch script.
    public var exitCode: Int32
    /// The signal that ended it; 0 when none.
    public var signal: Int32
    /// `StdOut`: where its standard output goes.
    public var stdout: String
    /// `NodeList`: the nodes it runs or ran on (empty while pending).
    public var nodes: String

    /// Makes a job description.
    public init(
        id: String, name: String, state: String, reason: String = "None", exitCode: Int32 = 0,
        signal: Int32 = 0, stdout: String = "", nodes: String = ""
    ) {
        self.id = id
        self.name = name
        self.state = state
        self.reason = reason
        self.exitCode = exitCode
        self.signal = signal
        self.stdout = stdout
        self.nodes = nodes
    }

    /// Where a job stands, in the runtime's terms.
    public enum Phase: Sendable, Equatable {
        /// Slurm holds it: waiting in its queue, or suspended. No sign of life is expected.
        case held
        /// Its processes run (or are being cleaned up after the script ended).
        case running
        /// It is over; `problem` says why when Slurm (not the command) ended it, as words that
        /// follow "Slurm job N".
        case ended(problem: String?)
    }

    /// The job's phase from its `State`. An unknown state counts as running, so a state a
    /// later Slurm adds can neither end an agent early nor hide it from the liveness rules.
    public var phase: Phase {
        switch state {
        case "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD",
            "SPECIAL_EXIT", "SUSPENDED", "STOPPED":
            return .held
        case "COMPLETED", "FAILED":
            return .ended(problem: nil)
        case "CANCELLED":
            return .ended(problem: "was cancelled (scancel, or by an administrator)")
        case "TIMEOUT":
            return .ended(problem: "reached its time limit (raise --time in swarm.json's slurm.arguments)")
        case "NODE_FAIL":
            return .ended(problem: "ended because its node \(nodes) failed")
        case "BOOT_FAIL":
            return .ended(problem: "ended because its node \(nodes) failed to boot")
        case "PREEMPTED":
            return .ended(problem: "was preempted by a job of higher priority")
        case "OUT_OF_MEMORY":
            return .ended(
                problem: "ran out of memory on \(nodes) (ask for more with --mem in slurm.arguments)")
        case "DEADLINE":
            return .ended(problem: "missed its deadline")
        case "REVOKED":
            return .ended(problem: "was revoked (it started on another cluster of the federation)")
        default:
            return .running
        }
    }

    /// The `--Format` of `squeue` whose lines `parse` reads: fields separated by `|`, the path
    /// last (only it may hold a `|`), each printed whole.
    public static let queueFormat =
        "JobID:|,State:|,Reason:|,exit_code:|,NodeList:|,Name:|,StdOut:|"

    /// Reads the output of `squeue --noheader --Format=` `queueFormat`: one job a line;
    /// unreadable lines give nothing.
    public static func parseList(_ text: String) -> [SlurmJob] {
        text.split(separator: "\n").compactMap { parse(String($0)) }
    }

    /// Reads one line of `squeue --noheader --Format=` `queueFormat`: id, state, reason, the
    /// job's wait status (`exit_code`: a code of 3 is 768, signal 9 is 9), nodes, name and
    /// standard output's path.
    public static func parse(_ line: String) -> SlurmJob? {
        let fields = line.split(separator: "|", maxSplits: 6, omittingEmptySubsequences: false).map(
            String.init)
        guard fields.count == 7, !fields[0].isEmpty, fields[0].allSatisfy(\.isNumber), !fields[1].isEmpty,
            let status = Int32(fields[3])
        else { return nil }
        var stdout = fields[6]
        if stdout.hasSuffix("|") { stdout.removeLast() }
        return SlurmJob(
            id: fields[0], name: fields[5], state: fields[1], reason: fields[2].isEmpty ? "None" : fields[2],
            exitCode: (status >> 8) & 0xFF, signal: status & 0x7F, stdout: stdout, nodes: fields[4])
    }
}
