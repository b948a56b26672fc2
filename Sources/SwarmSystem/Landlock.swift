import CSwarmShims
@preconcurrency import Glibc

/// Landlock, the Linux security module that lets an unprivileged process give up rights for
/// itself and everything it later runs (https://docs.kernel.org/userspace-api/landlock.html).
///
/// swarm uses it to confine agents (`Rules`): an agent may write only beneath the paths it was
/// given (its own folder, its workspace, what its template lists); optionally it may read and
/// execute only beneath an allowlist, and connect over TCP only to listed ports (ABI 4); and
/// from ABI 6 it can neither signal nor reach through an abstract Unix socket any process
/// outside its own Landlock domain (the daemon, a sibling agent, the user's other processes),
/// while its own descendants, which share its domain, stay within reach. A ruleset handles
/// only the rights of the ABI the running kernel offers: each new ABI adds rights.
///
/// What Landlock does not restrict: `stat`, `chmod`, `chown`, `utime`, `setxattr`, `flock`,
/// `fcntl` and `access` on any path; descriptors opened before `restrict` (they keep the
/// rights they were opened with); connecting to an existing Unix socket by path; UDP and
/// every other protocol than TCP (so DNS over UDP works everywhere); sockets opened before
/// `restrict`; signals to processes of the same domain.
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

    /// Rights to read and execute: handled only when a ruleset restricts reading.
    public static let readAccess: Access = [.execute, .readFile, .readDirectory]

    /// Network rights, numbered as the kernel's `LANDLOCK_ACCESS_NET_*` (ABI 4).
    public struct NetworkAccess: OptionSet, Sendable, Hashable {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }

        /// Bind a TCP socket to a port.
        public static let bindTCP = NetworkAccess(rawValue: 1 << 0)
        /// Connect a TCP socket to a port.
        public static let connectTCP = NetworkAccess(rawValue: 1 << 1)
    }

    /// Restrictions on reaching outside the domain, numbered as the kernel's
    /// `LANDLOCK_SCOPE_*` (ABI 6).
    public struct Scope: OptionSet, Sendable, Hashable {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }

        /// Connect to an abstract Unix socket created outside the domain.
        public static let abstractUnixSocket = Scope(rawValue: 1 << 0)
        /// Send a signal to a process outside the domain.
        public static let signal = Scope(rawValue: 1 << 1)
    }

    /// The lowest ABI with TCP port rules.
    public static let networkABI = 4
    /// The lowest ABI with signal and abstract-socket scoping.
    public static let scopeABI = 6

    /// What a confined command may do.
    public struct Rules: Sendable, Equatable {
        /// Paths beneath which it may do anything (reading included).
        public var writable: [String]
        /// Paths beneath which it may read and execute; nil leaves reading and executing
        /// open everywhere.
        public var readable: [String]?
        /// The TCP ports it may connect to; nil leaves TCP open. Needs ABI 4: an older
        /// kernel leaves TCP open whatever this says.
        public var connectPorts: [UInt16]?
        /// Whether it is kept from signalling, or reaching through an abstract Unix socket,
        /// any process outside its own domain. Needs ABI 6.
        public var scoped: Bool

        /// Rules that only restrict writing, as `Landlock` always has.
        public init(
            writable: [String], readable: [String]? = nil, connectPorts: [UInt16]? = nil, scoped: Bool = false
        ) {
            self.writable = writable
            self.readable = readable
            self.connectPorts = connectPorts
            self.scoped = scoped
        }
    }

    /// The file-system rights a ruleset of `rules` handles at `abi`: the write rights, and
    /// the read rights when reading is restricted.
    public static func handledFileSystem(_ rules: Rules, abi: Int) -> Access {
        let write = writeAccess(abi: abi)
        guard !write.isEmpty, rules.readable != nil else { return write }
        return write.union(readAccess)
    }

    /// Confines the calling thread, and every program it `execve`s and every process those
    /// start, for good, to `rules` with the rights of `abi` (between 1 and the kernel's ABI;
    /// a lower one handles fewer rights, as an older kernel would). Also sets no_new_privs
    /// (no setuid or file-capability gains through `execve`), which Landlock requires of an
    /// unprivileged caller. The restriction applies to the calling thread only (and what it
    /// becomes): call it on the thread that then calls `Processes.replace`.
    ///
    /// Throws the kernel's error: `EOPNOTSUPP` or `ENOSYS` without Landlock, `EACCES` for a
    /// path that cannot be opened, `E2BIG` past 16 nested confinements. A failure before
    /// the last step leaves the thread unconfined: never run the command then.
    public static func restrict(_ rules: Rules, abi: Int) throws(Errno) {
        let ruleset = try ruleset(rules, abi: abi)
        _ = try retryingInterrupts { swarm_set_no_new_privs() }
        _ = try retryingInterrupts { swarm_landlock_restrict_self(ruleset.rawValue) }
    }

    /// The ruleset `restrict` applies, built without confining anyone: a spawner hands it to
    /// a child, which applies it between fork and exec (`Spawner.spawnConfined`). The paths
    /// of `shared`, opened beforehand, are granted as well, each as its kind says.
    ///
    /// Every right `handledFileSystem` names is handled. A writable directory grants all of
    /// them beneath it, a readable one the read rights; a file (such as `/dev/null`) grants
    /// those that apply to files. Symbolic links in the paths are followed. Paths that do not
    /// exist are skipped: nothing can be created there later. With `connectPorts`, TCP
    /// connects are handled (ABI 4) and each port allowed; with `scoped`, signals and abstract
    /// Unix sockets are scoped (ABI 6).
    public static func ruleset(_ rules: Rules, abi: Int, shared: [SharedPaths] = []) throws(Errno)
        -> FileDescriptor
    {
        let kernel = Landlock.abi()
        guard abi >= 1, kernel >= 1 else {
            throw kernel >= 1 ? Errno.invalid : Errno(rawValue: EOPNOTSUPP)
        }
        let effective = min(abi, kernel)
        let handled = handledFileSystem(rules, abi: effective)
        let network: NetworkAccess = rules.connectPorts != nil && effective >= networkABI ? .connectTCP : []
        let scope: Scope = rules.scoped && effective >= scopeABI ? [.signal, .abstractUnixSocket] : []
        let ruleset = FileDescriptor(
            adopting: try retryingInterrupts {
                swarm_landlock_create_ruleset(handled.rawValue, network.rawValue, scope.rawValue)
            })
        for path in rules.writable where !path.isEmpty {
            try allow(path, handled, in: ruleset)
        }
        for path in rules.readable ?? [] where !path.isEmpty {
            try allow(path, handled.intersection(readAccess), in: ruleset)
        }
        for paths in shared {
            let granted = paths.readOnly ? handled.intersection(readAccess) : handled
            for opened in paths.opened {
                try addRule(opened.descriptor, isDirectory: opened.isDirectory, granted, in: ruleset)
            }
        }
        if !network.isEmpty {
            for port in Set(rules.connectPorts ?? []).sorted() {
                _ = try retryingInterrupts {
                    swarm_landlock_add_port_rule(ruleset.rawValue, UInt64(port), network.rawValue)
                }
            }
        }
        return ruleset
    }

    /// Paths that many rulesets grant and that do not change while the process runs (the
    /// device files), opened once (`O_PATH`) so that each ruleset adds them without looking
    /// them up again. A path that does not exist when they are opened is left out.
    public final class SharedPaths: Sendable {
        let opened: [(descriptor: Int32, isDirectory: Bool)]
        /// Whether they are granted for reading and executing only (else for everything).
        let readOnly: Bool

        /// Opens `paths`, to be granted for everything, or with `readOnly` for reading and
        /// executing only.
        public init(_ paths: [String], readOnly: Bool = false) {
            self.readOnly = readOnly
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

    /// Adds one rule: `granted` beneath `path` (a directory), or those of them that apply to
    /// files on it (anything else). A path that does not exist adds nothing.
    private static func allow(_ path: String, _ granted: Access, in ruleset: borrowing FileDescriptor)
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
        try addRule(target.rawValue, isDirectory: isDirectory, granted, in: ruleset)
    }

    /// Adds the rule for the open path `descriptor`: `granted` beneath a directory, those of
    /// them that apply to files on anything else.
    private static func addRule(
        _ descriptor: Int32, isDirectory: Bool, _ granted: Access, in ruleset: borrowing FileDescriptor
    ) throws(Errno) {
        let allowed = isDirectory ? granted : granted.intersection(fileAccess)
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
