import CSwarmShims
@preconcurrency import Glibc

/// Becoming another program: what an exec wrapper such as `swarm confine` needs.
extension Processes {
    /// Replaces the running program with `executable` (`execve(2)`): same pid, same
    /// session, same descriptors except those marked close-on-exec. Never returns unless it
    /// fails.
    ///
    /// `executable` is `argv[0]`; `arguments` follow it. A name without a `/` is looked up
    /// in the `PATH` of `environment` (else `/usr/local/bin:/usr/bin:/bin`), like
    /// `execvp(3)`, but never falls back to running a file as a shell script. `environment`
    /// is the new program's complete environment, as "KEY=VALUE" strings.
    ///
    /// Throws `.noSuchFile` when no such program exists, `.permissionDenied` when it cannot
    /// be executed, and so on.
    public static func replace(executable: String, arguments: [String], environment: [String])
        throws(Errno) -> Never
    {
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let candidates =
            executable.contains("/")
            ? [executable]
            : searchPath(environment).map { ($0.isEmpty ? "." : $0) + "/" + executable }
        var failure = Errno.noSuchFile
        for candidate in candidates where !executable.isEmpty {
            _ = execve(candidate, argv, envp)
            let error = Errno.current
            switch error {
            case .noSuchFile, .notDirectory:
                continue
            case .permissionDenied:
                failure = error
                continue
            default:
                throw error
            }
        }
        throw failure
    }

    /// The file to `execve` for the program `name`, found the way `/bin/sh` finds it: a
    /// name with a `/` as it is (relative to `workingDirectory`), else the first executable
    /// regular file of that name in the absolute folders of `PATH` in `environment`. Nil
    /// when there is none, when a relative or empty `PATH` entry comes first, and when the
    /// file is neither an ELF binary nor a `#!` script (the shell runs such a file as a
    /// script of its own; `execve` cannot).
    public static func locateProgram(_ name: String, environment: [String], workingDirectory: String?)
        -> String?
    {
        guard !name.isEmpty else { return nil }
        if name.contains("/") {
            let full = name.hasPrefix("/") || workingDirectory == nil ? name : workingDirectory! + "/" + name
            return isDirectlyExecutable(full) ? name : nil
        }
        for folder in searchPath(environment) {
            guard folder.hasPrefix("/") else { return nil }
            let candidate = folder + "/" + name
            if FileSystem.statusFollowing(candidate)?.kind == .regular && access(candidate, X_OK) == 0 {
                return isDirectlyExecutable(candidate) ? candidate : nil
            }
        }
        return nil
    }

    /// True for an executable regular file that starts as an ELF binary or a `#!` script.
    private static func isDirectlyExecutable(_ path: String) -> Bool {
        guard FileSystem.statusFollowing(path)?.kind == .regular, access(path, X_OK) == 0,
            let file = try? FileDescriptor.open(path, O_RDONLY),
            let head = try? file.read(upTo: 4)
        else { return false }
        return head.starts(with: [0x23, 0x21]) || head == [0x7F, 0x45, 0x4C, 0x46]
    }

    /// The folders of `PATH` in `environment`, in order.
    private static func searchPath(_ environment: [String]) -> [String] {
        let value =
            environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/bin:/usr/bin:/bin"
        return value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    }

    /// This process's environment as "KEY=VALUE" strings, in `environ`'s order, every entry
    /// kept (what `execve` would pass on).
    public static func currentEnvironment() -> [String] {
        var entries: [String] = []
        guard var cursor = swarm_environ() else { return entries }
        while let entry = cursor.pointee {
            entries.append(String(cString: entry))
            cursor += 1
        }
        return entries
    }

    /// Marks every descriptor from 3 up close-on-exec except those in `keeping`, and clears
    /// the flag on those (a kept descriptor must survive the exec). After this, an `execve`
    /// hands the new program 0, 1, 2 and `keeping` only, whatever leaked into this process.
    public static func closeOnExec(keeping: Set<Int32>) throws(Errno) {
        var first: Int32 = 3
        for fd in keeping.filter({ $0 >= 3 }).sorted() {
            if fd > first {
                _ = try retryingInterrupts { swarm_cloexec_range(UInt32(first), UInt32(fd - 1)) }
            }
            _ = try retryingInterrupts { swarm_clear_cloexec(fd) }
            first = fd + 1
        }
        _ = try retryingInterrupts { swarm_cloexec_range(UInt32(first), UInt32.max) }
    }

    /// Gives the next program a clean signal state: every ignored signal back to its default
    /// action (an ignored disposition survives `execve`; SIGPIPE ignored would change how the
    /// program's pipelines end) and nothing blocked.
    public static func resetSignalsForExec() {
        _ = swarm_reset_signals_for_exec()
    }
}
