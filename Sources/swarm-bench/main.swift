import SwarmProtocol
import SwarmSystem

/// `swarm-bench [--quick] [--json FILE] [--only NAME...]`: measures the runtime against the
/// bare-spawn limit and prints a table; the figures go to FILE as JSON too.
func benchMain() -> Int32 {
    var arguments = Array(CommandLine.arguments.dropFirst())
    var quick = false
    var jsonPath = "benchmarks.json"
    var only: Set<String> = []
    var tasks: Int?
    var slots: Int?
    var launcher: LauncherKind?
    while let word = arguments.first {
        arguments.removeFirst()
        switch word {
        case "--quick": quick = true
        case "--json" where !arguments.isEmpty: jsonPath = arguments.removeFirst()
        case "--only" where !arguments.isEmpty: only.insert(arguments.removeFirst())
        case "--tasks" where !arguments.isEmpty:
            guard let n = Int(arguments.removeFirst()), n > 0 else {
                StandardStreams.write(2, "swarm-bench: --tasks needs a positive number\n")
                return 2
            }
            tasks = n
        case "--slots" where !arguments.isEmpty:
            guard let n = Int(arguments.removeFirst()), n > 0 else {
                StandardStreams.write(2, "swarm-bench: --slots needs a positive number\n")
                return 2
            }
            slots = n
        case "--launcher" where !arguments.isEmpty:
            let word = arguments.removeFirst()
            guard let kind = LauncherKind(rawValue: word) else {
                StandardStreams.write(
                    2, "swarm-bench: --launcher is local, slurm or slurm-srun, not \(word)\n")
                return 2
            }
            launcher = kind
        case "--help", "-h":
            StandardStreams.write(
                1,
                "usage: swarm-bench [--quick] [--tasks N] [--slots N] [--launcher KIND] [--json FILE]\n"
                    + "                   [--only throughput|latency|scale|restart|agent|messages|report|merges|launchers|slow-slurm]\n"
                    + "launchers (local, Slurm batch jobs, Slurm job steps; --launcher picks one) and slow-slurm (local\n"
                    + "agents while each Slurm command takes 2 s) run only when named; they need a Slurm cluster\n"
            )
            return 0
        default:
            StandardStreams.write(2, "swarm-bench: unknown argument \(word); see --help\n")
            return 2
        }
    }
    var scenarios =
        quick
        ? Scenarios(tasks: 100, samples: 20, sleepers: 50, finished: 1_000, reportMetas: 4, reportWorkers: 5)
        : Scenarios(tasks: 1_000, samples: 100, sleepers: 1_000, finished: 10_000)
    if let tasks { scenarios.tasks = tasks }
    if let slots { scenarios.slots = slots }
    scenarios.launcher = launcher
    let plan: [(String, () throws -> [Figure])] = [
        ("throughput", scenarios.throughput), ("latency", scenarios.latency), ("scale", scenarios.scale),
        ("restart", scenarios.restart), ("agent", scenarios.agentSide), ("messages", scenarios.messages),
        ("report", scenarios.report), ("merges", scenarios.merges),
        ("launchers", scenarios.launchers), ("slow-slurm", scenarios.slowSlurm),
    ]
    // the scenarios that need a Slurm cluster run only when asked for by name
    let onlyWhenAsked: Set<String> = ["launchers", "slow-slurm"]
    var figures: [Figure] = []
    var failed = false
    for (name, scenario) in plan where only.contains(name) || only.isEmpty && !onlyWhenAsked.contains(name) {
        do {
            figures += try scenario()
        } catch {
            StandardStreams.write(2, "swarm-bench: \(name) failed: \(error)\n")
            failed = true
        }
    }
    StandardStreams.write(1, Report.table(figures, quick: quick))
    do {
        try FileSystem.writeAtomically(jsonPath, Array(Report.json(figures, quick: quick).utf8))
    } catch {
        StandardStreams.write(2, "swarm-bench: cannot write \(jsonPath): \(error)\n")
        return 1
    }
    return failed ? 1 : 0
}

Processes.exit(benchMain())
