import SwarmCore
import SwarmProtocol
import SwarmSystem

/// What the runtime needs to start one run of an agent's command (made by `LaunchPlanner`).
struct LaunchSpec: Sendable {
    var id: String
    var command: String
    var workingDirectory: String
    var environment: [String]
    var files: AgentFiles
    /// What the agent may do when it runs confined (it may write beneath its own folder,
    /// the first writable path); nil runs it unconfined.
    var rules: Landlock.Rules? = nil
    /// A HOME of its own (`home: private`) to create before the start, or nil.
    var privateHome: String? = nil
    /// The Landlock ABI whose rights a confined agent's ruleset handles.
    var landlockABI: Int = 0
}

/// How a launcher answered a start.
enum LaunchOutcome: Equatable {
    /// The run started; this is how it is known.
    case started(RunHandle)
    /// The launcher cannot take the run now (a Slurm controller that does not answer): the
    /// run waits in the queue until `until`, without spending an attempt.
    case deferred(until: Millis, reason: String)
    /// The run cannot start; the reason is for a person.
    case failed(String)
}

/// What starts and stops runs of agents' commands. Every launcher takes the same request,
/// `LaunchSpec` (command, working directory, environment of CLI.md, log files, confinement),
/// and tells how the run is known; the daemon watches it (a pidfd, or `squeue`) and judges
/// it the same way whichever ran it. swarm.json's `launcher` (or a template's) picks one, and
/// the kind travels with the run (`Run`), so that stopping it never guesses.
protocol AgentLauncher {
    /// Starts one run of `spec`'s command as a run of `kind`.
    mutating func start(_ spec: LaunchSpec, as kind: LauncherKind, now: Millis) -> LaunchOutcome

    /// Stops `run` of agent `id` and everything it started: asks it to end (`force` false:
    /// SIGTERM, or Slurm's cancel), or, when the grace period is over, makes sure (`force`:
    /// SIGKILL). Returns what it did, for the daemon's log ("" when nothing).
    func stop(id: String, run: Run?, force: Bool) -> String
}
