import SwarmRuntime
import SwarmSystem

/// `swarm confine`: the runtime starts every confined agent through it. It applies a Landlock
/// ruleset to itself, then `execve`s the agent's command in its place (same pid, same
/// session), so the command and everything it starts are confined before their first
/// instruction and can never widen the rules.
///
/// It parses its own arguments (`--write` repeats, and everything after `--` belongs to the
/// command) and runs before anything else in `swarm`, so that no state of `swarm` (an
/// ignored SIGPIPE, an open descriptor) reaches the command.
enum ConfineCommand {
    static let usage =
        "swarm confine [--write PATH]... [--read-system] [--read PATH]... [--connect PORT]... [--no-connect] [--scoped] [--keep FD]... -- COMMAND [ARG]..."
    static let summary = "run COMMAND confined by Landlock: it may write only beneath the --write paths"
    static let details =
        "The runtime starts each agent with it on a Slurm node (see swarm.json \"confinement\"). COMMAND and every process it starts may create, change, rename or remove files only beneath the --write paths (and write to /dev/null, /dev/zero, /dev/full, /dev/tty, /dev/random and /dev/urandom). Reading and executing stay allowed everywhere, unless --read-system or --read is given: then only beneath the system's program and library folders (with --read-system), the --read paths and the --write paths. --connect PORT allows TCP connects to that port only (repeat it); --no-connect allows none (Landlock ABI 4). --scoped keeps COMMAND from signalling, or reaching through an abstract Unix socket, any process it did not start (Landlock ABI 6). Paths that do not exist are skipped. Descriptors other than 0, 1, 2 and the --keep ones are closed on exec. COMMAND without a / is looked up in PATH. Exit status: 125 when the confinement cannot be applied (no Landlock in this kernel, or an error; COMMAND is not run), 126 when COMMAND cannot be executed, 127 when it is not found, else COMMAND's own."

    /// Device files every confined command may write.
    static let deviceFiles = Landlock.deviceFiles

    /// What to run and how to confine it.
    struct Plan: Sendable, Equatable {
        /// What the command may do (`--write`, `--read`, `--connect`, `--scoped`).
        var rules = Landlock.Rules(writable: [])
        /// Whether the system's program and library folders are readable (`--read-system`).
        var readsSystem = false
        /// Descriptors above 2 that the command inherits.
        var kept: [Int32] = []
        /// The command and its arguments.
        var command: [String] = []
    }

    /// The outcome of parsing.
    enum Request: Sendable, Equatable {
        case help
        case run(Plan)
    }

    /// Parses the words after `confine`: options up to `--` (or up to the first word that
    /// is not an option), then the command.
    static func parse(_ arguments: [String]) -> Result<Request, UsageError> {
        var plan = Plan()
        var words = arguments[...]
        func value(_ word: String, _ name: String) -> (String?, consumed: Int) {
            if word.hasPrefix(name + "=") { return (String(word.dropFirst(name.count + 1)), 1) }
            let next = words.dropFirst().first
            return (next, 2)
        }
        while let word = words.first {
            if word == "--" {
                words = words.dropFirst()
                break
            }
            if !word.hasPrefix("-") || word == "-" { break }
            switch word {
            case "--help", "-h":
                return .success(.help)
            case _ where word == "--write" || word.hasPrefix("--write="):
                let (path, consumed) = value(word, "--write")
                guard let path, !path.isEmpty else {
                    return .failure(UsageError("--write needs a path", command: "confine"))
                }
                plan.rules.writable.append(path)
                words = words.dropFirst(consumed)
            case _ where word == "--read" || word.hasPrefix("--read="):
                let (path, consumed) = value(word, "--read")
                guard let path, !path.isEmpty else {
                    return .failure(UsageError("--read needs a path", command: "confine"))
                }
                plan.rules.readable = (plan.rules.readable ?? []) + [path]
                words = words.dropFirst(consumed)
            case "--read-system":
                plan.readsSystem = true
                plan.rules.readable = plan.rules.readable ?? []
                words = words.dropFirst()
            case _ where word == "--connect" || word.hasPrefix("--connect="):
                let (text, consumed) = value(word, "--connect")
                guard let text, text.allSatisfy({ ("0"..."9").contains($0) }), let port = UInt16(text),
                    port > 0
                else {
                    return .failure(
                        UsageError(
                            "--connect needs a TCP port from 1 to 65535, e.g. --connect 443",
                            command: "confine"))
                }
                plan.rules.connectPorts = (plan.rules.connectPorts ?? []) + [port]
                words = words.dropFirst(consumed)
            case "--no-connect":
                plan.rules.connectPorts = plan.rules.connectPorts ?? []
                words = words.dropFirst()
            case "--scoped":
                plan.rules.scoped = true
                words = words.dropFirst()
            case _ where word == "--keep" || word.hasPrefix("--keep="):
                let (text, consumed) = value(word, "--keep")
                guard let text, let fd = Int32(text), fd >= 0, fd < 1 << 20 else {
                    return .failure(
                        UsageError("--keep needs a descriptor number, e.g. --keep 3", command: "confine"))
                }
                if fd > 2 && !plan.kept.contains(fd) { plan.kept.append(fd) }
                words = words.dropFirst(consumed)
            default:
                return .failure(
                    UsageError(
                        "unknown option \(word) for `swarm confine`; put the command after --",
                        command: "confine"))
            }
        }
        guard !words.isEmpty, !words.first!.isEmpty else {
            return .failure(UsageError("no command to run; usage: \(usage)", command: "confine"))
        }
        plan.command = Array(words)
        return .success(.run(plan))
    }

    /// Runs `swarm confine` with the words after `confine`. Returns only when the command
    /// could not be started: its exit status says why.
    static func main(_ arguments: [String]) -> Int32 {
        let plan: Plan
        switch parse(arguments) {
        case .success(.help):
            Output.print("Usage: \(usage)\n\n\(summary).\n\n\(CommandTable.wrap(details))")
            return 0
        case .success(.run(let parsed)):
            plan = parsed
        case .failure(let error):
            Output.errorLine("swarm confine: " + error.message)
            return 2
        }
        let command = plan.command[0]
        let environment = Processes.currentEnvironment()
        let abi = Landlock.abi(environment: ProcessEnvironment.snapshot())
        guard abi > 0 else {
            Output.errorLine(
                "swarm confine: this kernel offers no Landlock (it needs Linux 5.13 or later with "
                    + "landlock in the lsm= boot list), so \(command) was not run; set \"confinement\": "
                    + "\"warn\" or \"off\" in swarm/swarm.json to run agents unconfined")
            return 125
        }
        do {
            try Processes.closeOnExec(keeping: Set(plan.kept))
        } catch {
            Output.errorLine(
                "swarm confine: cannot mark descriptors close-on-exec: \(error); \(command) was not run")
            return 125
        }
        do {
            var rules = plan.rules
            rules.writable += deviceFiles
            if plan.readsSystem { rules.readable = AccessPlanner.systemFolders() + (rules.readable ?? []) }
            try Landlock.restrict(rules, abi: abi)
        } catch {
            Output.errorLine(
                "swarm confine: cannot apply the Landlock ruleset (ABI \(abi)) for "
                    + "\(plan.rules.writable.joined(separator: ", ")): \(error); \(command) was not run")
            return 125
        }
        Processes.resetSignalsForExec()
        do {
            try Processes.replace(
                executable: command, arguments: Array(plan.command.dropFirst()), environment: environment)
        } catch {
            Output.errorLine("swarm confine: cannot run \(command): \(error)")
            return error == .noSuchFile ? 127 : 126
        }
    }
}
