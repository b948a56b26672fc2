import SwarmSystem
import Testing

/// Punching holes, the allocated size, and reading past holes, on real files under /tmp.
@Suite("Holes: punched, measured and skipped", .timeLimit(.minutes(1)))
struct HoleTests {
    /// `count` bytes of a repeating pattern that shows where each byte came from.
    static func pattern(_ count: Int, from start: Int = 0) -> [UInt8] {
        (start..<(start + count)).map { UInt8(ascii: "a") + UInt8($0 % 26) }
    }

    @Test func aPunchedHoleFreesBlocksKeepsTheSizeAndReadsAsZeros() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/log"
            let size = 1 << 20
            try FileSystem.writeAtomically(path, Self.pattern(size), durable: true)
            let before = try #require(FileSystem.status(path))
            #expect(before.size == Int64(size))
            #expect(before.allocatedBytes >= Int64(size), "a file without holes takes its whole size")
            #expect(before.blockSize >= 512 && before.linkCount == 1)

            let hole: Range<Int64> = 65_536..<(65_536 + 524_288)
            let after = try FileSystem.punchHole(path, hole)
            #expect(after.size == Int64(size), "the size is kept")
            #expect(after.allocatedBytes <= before.allocatedBytes - Int64(hole.count))
            #expect(FileSystem.status(path)?.allocatedBytes == after.allocatedBytes)

            let bytes = try FileSystem.readFile(path, limit: size)
            #expect(Array(bytes[..<65_536]) == Self.pattern(65_536))
            #expect(bytes[Int(hole.lowerBound)..<Int(hole.upperBound)].allSatisfy { $0 == 0 })
            #expect(
                Array(bytes[Int(hole.upperBound)...])
                    == Self.pattern(size - Int(hole.upperBound), from: Int(hole.upperBound)))
        }
    }

    @Test func extentsAndReadingSkipTheHole() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/log"
            let size: Int64 = 1 << 20
            try FileSystem.writeAtomically(path, Self.pattern(Int(size)))
            let hole: Range<Int64> = 131_072..<917_504
            try FileSystem.punchHole(path, hole)

            #expect(
                try FileSystem.extents(path) == [
                    FileExtent(range: 0..<hole.lowerBound, isHole: false),
                    FileExtent(range: hole, isHole: true),
                    FileExtent(range: hole.upperBound..<size, isHole: false),
                ])
            #expect(
                try FileSystem.extents(path, from: 200_000).first
                    == FileExtent(range: 200_000..<hole.upperBound, isHole: true))

            let read = try FileSystem.readSkippingHoles(path, limit: Int(size))
            #expect(read.end == size)
            #expect(
                read.pieces == [
                    .bytes(Self.pattern(Int(hole.lowerBound))),
                    .hole(Int64(hole.count)),
                    .bytes(Self.pattern(Int(size - hole.upperBound), from: Int(hole.upperBound))),
                ])

            let fromInside = try FileSystem.readSkippingHoles(path, from: 500_000, limit: 1000)
            #expect(fromInside.pieces.first == .hole(hole.upperBound - 500_000))
            #expect(fromInside.pieces.last == .bytes(Self.pattern(1000, from: Int(hole.upperBound))))
            #expect(fromInside.end == hole.upperBound + 1000, "the limit counts bytes read, not holes")

            let pastTheEnd = try FileSystem.readSkippingHoles(path, from: size + 10, limit: 100)
            #expect(pastTheEnd.pieces.isEmpty && pastTheEnd.end == size + 10)
        }
    }

    @Test func aFileWithoutHolesIsOneExtentAndReadsWhole() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/plain"
            try FileSystem.writeAtomically(path, Array("one\ntwo\n".utf8))
            #expect(try FileSystem.extents(path) == [FileExtent(range: 0..<8, isHole: false)])
            let read = try FileSystem.readSkippingHoles(path, from: 4, limit: 100)
            #expect(read.pieces == [.bytes(Array("two\n".utf8))] && read.end == 8)
            try FileSystem.writeAtomically(directory + "/empty", [])
            #expect(try FileSystem.extents(directory + "/empty").isEmpty)
        }
    }

    @Test func punchingAndReadingNeverFollowALinkNorOpenAFIFO() throws {
        try withTemporaryDirectory { directory in
            try FileSystem.writeAtomically(directory + "/target", Self.pattern(65_536))
            try FileSystem.symlink(target: "target", at: directory + "/link")
            #expect(throws: Errno.tooManyLinks) { try FileSystem.punchHole(directory + "/link", 0..<4096) }
            #expect(throws: FileReadError.system(.tooManyLinks)) {
                try FileSystem.readSkippingHoles(directory + "/link", limit: 10)
            }
            #expect(FileSystem.status(directory + "/target")?.allocatedBytes ?? 0 >= 65_536)
            #expect(throws: Errno.noSuchFile) { try FileSystem.punchHole(directory + "/missing", 0..<4096) }
            #expect(throws: FileReadError.notRegularFile(.directory)) {
                try FileSystem.readSkippingHoles(directory, limit: 10)
            }
        }
    }

    @Test func aWriterAppendingWhileHolesArePunchedLosesNothingAfterThem() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/stdout.log"
            let total: Int64 = 24 << 20
            // `yes` writes "0123456789\n" over and over: every 11-byte record is whole
            let writer = try Spawner.spawn(
                SpawnRequest(
                    executable: "/bin/sh", arguments: ["-c", "yes 0123456789 | head -c \(total)"],
                    environment: basicEnvironment, stdoutPath: path))
            var punches = 0
            var exit: ChildExit?
            while exit == nil {
                exit = Processes.reap(writer)
                if let status = FileSystem.status(path), status.size > 2 << 20 {
                    let end = (status.size - (1 << 20)) / status.blockSize * status.blockSize
                    try FileSystem.punchHole(path, 65_536..<end)
                    punches += 1
                }
                Clock.sleep(milliseconds: 2)
            }
            #expect(exit == .exited(0))
            #expect(punches > 0, "the writer was still writing while holes were punched")
            let status = try #require(FileSystem.status(path))
            #expect(status.size == total, "every byte written was appended at the end")
            let read = try FileSystem.readSkippingHoles(path, from: total - (1 << 20), limit: 1 << 20)
            guard case .bytes(let tail)? = read.pieces.last else {
                Issue.record("the end of the file is not data: \(read.pieces.count) pieces")
                return
            }
            let record = Array("0123456789\n".utf8)
            let offset = Int((total - Int64(tail.count)) % 11)
            let expected = (0..<tail.count).map { record[($0 + offset) % 11] }
            #expect(tail == expected, "the bytes after the last hole are exactly what was written")
        }
    }
}
