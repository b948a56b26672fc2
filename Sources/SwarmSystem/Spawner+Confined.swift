import CSwarmShims
@preconcurrency import Glibc

extension Spawner {
    /// Starts `request` confined by `ruleset` (from `Landlock.ruleset`): vfork, then in the
    /// child a new session, the standard streams, descriptor 3 (`request.passedDescriptors[3]`,
    /// the only one passed), every other descriptor closed, default signals and an empty mask,
    /// no_new_privs and the ruleset, then execve. The ruleset is applied before the command's
    /// first instruction, so nothing it starts can widen it. Returns the pid. A child that
    /// cannot be confined exits 125 without running the command.
    public static func spawnConfined(_ request: SpawnRequest, ruleset: borrowing FileDescriptor) throws(Errno)
        -> Int32
    {
        guard let lock = request.passedDescriptors[3], request.passedDescriptors.count == 1 else {
            throw Errno.invalid
        }
        let argv = request.argumentVector.map { strdup($0) } + [nil]
        let envp = request.environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let pid = swarm_spawn_confined(
            request.executable, argv, envp, request.workingDirectory, request.stdinPath,
            request.stdoutPath ?? "/dev/null", request.stderrPath ?? "/dev/null", lock, ruleset.rawValue)
        guard pid > 0 else { throw Errno.current }
        return pid
    }
}
