@preconcurrency import Glibc
import SwarmSystem
import Testing

/// What can be checked without confining anything: the ABI and the rights per ABI.
@Suite struct LandlockTests {
    @Test("abi() is what the kernel answers, 0 when it has no Landlock")
    func abiMatchesTheKernel() {
        let abi = Landlock.abi()
        #expect(abi >= 0)
        // Landlock is listed in the kernel's LSMs exactly when it offers an ABI (when
        // securityfs is mounted to tell).
        if let list = try? FileSystem.readFile("/sys/kernel/security/lsm", limit: 4096) {
            let names = String(decoding: list, as: UTF8.self).split(separator: ",")
            if !names.isEmpty { #expect(names.contains("landlock") == (abi > 0)) }
        }
    }

    @Test(
        "SWARM_LANDLOCK_ABI lowers the ABI (0 looks like no Landlock) and never raises it",
        arguments: [
            ("0", 0), ("1", 1), ("3", 3), ("999", Int.max), ("-1", Int.max), ("seven", Int.max),
            ("", Int.max),
        ])
    func abiOverride(text: String, cap: Int) {
        let kernel = Landlock.abi()
        let environment = [Landlock.abiOverrideVariable: text]
        #expect(Landlock.abi(environment: environment) == min(kernel, cap))
        #expect(Landlock.abi(environment: [:]) == kernel)
    }

    @Test("each ABI handles the write rights it knows, never reading or executing")
    func writeRightsPerABI() {
        let base: Landlock.Access = [
            .writeFile, .removeDirectory, .removeFile, .makeCharacterDevice, .makeDirectory, .makeRegular,
            .makeSocket, .makeFifo, .makeBlockDevice, .makeSymlink,
        ]
        #expect(Landlock.writeAccess(abi: 0).isEmpty)
        #expect(Landlock.writeAccess(abi: 1) == base)
        #expect(Landlock.writeAccess(abi: 2) == base.union(.refer))
        #expect(Landlock.writeAccess(abi: 3) == base.union([.refer, .truncate]))
        #expect(Landlock.writeAccess(abi: 4) == base.union([.refer, .truncate]))
        #expect(Landlock.writeAccess(abi: 5) == base.union([.refer, .truncate, .ioctlDevice]))
        #expect(Landlock.writeAccess(abi: 7) == base.union([.refer, .truncate, .ioctlDevice]))
        for abi in 0...7 {
            #expect(Landlock.writeAccess(abi: abi).isDisjoint(with: [.readFile, .readDirectory, .execute]))
        }
        // The kernel's numbering (LANDLOCK_ACCESS_FS_*).
        #expect(Landlock.Access.writeFile.rawValue == 1 << 1)
        #expect(Landlock.Access.makeSymlink.rawValue == 1 << 12)
        #expect(Landlock.Access.refer.rawValue == 1 << 13)
        #expect(Landlock.Access.truncate.rawValue == 1 << 14)
        #expect(Landlock.Access.ioctlDevice.rawValue == 1 << 15)
        #expect(
            Landlock.writeAccess(abi: 7).intersection(Landlock.fileAccess) == [
                .writeFile, .truncate, .ioctlDevice,
            ])
    }

    @Test("this test process is never confined by these tests")
    func testProcessStaysUnconfined() throws {
        try withTemporaryDirectory { dir in
            try FileSystem.writeAtomically(dir + "/free", Array("x".utf8))
            #expect(FileSystem.exists(dir + "/free"))
        }
    }
}

/// Confinement itself, through the built `swarm confine` in a child, so that the test
/// process stays free.
@Suite(
    .serialized, .timeLimit(.minutes(1)), .enabled(if: Landlock.abi() > 0, "the kernel offers no Landlock"))
struct LandlockConfinementTests {
    @Test("a ruleset with shared paths opened once grants them as well as its own paths, in a spawned child")
    func sharedPathsAreWritableInASpawnedChild() throws {
        try withTemporaryDirectory { dir in
            try FileSystem.makeDirectory(dir + "/own")
            try FileSystem.makeDirectory(dir + "/shared")
            try FileSystem.makeDirectory(dir + "/other")
            let shared = Landlock.SharedPaths([dir + "/shared", "/dev/null", dir + "/missing"])
            let ruleset = try Landlock.ruleset(
                Landlock.Rules(writable: [dir + "/own"]), abi: Landlock.abi(), shared: [shared])
            let script =
                "echo a > own/a; echo b > shared/b; echo c > /dev/null && echo null-ok > own/null; echo d > other/d"
            let pid = try Spawner.spawnAgent(
                SpawnRequest(
                    executable: "/bin/sh", arguments: ["-c", script], environment: basicEnvironment,
                    workingDirectory: dir, stdoutPath: dir + "/own/out", stderrPath: dir + "/own/err"),
                lockPath: dir + "/own", ruleset: ruleset.rawValue)
            #expect(try waitForExit(pid) == .exited(2), "\(readText(dir + "/own/err"))")
            #expect(readText(dir + "/own/a") == "a\n")
            #expect(readText(dir + "/shared/b") == "b\n")
            #expect(readText(dir + "/own/null") == "null-ok\n")
            #expect(!FileSystem.exists(dir + "/other/d"))
        }
    }

    @Test("writes beneath --write paths work; everywhere else they fail with EACCES")
    func writesOutsideTheWritablePathsFail() throws {
        try withTemporaryDirectory { dir in
            try LandlockHarness.makeTree(dir)
            let run = try LandlockHarness.confine(
                writes: [dir + "/own", dir + "/work"], in: dir,
                script: LandlockHarness.probes([
                    ("own-create", #": > "$D/own/new""#),
                    ("own-mkdir", #"mkdir "$D/own/sub""#),
                    ("own-append", #"echo more >> "$D/own/file""#),
                    ("own-truncate", #": > "$D/own/file""#),
                    ("own-rename", #"mv "$D/own/new" "$D/own/sub/moved""#),
                    ("own-symlink", #"ln -s file "$D/own/link""#),
                    ("own-fifo", #"mkfifo "$D/own/fifo""#),
                    ("own-remove", #"rm "$D/own/sub/moved" && rmdir "$D/own/sub""#),
                    ("work-create", #": > "$D/work/made-here""#),
                    ("across-rename", #"mv "$D/own/fifo" "$D/work/fifo""#),
                    ("dev-null", #"echo x > /dev/null"#),
                    ("sibling-create", #": > "$D/sibling/new""#),
                    ("sibling-append", #"echo x >> "$D/sibling/progress.md""#),
                    ("sibling-truncate", #": > "$D/sibling/progress.md""#),
                    ("sibling-mkdir", #"mkdir "$D/sibling/sub""#),
                    ("sibling-remove", #"rm -f "$D/sibling/progress.md""#),
                    ("sibling-symlink", #"ln -s x "$D/sibling/link""#),
                    ("sibling-fifo", #"mkfifo "$D/sibling/fifo""#),
                    ("move-into-sibling", #"mv "$D/own/file" "$D/sibling/file""#),
                    ("through-symlink", #"echo x >> "$D/own/to-sibling/progress.md""#),
                    ("parent-create", #": > "$D/new""#),
                    ("shared-tmp", #": > /tmp/swarm-landlock-probe-$$"#),
                ]))
            #expect(run.exit == .exited(0), "\(run)")
            let results = run.results
            for label in [
                "own-create", "own-mkdir", "own-append", "own-truncate", "own-rename", "own-symlink",
                "own-fifo", "own-remove", "work-create", "across-rename", "dev-null",
            ] {
                #expect(results[label] == "ok", "\(label): \(results[label] ?? "missing")\n\(run)")
            }
            for label in [
                "sibling-create", "sibling-append", "sibling-truncate", "sibling-mkdir", "sibling-remove",
                "sibling-symlink", "sibling-fifo", "move-into-sibling", "through-symlink", "parent-create",
                "shared-tmp",
            ] {
                #expect(results[label] == "EACCES", "\(label): \(results[label] ?? "missing")\n\(run)")
            }
            #expect(readText(dir + "/sibling/progress.md") == "line\n")
            #expect(FileSystem.exists(dir + "/own/file"), "a refused move leaves the file where it was")
        }
    }

    @Test("only 0, 1, 2 and the --keep descriptors reach the command; a leaked one is closed")
    func leakedDescriptorIsAbsent() throws {
        try withTemporaryDirectory { dir in
            try LandlockHarness.makeTree(dir)
            let lock = open(dir + "/own", O_RDONLY | O_DIRECTORY)
            let leaked = open(dir + "/sibling/progress.md", O_RDONLY)  // no O_CLOEXEC: a leak
            defer {
                close(lock)
                close(leaked)
            }
            #expect(lock >= 0 && leaked >= 0)
            // swarm confine itself holds 5 (and 9): the program it becomes must not.
            let kept = try LandlockHarness.descriptors(
                ["--write", dir + "/own", "--keep", "3"], passed: [3: lock, 5: leaked, 9: leaked])
            #expect(kept.map(\.fd) == [0, 1, 2, 3], "\(kept)")
            #expect(kept.last?.target == dir + "/own")
            let none = try LandlockHarness.descriptors(
                ["--write", dir + "/own"], passed: [3: lock, 5: leaked])
            #expect(none.map(\.fd) == [0, 1, 2], "\(none)")
        }
    }

    @Test("the command gets no_new_privs, no ignored or blocked signal, and the environment as given")
    func processStateOfTheCommand() throws {
        try withTemporaryDirectory { dir in
            try LandlockHarness.makeTree(dir)
            let run = try LandlockHarness.confine(
                writes: [dir + "/own"], in: dir,
                script:
                    #"echo "greeting=$GREETING"; exec grep -E '^(NoNewPrivs|SigIgn|SigBlk):' /proc/self/status"#,
                environment: basicEnvironment + ["GREETING=hello agent"])
            #expect(run.exit == .exited(0), "\(run)")
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains("NoNewPrivs:\t1"), "\(run)")
            #expect(lines.contains("SigIgn:\t0000000000000000"), "\(run)")
            #expect(lines.contains("SigBlk:\t0000000000000000"), "\(run)")
            #expect(lines.contains("greeting=hello agent"), "\(run)")
        }
    }

    @Test("confinement holds for descendants, and a nested confine can only narrow it")
    func descendantsCannotWiden() throws {
        try withTemporaryDirectory { dir in
            try LandlockHarness.makeTree(dir)
            let swarm = try LandlockHarness.confiningSwarm()
            // The confined shell starts a child shell, and a nested `swarm confine` that
            // asks for the sibling's folder: neither may write there.
            let run = try LandlockHarness.confine(
                writes: [dir + "/own"], in: dir,
                script: LandlockHarness.probes([
                    ("child", #"/bin/sh -c ': > "$D/sibling/by-child"'"#),
                    (
                        "nested",
                        #"'\#(swarm)' confine --write "$D/sibling" -- /bin/sh -c ': > "$D/sibling/by-nested"'"#
                    ),
                    ("nested-own", #"'\#(swarm)' confine --write "$D/own" -- /bin/sh -c ': > "$D/own/ok"'"#),
                ]))
            #expect(run.results["child"] == "EACCES", "\(run)")
            #expect(run.results["nested"] == "EACCES", "\(run)")
            #expect(run.results["nested-own"] == "ok", "\(run)")
        }
    }

    @Test("an older ABI handles fewer rights: without refer (ABI 1) a link into another folder is EXDEV")
    func lowerABIThroughTheOverride() throws {
        try withTemporaryDirectory { dir in
            try LandlockHarness.makeTree(dir)
            try FileSystem.makeDirectory(dir + "/own/sub")
            let probes = LandlockHarness.probes([
                ("link-across", #"ln "$D/own/file" "$D/own/sub/linked""#),
                ("sibling", #": > "$D/sibling/new""#),
            ])
            let abi1 = try LandlockHarness.confine(
                writes: [dir + "/own"], in: dir, script: probes,
                environment: basicEnvironment + [Landlock.abiOverrideVariable + "=1"])
            #expect(abi1.results["link-across"] == "EXDEV", "\(abi1)")
            #expect(abi1.results["sibling"] == "EACCES", "\(abi1)")
            try? FileSystem.remove(dir + "/own/sub/linked")
            let current = try LandlockHarness.confine(writes: [dir + "/own"], in: dir, script: probes)
            #expect(current.results["link-across"] == "ok", "\(current)")
            #expect(current.results["sibling"] == "EACCES", "\(current)")
        }
    }

    @Test("what Landlock does not restrict: descriptors opened before, chmod, utime")
    func documentedLimits() throws {
        try withTemporaryDirectory { dir in
            try LandlockHarness.makeTree(dir)
            let early = open(dir + "/sibling/progress.md", O_WRONLY | O_APPEND)
            defer { close(early) }
            let run = try LandlockHarness.confine(
                writes: [dir + "/own"], keep: [4], in: dir,
                script: LandlockHarness.probes([
                    ("opened-before", #"echo early >&4"#),
                    ("reopen", #"echo late >> "$D/sibling/progress.md""#),
                    ("chmod", #"chmod 600 "$D/sibling/progress.md""#),
                    ("touch-existing", #"touch -c -d 2001-01-01 "$D/sibling/progress.md""#),
                ]),
                passed: [4: early])
            #expect(run.results["opened-before"] == "ok", "\(run)")
            #expect(run.results["reopen"] == "EACCES", "\(run)")
            #expect(run.results["chmod"] == "ok", "\(run)")
            #expect(run.results["touch-existing"] == "ok", "\(run)")
            #expect(readText(dir + "/sibling/progress.md") == "line\nearly\n")
        }
    }

    @Test("--write paths that do not exist are skipped")
    func missingPathsAreSkipped() throws {
        try withTemporaryDirectory { dir in
            try LandlockHarness.makeTree(dir)
            let run = try LandlockHarness.confine(
                writes: [
                    dir + "/missing", dir + "/missing/deeper", dir + "/own/file/not-a-dir", dir + "/own",
                ],
                in: dir,
                script: LandlockHarness.probes([
                    ("own", #": > "$D/own/x""#), ("missing", #"mkdir "$D/missing""#),
                ]))
            #expect(run.exit == .exited(0), "\(run)")
            #expect(run.results["own"] == "ok", "\(run)")
            #expect(run.results["missing"] == "EACCES", "\(run)")
        }
    }

    @Test(
        "exit status: 2 usage, 125 cannot confine (command not run), 126 cannot execute, 127 not found",
        arguments: LandlockHarness.exitCases)
    func exitStatuses(_ example: LandlockHarness.ExitCase) throws {
        let (arguments, environment, expected) = (example.arguments, example.environment, example.expected)
        try withTemporaryDirectory { dir in
            let swarm = try LandlockHarness.confiningSwarm()
            let pid = try Spawner.spawn(
                SpawnRequest(
                    executable: swarm, arguments: ["confine"] + arguments,
                    environment: basicEnvironment + environment, workingDirectory: dir,
                    stdoutPath: dir + "/out", stderrPath: dir + "/err"))
            let exit: SwarmSystem.ExitStatus? = try waitForExit(pid)
            #expect(exit == .exited(expected), "\(readText(dir + "/err"))")
            #expect(!FileSystem.exists(dir + "/ran"))
            if expected != 0 && expected != 7 {
                #expect(readText(dir + "/err").hasPrefix("swarm confine: "), "\(readText(dir + "/err"))")
            }
        }
    }
}

/// Runs shell scripts under `swarm confine` and reads what they report.
enum LandlockHarness {
    /// One row of the exit-status table.
    struct ExitCase: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var environment: [String] = []
        var expected: Int32
        var testDescription: String { "\(arguments.joined(separator: " ")) -> \(expected)" }
    }

    static let exitCases: [ExitCase] = [
        ExitCase(arguments: ["--write"], expected: 2),
        ExitCase(arguments: ["--bogus", "--", "/bin/true"], expected: 2),
        ExitCase(arguments: ["--write", "/tmp"], expected: 2),
        ExitCase(
            arguments: ["--", "/bin/sh", "-c", ": > ran"], environment: [Landlock.abiOverrideVariable + "=0"],
            expected: 125),
        ExitCase(arguments: ["--", "/etc/passwd"], expected: 126),
        ExitCase(arguments: ["--", "/no/such/program"], expected: 127),
        ExitCase(arguments: ["--", "no-such-program-anywhere"], expected: 127),
        ExitCase(arguments: ["--", "true"], expected: 0),
        ExitCase(arguments: ["--", "/bin/sh", "-c", "exit 7"], expected: 7),
    ]

    /// The built `swarm` beside the test bundle (`<scratch>/debug/`), or nil.
    static let swarm: String? = {
        guard let executable = FileSystem.readLink("/proc/self/exe"),
            let slash = executable.lastIndex(of: "/")
        else { return nil }
        var folder = String(executable[..<slash])
        for _ in 0..<4 {
            let candidate = folder + "/swarm"
            if FileSystem.statusFollowing(candidate)?.kind == .regular && access(candidate, X_OK) == 0 {
                return candidate
            }
            guard let up = folder.lastIndex(of: "/"), up != folder.startIndex else { break }
            folder = String(folder[..<up])
        }
        return nil
    }()

    /// The open descriptors (number and target) of `swarm confine OPTIONS -- /bin/sleep 30`
    /// once it has become sleep, seen from outside through /proc; then it is killed.
    static func descriptors(_ options: [String], passed: [Int32: Int32]) throws -> [(fd: Int, target: String)]
    {
        let swarm = try confiningSwarm()
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: swarm, arguments: ["confine"] + options + ["--", "/bin/sleep", "30"],
                environment: basicEnvironment, passedDescriptors: passed))
        defer {
            _ = Processes.signal(pid, SIGKILL)
            _ = try? waitForExit(pid)
        }
        // Asleep in the new program: cmdline changes early in execve, before the close-on-exec
        // descriptors are closed, so the program must also have got as far as sleeping.
        let became = try waitUntil {
            let command = (try? FileSystem.readFile("/proc/\(pid)/cmdline", limit: 4096)) ?? []
            return command.starts(with: Array("/bin/sleep".utf8)) && ProcFS.entry(of: pid)?.state == "S"
        }
        try #require(became, "swarm confine did not become /bin/sleep")
        let entries = try FileSystem.entries(of: "/proc/\(pid)/fd")
        return entries.compactMap { entry in
            Int(entry.name).map { ($0, FileSystem.readLink("/proc/\(pid)/fd/\(entry.name)") ?? "?") }
        }.sorted { $0.fd < $1.fd }
    }

    /// The built `swarm`, once it is known to run `swarm confine -- /bin/true` (a build whose
    /// SwarmCommand does not dispatch `confine` fails here with one clear message).
    static func confiningSwarm() throws -> String {
        let swarm = try #require(swarm, "no swarm binary beside the test bundle; build with --build-tests")
        try #require(
            wired,
            "\(swarm) does not run `swarm confine`: SwarmCommand.main must dispatch \"confine\" to ConfineCommand.main"
        )
        return swarm
    }

    private static let wired: Bool = {
        guard let swarm,
            let pid = try? Spawner.spawn(
                SpawnRequest(
                    executable: swarm, arguments: ["confine", "--", "/bin/true"],
                    environment: basicEnvironment))
        else { return false }
        return (try? waitForExit(pid)) == .exited(0)
    }()

    /// dir/own (the agent's), dir/work (its workspace), dir/sibling with a progress.md.
    static func makeTree(_ dir: String) throws {
        for folder in ["own", "work", "sibling"] { try FileSystem.makeDirectory(dir + "/" + folder) }
        try FileSystem.writeAtomically(dir + "/own/file", Array("mine\n".utf8))
        try FileSystem.writeAtomically(dir + "/sibling/progress.md", Array("line\n".utf8))
        try FileSystem.symlink(target: "../sibling", at: dir + "/own/to-sibling")
    }

    /// A script that runs each probe in a subshell and prints `LABEL=ok`, `LABEL=EACCES`,
    /// `LABEL=EPERM`, `LABEL=EXDEV` or `LABEL=failed: MESSAGE`, one line each. `$D` is the test folder.
    static func probes(_ probes: [(label: String, command: String)]) -> String {
        var script = #"""
            attempt() {
                if out=$( (eval "$2") 2>&1 ); then echo "$1=ok"; else
                    case $out in
                        *"Permission denied"*) echo "$1=EACCES" ;;
                        *"Operation not permitted"*) echo "$1=EPERM" ;;
                        *"Invalid cross-device link"*) echo "$1=EXDEV" ;;
                        *) echo "$1=failed: $(echo "$out" | tr '\n' ' ')" ;;
                    esac
                fi
            }

            """#
        for probe in probes {
            script += "attempt \(probe.label) '\(probe.command.replacingQuotes())'\n"
        }
        return script
    }

    struct Run: CustomStringConvertible {
        var exit: SwarmSystem.ExitStatus?
        var stdout: String
        var stderr: String

        /// The `LABEL=RESULT` lines of `probes`.
        var results: [String: String] {
            var results: [String: String] = [:]
            for line in stdout.split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                results[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            return results
        }

        var description: String {
            "exit \(String(describing: exit))\n--- stdout\n\(stdout)--- stderr\n\(stderr)"
        }
    }

    /// `swarm confine --write W... --keep K... OPTIONS -- /bin/sh -c SCRIPT` with `D=dir` in its
    /// environment, `passed` handed down (child fd <- parent fd), run to its end.
    static func confine(
        writes: [String], keep: [Int32] = [], options: [String] = [], in dir: String, script: String,
        environment: [String] = basicEnvironment, passed: [Int32: Int32] = [:]
    ) throws -> Run {
        let swarm = try confiningSwarm()
        let arguments =
            ["confine"] + writes.flatMap { ["--write", $0] } + keep.flatMap { ["--keep", String($0)] }
            + options
            + ["--", "/bin/sh", "-c", script]
        let tag = "/tmp/swarm-landlock-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        defer {
            try? FileSystem.remove(tag + ".out")
            try? FileSystem.remove(tag + ".err")
        }
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: swarm, arguments: arguments, environment: environment + ["D=" + dir],
                workingDirectory: dir, stdoutPath: tag + ".out", stderrPath: tag + ".err",
                passedDescriptors: passed))
        let exit = try waitForExit(pid)
        return Run(exit: exit, stdout: readText(tag + ".out"), stderr: readText(tag + ".err"))
    }
}

extension String {
    /// The text with every `'` written so that it survives inside '...' in a shell.
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for character in self { out += character == "'" ? #"'\''"# : String(character) }
        return out
    }
}
