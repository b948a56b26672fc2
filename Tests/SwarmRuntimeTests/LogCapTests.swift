@preconcurrency import Glibc
import SwarmProtocol
import SwarmSystem
import Testing

@testable import SwarmRuntime

/// The log cap: its decision as a table, and its effect on real files, also while a real
/// process keeps appending.
@Suite("LogCap: a log keeps its head and tail, the middle is freed", .timeLimit(.minutes(1)))
struct LogCapTests {
    static let head: Int64 = 64 << 10
    static let tail: Int64 = 256 << 10
    static let cap = LogCap(head: head, tail: tail)

    /// size, allocated, block size, then the hole expected (nil: nothing to do).
    @Test(
        arguments: [
            (100, 4096, 4096, nil),
            (8 << 20, 320 << 10, 4096, nil),
            // allocated within the slack (64KB here): nothing yet
            (8 << 20, (320 << 10) + (64 << 10), 4096, nil),
            (8 << 20, 8 << 20, 4096, 65_536..<(8 << 20) - 262_144),
            // the head is rounded up and the end rounded down to whole blocks
            (1_000_000, 1_000_000, 4096, 65_536..<737_280),
            ((8 << 20) + 100_000, 8 << 20, 65_536, 65_536..<8_192_000),
            // a file that has a hole already: the same hole, grown to the new end
            (64 << 20, 1 << 20, 4096, 65_536..<(64 << 20) - 262_144),
            // more allocated than written (preallocated), but no middle to drop
            (300 << 10, 8 << 20, 4096, nil),
        ] as [(Int64, Int64, Int64, Range<Int64>?)])
    func decides(_ size: Int64, _ allocated: Int64, _ blockSize: Int64, _ hole: Range<Int64>?) {
        #expect(Self.cap.hole(size: size, allocated: allocated, blockSize: blockSize) == hole)
    }

    @Test func theSlackIsAnEighthOfWhatIsKeptAndAtLeastSixteenBlocks() {
        #expect(LogCap(head: 1 << 20, tail: 16 << 20).slack(blockSize: 4096) == (17 << 20) / 8)
        #expect(Self.cap.slack(blockSize: 4096) == 64 << 10)
        #expect(LogCap(SwarmConfig.standard) == LogCap(head: 1 << 20, tail: 16 << 20))
    }

    @Test func aLogUnderTheCapIsLeftAlone() throws {
        try withTemporaryFolder { folder in
            var cap = Self.cap
            let path = folder + "/stdout.log"
            try FileSystem.writeAtomically(path, bytes(Int(Self.head + Self.tail)))
            #expect(cap.apply(to: path) == .untouched)
            #expect(cap.apply(to: folder + "/missing.log") == .untouched)
            #expect(try FileSystem.extents(path).count == 1)
        }
    }

    @Test func aLogOverTheCapKeepsItsHeadAndTailAndFreesTheMiddle() throws {
        try withTemporaryFolder { folder in
            var cap = Self.cap
            let path = folder + "/stdout.log"
            let size = 8 << 20
            let written = bytes(size)
            try FileSystem.writeAtomically(path, written, durable: true)
            let before = try #require(FileSystem.status(path))

            guard case .trimmed(let trimmed, let hole, let freed, let allocated) = cap.apply(to: path) else {
                Issue.record("a log of 8MB with a cap of 64KB + 256KB was not trimmed")
                return
            }
            #expect(trimmed == path)
            #expect(hole == Self.head..<(Int64(size) - Self.tail))
            #expect(freed == before.allocatedBytes - allocated && freed >= Int64(hole.count))
            let after = try #require(FileSystem.status(path))
            #expect(after.size == Int64(size))
            #expect(after.allocatedBytes <= Self.head + Self.tail + 2 * after.blockSize)

            let read = try FileSystem.readSkippingHoles(path, limit: size)
            #expect(
                read.pieces == [
                    .bytes(Array(written[..<Int(Self.head)])), .hole(Int64(hole.count)),
                    .bytes(Array(written[(size - Int(Self.tail))...])),
                ])
            #expect(cap.apply(to: path) == .untouched, "a trimmed log is under the cap until it grows")
        }
    }

    @Test func anAgentAppendingWhileTrimmedKeepsDiskUseBounded() throws {
        try withTemporaryFolder { folder in
            var cap = Self.cap
            let path = folder + "/stdout.log"
            // the agent appends 16 chunks of 2MB through its own O_APPEND descriptor; after each
            // one it waits for the test to look (a gate file), so trims and appends interleave
            // however loaded the machine is
            let chunks = 16
            let total = Int64(chunks) << 21
            let script = """
                i=1
                while [ $i -le \(chunks) ]; do
                  yes 'one line of a chatty agent' | head -c 2097152
                  while [ ! -e '\(folder)/gate-'$i ]; do sleep 0.002; done
                  i=$((i + 1))
                done
                """
            let writer = try Spawner.spawn(
                SpawnRequest(
                    executable: "/bin/sh", arguments: ["-c", script], environment: ["PATH=/usr/bin:/bin"],
                    stdoutPath: path))
            var trims = 0
            var largest: Int64 = 0
            var exit: SwarmSystem.ExitStatus?
            for chunk in 1...chunks {
                let written = waitUntil { (FileSystem.status(path)?.size ?? 0) >= Int64(chunk) << 21 }
                try #require(written, "the agent wrote chunk \(chunk)")
                if case .trimmed = cap.apply(to: path) { trims += 1 }
                largest = max(largest, FileSystem.status(path)?.allocatedBytes ?? 0)
                try FileSystem.writeAtomically(folder + "/gate-\(chunk)", [])
            }
            while exit == nil {
                exit = Processes.reap(writer)
                if exit == nil { Clock.sleep(milliseconds: 2) }
            }
            _ = cap.apply(to: path)
            #expect(exit == .exited(0))
            #expect(trims > 1, "the log was trimmed again and again while it grew")
            let status = try #require(FileSystem.status(path))
            #expect(status.size == total, "the agent's appends all landed")
            let bound = Self.head + Self.tail + cap.slack(blockSize: status.blockSize) + 2 * status.blockSize
            #expect(status.allocatedBytes <= bound, "disk use after the last trim: \(status.allocatedBytes)")
            #expect(largest < total / 2, "disk use stayed bounded while the agent wrote")

            let line = Array("one line of a chatty agent\n".utf8)
            let read = try FileSystem.readSkippingHoles(path, limit: Int(total))
            guard case .bytes(let first)? = read.pieces.first, case .bytes(let last)? = read.pieces.last
            else {
                Issue.record("the log does not start and end with data: \(read.pieces.count) pieces")
                return
            }
            // each chunk is a `yes` stream of its own: byte `o` of the log is the line's byte
            // at `o`'s place in its chunk
            let expected = { (offset: Int) in line[offset % (1 << 21) % line.count] }
            #expect(first.count == Int(Self.head) && first == (0..<first.count).map(expected))
            let start = Int(total) - last.count
            #expect(last.count >= Int(Self.tail) && last == (0..<last.count).map { expected(start + $0) })
        }
    }

    @Test func linksAndOtherFilesPlantedAsALogAreLeftAlone() throws {
        try withTemporaryFolder { folder in
            var cap = Self.cap
            try FileSystem.writeAtomically(folder + "/precious", bytes(4 << 20))
            try FileSystem.symlink(target: "precious", at: folder + "/stdout.log")
            #expect(cap.apply(to: folder + "/stdout.log") == .untouched)
            #expect(link(folder + "/precious", folder + "/stderr.log") == 0)
            #expect(cap.apply(to: folder + "/stderr.log") == .untouched)
            #expect(try FileSystem.extents(folder + "/precious").count == 1)
            #expect(cap.look(at: AgentFiles(folder)).results.isEmpty)
        }
    }

    @Test func aFileSystemWithoutHolesIsReportedOnceAndThenLeftAlone() throws {
        try withTemporaryFolder { folder in
            var cap = Self.cap
            let files = AgentFiles(folder)
            try FileSystem.writeAtomically(files.stdout, bytes(4 << 20))
            try FileSystem.writeAtomically(files.stderr, bytes(4 << 20))
            var punches = 0
            let refuse = { (_: String, _: Range<Int64>) throws(Errno) -> FileStatus in
                punches += 1
                throw .notSupported
            }
            #expect(cap.apply(to: files.stdout, punch: refuse) == .unsupported(path: files.stdout))
            #expect(cap.unsupported)
            #expect(cap.apply(to: files.stderr, punch: refuse) == .untouched)
            #expect(cap.look(at: files).results.isEmpty)
            #expect(punches == 1, "after the first refusal nothing is tried")
            #expect(LogCapResult.unsupported(path: files.stdout).description.contains("cannot punch holes"))
        }
    }

    @Test func aFailingLogIsReportedOnceUntilItIsTrimmedAgain() throws {
        try withTemporaryFolder { folder in
            var cap = Self.cap
            let path = folder + "/stdout.log"
            try FileSystem.writeAtomically(path, bytes(4 << 20))
            let fail = { (_: String, _: Range<Int64>) throws(Errno) -> FileStatus in throw .notPermitted }
            #expect(cap.apply(to: path, punch: fail) == .failed(path: path, .notPermitted))
            #expect(cap.apply(to: path, punch: fail) == .untouched)
            guard case .trimmed = cap.apply(to: path) else {
                Issue.record("the log was not trimmed once punching worked")
                return
            }
            try FileSystem.append(path, bytes(4 << 20))
            #expect(cap.apply(to: path, punch: fail) == .failed(path: path, .notPermitted))
            #expect(!cap.unsupported)
        }
    }

    @Test func aReloadKeepsWhatTheCapHasLearnt() {
        var cap = Self.cap
        var config = SwarmConfig.standard
        config.logHeadBytes = 1 << 10
        config.logTailBytes = 128 << 10
        cap.configure(config)
        #expect(cap.head == 1 << 10 && cap.tail == 128 << 10)
    }

    /// `count` bytes of printable text that shows where each byte came from.
    private func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(ascii: "a") + UInt8($0 / 4096 % 26) }
    }
}
