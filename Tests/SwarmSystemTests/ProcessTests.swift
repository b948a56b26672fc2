import Dispatch
@preconcurrency import Glibc
import SwarmSystem
import Testing

/// Every test of SwarmSystem that starts children lives here, run one at a time; each reaps
/// only the children it started.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ChildProcessTests {
    @Test func environmentWorkingDirectoryAndOutputArrive() throws {
        try withTemporaryDirectory { dir in
            let request = SpawnRequest(
                executable: "/bin/sh",
                arguments: ["-c", "echo \"$GREETING\"; pwd; echo oops >&2; exit 3"],
                environment: basicEnvironment + ["GREETING=hello agent"],
                workingDirectory: dir,
                stdoutPath: dir + "/stdout.log",
                stderrPath: dir + "/stderr.log")
            #expect(try waitForExit(try Spawner.spawn(request)) == .exited(3))
            #expect(try waitForExit(try Spawner.spawn(request)) == .exited(3))
            let directory = try #require(FileSystem.realPath(dir))
            #expect(readText(dir + "/stdout.log") == "hello agent\n\(directory)\nhello agent\n\(directory)\n")
            #expect(readText(dir + "/stderr.log") == "oops\noops\n")
        }
    }

    @Test func programsAreLocatedAsTheShellFindsThem() throws {
        try withTemporaryDirectory { dir in
            let environment = ["PATH=\(dir)/empty:\(dir)/bin:/usr/bin:/bin"]
            try FileSystem.makeDirectory(dir + "/bin")
            try FileSystem.writeAtomically(dir + "/bin/script", Array("#!/bin/sh\necho script\n".utf8))
            try FileSystem.writeAtomically(dir + "/bin/plain", Array("echo no interpreter line\n".utf8))
            try FileSystem.writeAtomically(dir + "/bin/data", Array("#!/bin/sh\n".utf8))
            #expect(chmod(dir + "/bin/script", 0o755) == 0 && chmod(dir + "/bin/plain", 0o755) == 0)
            #expect(
                Processes.locateProgram("script", environment: environment, workingDirectory: nil) == dir
                    + "/bin/script")
            #expect(
                Processes.locateProgram("sh", environment: environment, workingDirectory: nil)
                    == "/usr/bin/sh")
            // the shell runs a file without #! as a script of its own, and skips files it
            // cannot execute
            #expect(Processes.locateProgram("plain", environment: environment, workingDirectory: nil) == nil)
            #expect(Processes.locateProgram("data", environment: environment, workingDirectory: nil) == nil)
            #expect(
                Processes.locateProgram("missing", environment: environment, workingDirectory: nil) == nil)
            #expect(Processes.locateProgram("sh", environment: ["PATH=:/bin"], workingDirectory: nil) == nil)
            #expect(
                Processes.locateProgram("bin/script", environment: environment, workingDirectory: dir)
                    == "bin/script")
            #expect(Processes.locateProgram("/bin/sh", environment: [], workingDirectory: dir) == "/bin/sh")
        }
    }

    @Test func argumentZeroCanDifferFromTheExecutable() throws {
        try withTemporaryDirectory { dir in
            let request = SpawnRequest(
                executable: "/bin/sh", arguments: ["-c", "echo \"$0\""], environment: basicEnvironment,
                stdoutPath: dir + "/stdout.log", name: "agent-shell")
            let pid = try Spawner.spawn(request)
            #expect(try waitForExit(pid) == .exited(0))
            #expect(readText(dir + "/stdout.log") == "agent-shell\n")
        }
    }

    @Test func spawnFailuresAreThrown() throws {
        try withTemporaryDirectory { dir in
            #expect(throws: Errno.noSuchFile) {
                try Spawner.spawn(SpawnRequest(executable: dir + "/missing"))
            }
            #expect(throws: Errno.noSuchFile) {
                try Spawner.spawn(SpawnRequest(executable: "/bin/true", workingDirectory: dir + "/missing"))
            }
            try FileSystem.writeAtomically(dir + "/script", Array("#!/bin/sh\n".utf8))
            #expect(throws: Errno.permissionDenied) {
                try Spawner.spawn(SpawnRequest(executable: dir + "/script"))
            }
        }
    }

    @Test func childStartsWithAnEmptySignalMaskAndDefaultDispositions() throws {
        // Block a signal in this thread and ignore one process-wide: neither may reach the child.
        let channel = try SignalChannel([Signal.user1])
        Signal.ignore(Signal.pipe)
        try withTemporaryDirectory { dir in
            let pid = try Spawner.spawn(
                SpawnRequest(
                    executable: "/bin/cat", arguments: ["/proc/self/status"], stdoutPath: dir + "/status"))
            #expect(try waitForExit(pid) == .exited(0))
            let lines = readText(dir + "/status").split(separator: "\n")
            #expect(lines.contains("SigBlk:\t0000000000000000"))
            #expect(lines.contains("SigIgn:\t0000000000000000"))
        }
        #expect(channel.read().isEmpty)
    }

    @Test func childIsASessionLeaderUnlessToldOtherwise() throws {
        let leader = try Spawner.spawn(SpawnRequest(executable: "/bin/sleep", arguments: ["30"]))
        let entry = try #require(ProcFS.entry(of: leader))
        #expect(entry.session == leader && entry.group == leader && entry.parent == Processes.currentID)
        #expect(Processes.isAlive(leader))
        #expect(Processes.signalGroup(leader, Signal.terminate))
        #expect(try waitForExit(leader) == .signaled(Signal.terminate))
        #expect(!Processes.isAlive(leader))

        let member = try Spawner.spawn(
            SpawnRequest(executable: "/bin/sleep", arguments: ["30"], newSession: false))
        #expect(ProcFS.entry(of: member)?.session == ProcFS.entry(of: Processes.currentID)?.session)
        #expect(Processes.signal(member, Signal.kill))
        #expect(try waitForExit(member) == .signaled(Signal.kill))
    }

    @Test func childHasOnlyTheStandardAndThePassedDescriptors() throws {
        try withTemporaryDirectory { dir in
            guard let a = try Flock.tryLock(dir + "/a.lock"), let b = try Flock.tryLock(dir + "/b.lock")
            else {
                Issue.record("could not lock fresh files")
                return
            }
            // Swapped on purpose: each source number is also the other's target.
            let script = "readlink /proc/$$/fd/\(a.rawValue) /proc/$$/fd/\(b.rawValue); ls /proc/$$/fd"
            let pid = try Spawner.spawn(
                SpawnRequest(
                    executable: "/bin/sh", arguments: ["-c", script], environment: basicEnvironment,
                    stdoutPath: dir + "/out",
                    passedDescriptors: [a.rawValue: b.rawValue, b.rawValue: a.rawValue]))
            #expect(try waitForExit(pid) == .exited(0))
            let lines = readText(dir + "/out").split(separator: "\n").map(String.init)
            #expect(lines.prefix(2) == [dir + "/b.lock", dir + "/a.lock"])
            #expect(Set(lines.dropFirst(2)) == ["0", "1", "2", "\(a.rawValue)", "\(b.rawValue)"])
        }
    }

    @Test func aPassedDescriptorCanReplaceAStandardStream() throws {
        try withTemporaryDirectory { dir in
            guard let output = try Flock.tryLock(dir + "/shared.out") else {
                Issue.record("could not open a fresh file")
                return
            }
            let pid = try Spawner.spawn(
                SpawnRequest(
                    executable: "/bin/sh", arguments: ["-c", "echo to-the-passed-descriptor"],
                    stdoutPath: dir + "/unused.out", passedDescriptors: [1: output.rawValue]))
            #expect(try waitForExit(pid) == .exited(0))
            #expect(readText(dir + "/shared.out") == "to-the-passed-descriptor\n")
            #expect(!FileSystem.exists(dir + "/unused.out"))
        }
    }

    @Test func aLockPassedToAChildStaysHeldUntilTheChildExits() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/agent.lock"
            guard let lock = try Flock.tryLock(path) else {
                Issue.record("could not lock a fresh file")
                return
            }
            let pid = try Spawner.spawn(
                SpawnRequest(
                    executable: "/bin/sh", arguments: ["-c", "sleep 0.3"], environment: basicEnvironment,
                    passedDescriptors: [3: lock.rawValue]))
            _ = consume lock
            #expect(Flock.isHeld(path))
            #expect(try waitForExit(pid) == .exited(0))
            #expect(!Flock.isHeld(path))
        }
    }

    @Test func pidfdBecomesReadableWhenTheChildExits() throws {
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: "/bin/sh", arguments: ["-c", "sleep 0.2; exit 7"], environment: basicEnvironment))
        let pidfd = try Processes.pidfd(pid)
        let epoll = try Epoll()
        try epoll.add(pidfd.rawValue, token: 99)
        #expect(try epoll.wait(timeoutMilliseconds: 0).isEmpty)
        #expect(Processes.reap(pid) == nil)
        #expect(try epoll.wait(timeoutMilliseconds: 10_000) == [99])
        #expect(Processes.reap(pid) == .exited(7))
        #expect(Processes.reap(pid) == nil)
        #expect(throws: Errno.noSuchProcess) { _ = try Processes.pidfd(pid) }

        let sleeper = try Spawner.spawn(SpawnRequest(executable: "/bin/sleep", arguments: ["30"]))
        #expect(Processes.signal(sleeper, Signal.kill))
        #expect(try waitForExit(sleeper) == .signaled(Signal.kill))
    }

    @Test func readFileRefusesAFIFOWithoutBlocking() throws {
        try withTemporaryDirectory { dir in
            let pid = try Spawner.spawn(
                SpawnRequest(executable: "/usr/bin/mkfifo", arguments: [dir + "/pipe"]))
            #expect(try waitForExit(pid) == .exited(0))
            #expect(throws: FileReadError.notRegularFile(.fifo)) {
                try FileSystem.readFile(dir + "/pipe", limit: 10)
            }
            #expect(try FileSystem.entries(of: dir) == [DirectoryEntry(name: "pipe", kind: .fifo)])
        }
    }

    @Test func membersFindsADetachedGrandchildByItsMarker() throws {
        try withTemporaryDirectory { dir in
            let marker = "SWARM_TEST_MARKER=\(UInt64.random(in: 0...UInt64.max))"
            let script = "setsid sleep 30 & echo $! > \(dir)/grandchild.pid"
            let pid = try Spawner.spawn(
                SpawnRequest(
                    executable: "/bin/sh", arguments: ["-c", script], environment: basicEnvironment + [marker]
                ))
            #expect(try waitForExit(pid) == .exited(0))
            let grandchild = try #require(Int32(readText(dir + "/grandchild.pid").filter(\.isNumber)))
            defer { _ = Processes.signal(grandchild, Signal.kill) }
            #expect(try waitUntil { ProcFS.entry(of: grandchild)?.session == grandchild })

            #expect(ProcFS.members(sessions: [pid], markers: [marker]) == [grandchild])
            #expect(!ProcFS.members(sessions: [pid], markers: []).contains(grandchild))
            #expect(
                !ProcFS.members(sessions: [], markers: [marker, "SWARM_TEST_OTHER=1"]).contains(grandchild))
            #expect(ProcFS.members(sessions: [grandchild], markers: []) == [grandchild])
        }
    }

    @Test func membersIncludesEveryDescendantOfARoot() throws {
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: "/bin/sh", arguments: ["-c", "sleep 30 & sleep 30 & wait"],
                environment: basicEnvironment))
        #expect(try waitUntil { ProcFS.members(sessions: [], roots: [pid], markers: []).count == 3 })
        #expect(ProcFS.members(sessions: [pid], markers: []).count == 3)
        #expect(Processes.signalGroup(pid, Signal.kill))
        #expect(try waitForExit(pid) == .signaled(Signal.kill))
    }

    @Test func aHelperCommandGetsItsInputAndGivesBackBothStreams() throws {
        let big = [UInt8](repeating: UInt8(ascii: "x"), count: 300_000)
        let output = try CommandRunner.run(
            "sh", ["-c", "cat; echo done >&2; exit 3"], environment: ["PATH=/usr/bin:/bin"], input: big)
        #expect(output.status == SwarmSystem.ExitStatus.exited(3))
        #expect(output.stdout == big)
        #expect(output.complaint == "done" && !output.succeeded)
    }

    @Test func aHelperCommandThatHangsIsKilledAtItsDeadline() throws {
        let started = Clock.monotonicNanoseconds()
        let output = try CommandRunner.run(
            "/bin/sh", ["-c", "echo begun; sleep 30"], environment: [], timeoutMilliseconds: 300)
        #expect(output.status == nil && output.text == "begun\n")
        #expect(Clock.monotonicNanoseconds() - started < 10_000_000_000)
    }

    @Test func aCancelledHelperCommandHasItsGroupKilled() throws {
        try withTemporaryDirectory { dir in
            let cancellation = Cancellation()
            let marker = dir + "/begun"
            DispatchQueue.global().async {
                while !FileSystem.exists(marker) { usleep(1_000) }
                cancellation.cancel()
            }
            let started = Clock.monotonicNanoseconds()
            let output = try CommandRunner.run(
                "/bin/sh", ["-c", "touch \(marker); sleep 30 & wait"], environment: [],
                timeoutMilliseconds: 60_000, cancellation: cancellation)
            #expect(output.status == nil && cancellation.isCancelled)
            #expect(Clock.monotonicNanoseconds() - started < 20_000_000_000)
            #expect(throws: Errno.canceled) {
                try CommandRunner.run("/bin/true", [], environment: [], cancellation: cancellation)
            }
        }
    }

    @Test func aMissingHelperCommandIsNoSuchFile() {
        #expect(throws: Errno.noSuchFile) {
            try CommandRunner.run("no-such-command-anywhere", [], environment: ["PATH=/usr/bin:/bin"])
        }
        #expect(
            Processes.locateProgram("sh", environment: ["PATH=/nonexistent:/bin"], workingDirectory: nil)
                == "/bin/sh")
    }
}
