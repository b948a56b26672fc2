import SwarmSystem
import Testing

@Suite struct FlockTests {
    @Test func aSecondLockOnTheSamePathIsRefusedUntilTheFirstIsDropped() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/daemon.lock"
            #expect(!Flock.isHeld(path))
            var first = try Flock.tryLock(path)
            let tookFirst = first != nil
            let second = try Flock.tryLock(path)
            let tookSecond = second != nil
            #expect(tookFirst && !tookSecond)
            #expect(Flock.isHeld(path))
            first = nil
            #expect(!Flock.isHeld(path))
            let third = try Flock.tryLock(path)
            let tookThird = third != nil
            #expect(tookThird)
        }
    }
}

@Suite struct InotifyTests {
    @Test func reportsClosedWritesAndRenamesWithNames() throws {
        try withTemporaryDirectory { dir in
            let inotify = try Inotify()
            let epoll = try Epoll()
            try epoll.add(inotify.rawValue, token: 7)
            let wd = try inotify.add(dir, mask: [.closeWrite, .movedTo, .create, .onlyDirectory])
            #expect(try epoll.wait(timeoutMilliseconds: 0).isEmpty)
            #expect(try inotify.read().isEmpty)

            try FileSystem.append(dir + "/progress.md", Array("line\n".utf8))
            try FileSystem.writeAtomically(dir + "/results.json", Array("{}".utf8))
            try FileSystem.makeDirectory(dir + "/spawn")

            var events: [Inotify.Event] = []
            let sawAll = try waitUntil {
                if (try? epoll.wait(timeoutMilliseconds: 0)) == [7] { events += (try? inotify.read()) ?? [] }
                return events.contains { $0.mask.contains(.isDirectory) }
            }
            #expect(sawAll)
            #expect(events.allSatisfy { $0.wd == wd })
            #expect(events.contains { $0.mask.contains(.closeWrite) && $0.name == "progress.md" })
            #expect(events.contains { $0.mask.contains(.movedTo) && $0.name == "results.json" })
            #expect(events.contains { $0.mask == [.create, .isDirectory] && $0.name == "spawn" })
            #expect(try epoll.wait(timeoutMilliseconds: 0).isEmpty)

            inotify.remove(wd)
            let ignored = try waitUntil {
                ((try? inotify.read()) ?? []).contains { $0.mask.contains(.ignored) }
            }
            #expect(ignored)
        }
    }

    @Test func watchingAMissingPathFails() throws {
        let inotify = try Inotify()
        #expect(throws: Errno.noSuchFile) { try inotify.add("/nonexistent/swarm", mask: .create) }
    }
}

@Suite struct EpollTests {
    @Test func reportsEveryReadyDescriptorByItsToken() throws {
        try withTemporaryDirectory { dir in
            let first = try Inotify()
            let second = try Inotify()
            let epoll = try Epoll()
            try epoll.add(first.rawValue, token: 0xAAAA_BBBB_CCCC_DDDD)
            try epoll.add(second.rawValue, token: 2)
            #expect(throws: Errno.fileExists) { try epoll.add(second.rawValue, token: 3) }
            _ = try first.add(dir, mask: .create)
            _ = try second.add(dir, mask: .create)

            try FileSystem.createExclusive(dir + "/one", [])
            #expect(Set(try epoll.wait(timeoutMilliseconds: 5000)) == [0xAAAA_BBBB_CCCC_DDDD, 2])
            #expect(try epoll.wait(timeoutMilliseconds: 0, maxEvents: 1).count == 1)

            epoll.remove(first.rawValue)
            #expect(try epoll.wait(timeoutMilliseconds: 0) == [2])
            _ = try second.read()
            #expect(try epoll.wait(timeoutMilliseconds: 0).isEmpty)
        }
    }
}

@Suite struct SignalTests {
    @Test func namesAndNumbers() {
        #expect(Signal.name(Signal.terminate) == "SIGTERM")
        #expect(Signal.name(Signal.child) == "SIGCHLD")
        #expect(Signal.name(999) == "signal 999")
        #expect(Signal.kill == 9 && Signal.interrupt == 2 && Signal.hangup == 1)
    }

    @Test func aBlockedSignalArrivesAsDataOnTheChannel() throws {
        // All on one thread: the channel blocks SIGUSR1 here, and raise() targets this thread.
        let channel = try SignalChannel([Signal.user1])
        let epoll = try Epoll()
        try epoll.add(channel.rawValue, token: 1)
        #expect(channel.read().isEmpty)
        Signal.raise(Signal.user1)
        #expect(try epoll.wait(timeoutMilliseconds: 1000) == [1])
        #expect(channel.read() == [Signal.user1])
        #expect(channel.read().isEmpty)
    }
}

@Suite struct ClockTests {
    @Test func clocksMove() throws {
        let wall = Clock.wallMilliseconds()
        #expect(wall > 1_600_000_000_000)
        let start = Clock.monotonicNanoseconds()
        _ = try Epoll().wait(timeoutMilliseconds: 5)
        #expect(Clock.monotonicNanoseconds() - start >= 5_000_000)
    }

    @Test func environmentSnapshotSeesThisProcess() {
        let environment = ProcessEnvironment.snapshot()
        #expect(environment["PATH"] != nil)
        #expect(ProcFS.environment(of: Processes.currentID)?.isEmpty == false)
    }

    @Test func terminalQueriesOnANonTerminal() throws {
        let epoll = try Epoll()
        #expect(!Terminal.isTerminal(epoll.rawValue))
        #expect(Terminal.size(epoll.rawValue) == nil)
        #expect(Terminal.enterRawMode(epoll.rawValue) == nil)
    }
}
