import CSwarmShims
@preconcurrency import Glibc

/// Everything needed to start one child process.
public struct SpawnRequest: Sendable {
    /// Path of the program. No `PATH` search happens: give an absolute path (or one
    /// relative to the parent's current directory). It is also the child's `argv[0]`.
    public var executable: String
    /// The arguments after `argv[0]`.
    public var arguments: [String]
    /// `argv[0]`; nil passes the executable's path.
    public var name: String?
    /// The child's complete environment, as "KEY=VALUE" strings (nothing is inherited).
    public var environment: [String]
    /// The child's working directory; `nil` keeps the parent's.
    public var workingDirectory: String?
    /// Opened read-only as the child's standard input.
    public var stdinPath: String
    /// Opened `O_WRONLY | O_CREAT | O_APPEND` (mode 0644) as standard output; `nil` is /dev/null.
    public var stdoutPath: String?
    /// Opened like `stdoutPath`, as standard error; `nil` is /dev/null.
    public var stderrPath: String?
    /// Descriptors to hand down, as child descriptor number <- parent descriptor number.
    /// A target of 0, 1 or 2 replaces the matching standard stream: `[1: 1, 2: 2]` shares
    /// the parent's own output (a path such as /dev/stdout cannot: /proc/self/fd does not
    /// resolve while posix_spawn's child runs its file actions).
    public var passedDescriptors: [Int32: Int32]
    /// Start the child as the leader of a new session and process group (`setsid`), so
    /// that it has no controlling terminal and its whole group can be signalled at once.
    public var newSession: Bool

    /// Builds a request; only the executable is required.
    public init(
        executable: String,
        arguments: [String] = [],
        environment: [String] = [],
        workingDirectory: String? = nil,
        stdinPath: String = "/dev/null",
        stdoutPath: String? = nil,
        stderrPath: String? = nil,
        passedDescriptors: [Int32: Int32] = [:],
        newSession: Bool = true,
        name: String? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.name = name
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.stdinPath = stdinPath
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        self.passedDescriptors = passedDescriptors
        self.newSession = newSession
    }
}

extension SpawnRequest {
    /// `argv`: the name (or the executable's path), then the arguments.
    var argumentVector: [String] { [name ?? executable] + arguments }
}

/// Starts child processes with `posix_spawn(3)` and a clean slate.
public enum Spawner {
    /// Starts the process described by `request` and returns its pid.
    ///
    /// The child gets an empty signal mask and default dispositions for every catchable
    /// signal (a daemon's blocked or ignored signals never leak into agents), a new
    /// session when asked, its standard streams opened from the given paths (relative
    /// paths resolve against the parent's directory: the streams open before the
    /// `chdir`), the passed descriptors at their target numbers, and no other descriptor.
    /// Passed descriptors are first copied above every number involved, so a source that
    /// is also some other target (even a swap) arrives intact.
    ///
    /// Throws when the child cannot start: `.noSuchFile` for a missing executable or
    /// working directory, `.permissionDenied` for one that cannot be executed, and so on.
    /// The caller must reap the child (`Processes.reap`).
    public static func spawn(_ request: SpawnRequest) throws(Errno) -> Int32 {
        var attributes = posix_spawnattr_t()
        try checkReturnedError(posix_spawnattr_init(&attributes))
        defer { posix_spawnattr_destroy(&attributes) }
        try configure(&attributes, newSession: request.newSession)

        var actions = posix_spawn_file_actions_t()
        try checkReturnedError(posix_spawn_file_actions_init(&actions))
        defer { posix_spawn_file_actions_destroy(&actions) }
        try addFileActions(&actions, for: request)

        let argv = request.argumentVector.map { strdup($0) } + [nil]
        let envp = request.environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        try checkReturnedError(posix_spawn(&pid, request.executable, &actions, &attributes, argv, envp))
        return pid
    }

    /// Empty signal mask, default dispositions for every signal but the uncatchable
    /// SIGKILL and SIGSTOP, and `setsid` when `newSession`.
    ///
    /// The default set includes glibc's two internal signals (32 and 33): left out,
    /// posix_spawn would hand them to the child ignored, which a fork and exec never does.
    private static func configure(_ attributes: inout posix_spawnattr_t, newSession: Bool) throws(Errno) {
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        try checkReturnedError(posix_spawnattr_setsigmask(&attributes, &emptyMask))

        var defaults = sigset_t()
        swarm_sigset_every_catchable(&defaults)
        try checkReturnedError(posix_spawnattr_setsigdefault(&attributes, &defaults))

        var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newSession { flags |= swarm_spawn_setsid_flag() }
        try checkReturnedError(posix_spawnattr_setflags(&attributes, flags))
    }

    /// The child-side steps, run in this order: copy passed descriptors to staging
    /// numbers above everything involved; open the standard streams not replaced by a
    /// passed descriptor; chdir; move the staged copies to their targets; close the gaps
    /// below the highest target and everything above it.
    private static func addFileActions(
        _ actions: inout posix_spawn_file_actions_t, for request: SpawnRequest
    ) throws(Errno) {
        let targets = request.passedDescriptors.keys.sorted()
        let highestInvolved = ([2] + targets + Array(request.passedDescriptors.values)).max()!
        var staged: [(target: Int32, stage: Int32)] = []
        for (index, target) in targets.enumerated() {
            let stage = highestInvolved + 1 + Int32(index)
            try checkReturnedError(
                posix_spawn_file_actions_adddup2(&actions, request.passedDescriptors[target]!, stage))
            staged.append((target, stage))
        }

        let streams: [(fd: Int32, path: String, flags: Int32)] = [
            (0, request.stdinPath, O_RDONLY),
            (1, request.stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND),
            (2, request.stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND),
        ]
        for stream in streams where !targets.contains(stream.fd) {
            try checkReturnedError(
                posix_spawn_file_actions_addopen(&actions, stream.fd, stream.path, stream.flags, 0o644))
        }

        if let directory = request.workingDirectory {
            try checkReturnedError(swarm_spawn_add_chdir(&actions, directory))
        }

        for (target, stage) in staged {
            try checkReturnedError(posix_spawn_file_actions_adddup2(&actions, stage, target))
        }

        let highestTarget = targets.last ?? 2
        for fd in Int32(3)..<max(3, highestTarget) where !targets.contains(fd) {
            try checkReturnedError(posix_spawn_file_actions_addclose(&actions, fd))
        }
        try checkReturnedError(swarm_spawn_add_closefrom(&actions, max(3, highestTarget + 1)))
    }
}
