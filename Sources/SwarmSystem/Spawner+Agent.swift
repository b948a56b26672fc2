import CSwarmShims
@preconcurrency import Glibc

/// Why an agent's command could not start (`Spawner.spawnAgent`).
public struct AgentSpawnError: Error, Equatable {
    /// The step that failed.
    public enum Step: Sendable, Equatable {
        /// The lock on the agent's folder: it could not be opened, or (`error` is
        /// `.wouldBlock`) another process holds it.
        case lock
        /// A new session, the standard streams or the descriptors.
        case setup
        /// The working directory could not be entered.
        case directory
        /// no_new_privs or the Landlock ruleset could not be applied.
        case confinement
        /// The program could not be executed.
        case exec
        /// No child could be made at all.
        case fork
    }

    public var step: Step
    public var error: Errno
}

extension Spawner {
    /// Starts an agent's command: vfork, then in the child a new session, the folder
    /// `lockPath` opened and locked (without waiting) as descriptor 3, the standard streams,
    /// every other descriptor closed, default signals and an empty mask, the working
    /// directory and, with a `ruleset` (a descriptor from `Landlock.ruleset`, or -1 for
    /// none), no_new_privs and the ruleset; then execve. Only `request`'s executable,
    /// arguments, environment, working directory and stream paths are used.
    ///
    /// The lock is taken by the child itself, so no other process ever holds a copy of it:
    /// a sibling started at the same moment by another thread cannot make the agent's folder
    /// look in use after the agent ended. The ruleset is applied before the command's first
    /// instruction, so nothing it starts can widen it. Returns the pid; throws why the
    /// command did not start (the child is collected then).
    public static func spawnAgent(_ request: SpawnRequest, lockPath: String, ruleset: Int32 = -1)
        throws(AgentSpawnError) -> Int32
    {
        let argv = request.argumentVector.map { strdup($0) } + [nil]
        let envp = request.environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var failure: (Int32, Int32) = (0, 0)
        let pid = withUnsafeMutableBytes(of: &failure) { report in
            swarm_spawn_agent(
                request.executable, argv, envp, request.workingDirectory, request.stdinPath,
                request.stdoutPath ?? "/dev/null", request.stderrPath ?? "/dev/null", lockPath, ruleset,
                report.baseAddress!.assumingMemoryBound(to: Int32.self))
        }
        guard pid < 0 else { return pid }
        let steps: [Int32: AgentSpawnError.Step] = [
            Int32(SWARM_SPAWN_LOCK): .lock, Int32(SWARM_SPAWN_SETUP): .setup,
            Int32(SWARM_SPAWN_DIRECTORY): .directory,
            Int32(SWARM_SPAWN_CONFINE): .confinement, Int32(SWARM_SPAWN_EXEC): .exec,
        ]
        let error = failure.0 == 0 ? Errno.current : Errno(rawValue: failure.0)
        throw AgentSpawnError(step: steps[failure.1] ?? .fork, error: error)
    }
}
