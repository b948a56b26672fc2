import CSwarmShims
@preconcurrency import Glibc

/// Landlock, the Linux security module that lets an unprivileged process give up file-system
/// rights for itself and everything it later runs (https://docs.kernel.org/userspace-api/landlock.html).
///
/// swarm uses it for one thing: an agent may write only beneath the paths it was given (its
/// own folder, its workspace, what its template lists). Reading and executing stay open
/// everywhere. The rights are those of the ABI the kernel offers: each new ABI adds rights,
/// and a ruleset handles only those the running kernel knows.
///
/// What Landlock does not restrict: `stat`, `chmod`, `chown`, `utime`, `setxattr`, `flock`,
/// `fcntl` and `access` on any path; reads; descriptors opened before `restrict` (they keep
/// the rights they were opened with); connecting to an existing Unix socket; the network
/// (not handled here); signals to processes of the same user (not handled here).
public enum Landlock {
    /// Device files every confined command may write: the usual sinks and sources, and the
    /// controlling terminal if it ever gets one.
    public static let deviceFiles = [
        "/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/random", "/dev/urandom",
    ]

    /// File-system access rights, numbered as the kernel's `LANDLOCK_ACCESS_FS_*`.
    public struct Access: OptionSet, Sendable, Hashable {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }

        /// Execute a file (ABI 1).
        public static let execute = Access(rawValue: 1 << 0)
        /// Open a file for writing (ABI 1).
        public static let writeFile = Access(rawValue: 1 << 1)
        /// Open a file for reading (ABI 1).
        public static let readFile = Access(rawValue: 1 << 2)
        /// List a directory (ABI 1).
        public static let readDirectory = Access(rawValue: 1 << 3)
        /// Remove, or rename away, a directory (ABI 1).
        public static let removeDirectory = Access(rawValue: 1 << 4)
        /// Unlink, or rename away, a file (ABI 1).
        public static let removeFile = Access(rawValue: 1 << 5)
        /// Create a character device (ABI 1).
        public static let makeCharacterDevice = Access(rawValue: 1 << 6)
        /// Create a directory (ABI 1).
        public static let makeDirectory = Access(rawValue: 1 << 7)
        /// Create, rename or link a regular file (ABI 1).
        public static let makeRegular = Access(rawValue: 1 << 8)
        /// Create a Unix socket (ABI 1).
        public static let makeSocket = Access(rawValue: 1 << 9)
        /// Create a named pipe (ABI 1).
        public static let makeFifo = Access(rawValue: 1 << 10)
        /// Create a block device (ABI 1).
        public static let makeBlockDevice = Access(rawValue: 1 << 11)
        /// Create a symbolic link (ABI 1).
        public static let makeSymlink = Access(rawValue: 1 << 12)
        /// Move or link a file into another directory (ABI 2). Without it in the handled set
        /// (ABI 1), such a rename or link is always refused, with `EXDEV`.
        public static let refer = Access(rawValue: 1 << 13)
        /// Truncate a file: `truncate(2)`, `ftruncate(2)`, `O_TRUNC` (ABI 3).
        public static let truncate = Access(rawValue: 1 << 14)
        /// `ioctl(2)` on a character or block device opened after confinement (ABI 5).
        public static let ioctlDevice = Access(rawValue: 1 << 15)
    }

    /// The rights that change the file system, as far as `abi` knows them: these are handled
    /// (so denied wherever no rule allows them); reading and executing are not.
    public static func writeAccess(abi: Int) -> Access {
        guard abi >= 1 else { return [] }
        var access: Access = [
            .writeFile, .removeDirectory, .removeFile, .makeCharacterDevice, .makeDirectory,
            .makeRegular, .makeSocket, .makeFifo, .makeBlockDevice, .makeSymlink,
        ]
        if abi >= 2 { access.insert(.refer) }
        if abi >= 3 { access.insert(.truncate) }
        if abi >= 5 { access.insert(.ioctlDevice) }
        return access
    }

    /// The rights a rule on a file (anything but a directory) may carry; the kernel refuses
    /// directory-only rights such as `makeRegular` on a file.
    public static let fileAccess: Access = [.execute, .writeFile, .readFile, .truncate, .ioctlDevice]

    /// The highest Landlock ABI the running kernel offers: 1 (Linux 5.13), 2 (5.19: refer),
    /// 3 (6.2: truncate), 4 (6.7: TCP), 5 (6.10: device ioctl), 6 (6.12: scopes), 7 (6.15:
    /// audit). 0 when the kernel has no Landlock or it is disabled (not in `lsm=`).
    public static func abi() -> Int {
        kernelABI
    }

    /// The kernel's answer, asked once: it cannot change while the process runs.
    private static let kernelABI = max(0, Int(swarm_landlock_abi()))

    /// The environment variable that lowers the ABI `abi(environment:)` reports: `0` makes
    /// Landlock look missing, `3` makes a newer kernel behave like Linux 6.2. For tests; it
    /// can never raise the ABI above the kernel's.
    public static let abiOverrideVariable = "SWARM_LANDLOCK_ABI"

    /// The kernel's ABI, lowered to `SWARM_LANDLOCK_ABI` when `environment` sets it to a
    /// smaller whole number.
    public static func abi(environment: [String: String]) -> Int {
        let kernel = Landlock.abi()
        guard let text = environment[abiOverrideVariable], let cap = Int(text), cap >= 0 else {
            return kernel
        }
        return min(kernel, cap)
    }

    /// Confines the calling thread, and every program it `execve`s and every process those
    /// start, for good: from now on they may change the file system only beneath
    /// `writablePaths`. Reading and executing stay allowed everywhere. Also sets
    /// no_new_privs (no setuid or file-capability gains through `execve`), which Landlock
    /// requires of an unprivileged caller.
    ///
    /// Every right of `writeAccess(abi:)` for the kernel's ABI is handled. A directory in
    /// `writablePaths` grants all of them beneath it; a file (such as `/dev/null`) grants
    /// those that apply to files (`writeFile`, `truncate`, `ioctlDevice`). Symbolic links in
    /// the paths are followed. Paths that do not exist are skipped: nothing can be created
    /// there later. The restriction applies to the calling thread only (and what it
    /// becomes): call it on the thread that then calls `Processes.replace`.
    ///
    /// Throws the kernel's error: `EOPNOTSUPP` or `ENOSYS` without Landlock, `EACCES` for a
    /// path that cannot be opened, `E2BIG` past 16 nested confinements. A failure before
    /// the last step leaves the thread unconfined: never run the command then.
    public static func restrict(writablePaths: [String]) throws(Errno) {
        try restrict(writablePaths: writablePaths, abi: abi())
    }

    /// `restrict(writablePaths:)` with the rights of `abi`, which must be between 1 and the
    /// kernel's ABI (a lower one handles fewer rights, as an older kernel would).
    public static func restrict(writablePaths: [String], abi: Int) throws(Errno) {
        let ruleset = try ruleset(writablePaths: writablePaths, abi: abi)
        _ = try retryingInterrupts { swarm_set_no_new_privs() }
        _ = try retryingInterrupts { swarm_landlock_restrict_self(ruleset.rawValue) }
    }

    /// The ruleset `restrict` applies, built without confining anyone: a spawner hands it to
    /// a child, which applies it between fork and exec (`Spawner.spawnConfined`). The paths
    /// of `shared`, opened beforehand, are writable as well.
    public static func ruleset(writablePaths: [String], abi: Int, shared: SharedPaths? = nil) throws(Errno)
        -> FileDescriptor
    {
        let kernel = Landlock.abi()
        guard abi >= 1, kernel >= 1 else {
            throw kernel >= 1 ? Errno.invalid : Errno(rawValue: EOPNOTSUPP)
        }
        let handled = writeAccess(abi: min(abi, kernel))
        let ruleset = FileDescriptor(
            adopting: try retryingInterrupts { swarm_landlock_create_ruleset(handled.rawValue) })
        for path in writablePaths where !path.isEmpty {
            try allow(path, handled: handled, in: ruleset)
        }
        for opened in shared?.opened ?? [] {
            try addRule(opened.descriptor, isDirectory: opened.isDirectory, handled: handled, in: ruleset)
        }
        return ruleset
    }

    /// Paths that many rulesets grant and that do not change while the process runs (the
    /// device files), opened once (`O_PATH`) so that each ruleset adds them without looking
    /// them up again. A path that does not exist when they are opened is left out.
    public final class SharedPaths: Sendable {
        let opened: [(descriptor: Int32, isDirectory: Bool)]

        /// Opens `paths`.
        public init(_ paths: [String]) {
            var opened: [(Int32, Bool)] = []
            for path in paths where !path.isEmpty {
                let raw = swarm_open_path(path)
                guard raw >= 0 else { continue }
                var status = stat()
                guard fstat(raw, &status) == 0 else {
                    close(raw)
                    continue
                }
                opened.append((raw, status.st_mode & S_IFMT == S_IFDIR))
            }
            self.opened = opened
        }

        deinit {
            for entry in opened { close(entry.descriptor) }
        }
    }

    /// Adds one rule: every handled right beneath `path` (a directory), or the file rights
    /// on it (anything else). A path that does not exist adds nothing.
    private static func allow(_ path: String, handled: Access, in ruleset: borrowing FileDescriptor)
        throws(Errno)
    {
        let raw: Int32
        do {
            raw = try retryingInterrupts { swarm_open_path(path) }
        } catch .noSuchFile, .notDirectory {
            return
        }
        let target = FileDescriptor(adopting: raw)
        let isDirectory = try target.status().kind == .directory
        try addRule(target.rawValue, isDirectory: isDirectory, handled: handled, in: ruleset)
    }

    /// Adds the rule for the open path `descriptor`: every handled right beneath a
    /// directory, the file rights on anything else.
    private static func addRule(
        _ descriptor: Int32, isDirectory: Bool, handled: Access, in ruleset: borrowing FileDescriptor
    ) throws(Errno) {
        let allowed = isDirectory ? handled : handled.intersection(fileAccess)
        guard !allowed.isEmpty else { return }
        _ = try retryingInterrupts {
            swarm_landlock_add_path_rule(ruleset.rawValue, descriptor, allowed.rawValue)
        }
    }

    /// Whether the calling thread has no_new_privs set (it does after `restrict`).
    public static var noNewPrivileges: Bool {
        swarm_get_no_new_privs() == 1
    }
}
