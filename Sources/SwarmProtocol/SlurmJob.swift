/// One job as `scontrol --oneliner show job` describes it: the fields the runtime reads.
public struct SlurmJob: Sendable, Equatable {
    /// The job id (`JobId`).
    public var id: String
    /// `JobName`: the agent's id when the runtime submitted it.
    public var name: String
    /// `JobState`, e.g. `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, `TIMEOUT`.
    public var state: String
    /// `Reason`: why a job waits or ended (`None`, `Resources`, `Priority`, `NonZeroExitCode`).
    public var reason: String
    /// The exit code of the batch script (`ExitCode=CODE:SIGNAL`, first number).
    public var exitCode: Int32
    /// The signal that ended it (`ExitCode=CODE:SIGNAL`, second number); 0 when none.
    public var signal: Int32
    /// `StdOut`: where its standard output goes.
    public var stdout: String
    /// `NodeList`: the nodes it runs or ran on (`(null)` while pending).
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

    /// The job's phase from its `JobState`. An unknown state counts as running, so a state a
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
            return .ended(problem: "ran out of memory on \(nodes) (ask for more with --mem in slurm.arguments)")
        case "DEADLINE":
            return .ended(problem: "missed its deadline")
        case "REVOKED":
            return .ended(problem: "was revoked (it started on another cluster of the federation)")
        default:
            return .running
        }
    }

    /// Reads the output of `scontrol --oneliner show job` (one job a line; "No jobs in the
    /// system" and unreadable lines give nothing).
    public static func parseList(_ text: String) -> [SlurmJob] {
        text.split(separator: "\n").compactMap { parse(String($0)) }
    }

    /// Reads one line of `scontrol --oneliner show job`: `Key=Value` pairs separated by
    /// spaces. A word without `=` continues the previous value (a name or path with a space);
    /// id, state, reason, exit code and nodes are one word each.
    public static func parse(_ line: String) -> SlurmJob? {
        var fields: [String: String] = [:]
        var lastKey: String?
        for word in line.split(separator: " ", omittingEmptySubsequences: true) {
            if let equals = word.firstIndex(of: "="), isKey(word[..<equals]) {
                let key = String(word[..<equals])
                fields[key] = String(word[word.index(after: equals)...])
                lastKey = key
            } else if let key = lastKey {
                fields[key, default: ""] += " " + word
            }
        }
        // only names and paths may hold spaces; of any other value the first word counts
        func word(_ key: String) -> String? { fields[key].map { String($0.prefix { $0 != " " }) } }
        guard let id = word("JobId"), !id.isEmpty, let state = word("JobState"), !state.isEmpty else { return nil }
        let exit = (word("ExitCode") ?? "0:0").split(separator: ":")
        return SlurmJob(
            id: id, name: fields["JobName"] ?? "", state: state, reason: word("Reason") ?? "None",
            exitCode: exit.first.flatMap { Int32($0) } ?? 0,
            signal: exit.dropFirst().first.flatMap { Int32($0) } ?? 0,
            stdout: fields["StdOut"] ?? "", nodes: word("NodeList") ?? "")
    }

    /// A field name of scontrol: letters, digits and `:` only, starting with a capital.
    private static func isKey(_ word: Substring) -> Bool {
        guard let first = word.first, first.isUppercase else { return false }
        return word.allSatisfy { $0.isLetter || $0.isNumber || $0 == ":" || $0 == "_" }
    }
}
