import SwarmSystem
import Testing

@testable import SwarmRuntime

/// A file system played in memory: it fails every write while `full` is set.
final class FakeStorage: TreeStorage, @unchecked Sendable {
    var files: [String: [UInt8]] = [:]
    var folders: Set<String> = ["/t"]
    var full = false
    var calls = 0

    func replace(_ path: String, with bytes: [UInt8]) throws(Errno) {
        calls += 1
        if full { throw .noSpace }
        guard folders.contains(String(path[..<path.lastIndex(of: "/")!])) else { throw .noSuchFile }
        files[path] = bytes
    }

    func append(_ path: String, _ bytes: [UInt8]) throws(Errno) {
        calls += 1
        if full { throw .noSpace }
        files[path, default: []] += bytes
    }

    func makeDirectory(_ path: String) throws(Errno) {
        if full { throw .noSpace }
        folders.insert(path)
    }

    func text(_ path: String) -> String? { files[path].map { String(decoding: $0, as: UTF8.self) } }
}

@Suite("TreeWriter: a write that fails stays owed and lands once the disk takes it")
struct TreeWriterTests {
    @Test func aFailedWriteIsOwedNewestBytesWinAndLandOnceSpaceReturns() {
        let disk = FakeStorage()
        var writer = TreeWriter(storage: disk)
        let landed1 = writer.replace("/t/a", with: Array("1".utf8), now: 0)
        #expect(landed1)
        disk.full = true
        let landed2 = writer.replace("/t/a", with: Array("2".utf8), now: 10)
        #expect(!landed2)
        #expect(writer.isStalled)
        let stalled = writer.takeTransitions()
        #expect(stalled == [.stalled(path: "/t/a", error: .noSpace)])
        let landed3 = writer.replace("/t/a", with: Array("3".utf8), now: 20)
        #expect(!landed3)
        let landed4 = writer.replace("/t/b", with: Array("b".utf8), now: 20)
        #expect(!landed4)
        #expect(writer.owedCount == 2)
        #expect(disk.text("/t/a") == "1")
        disk.full = false
        writer.retryOwed(now: 10 + TreeWriter.retry.base)
        #expect(!writer.isStalled)
        #expect(disk.text("/t/a") == "3" && disk.text("/t/b") == "b")
        let recovered = writer.takeTransitions()
        #expect(recovered == [.recovered(owed: 2, duration: TreeWriter.retry.base)])
    }

    @Test func whileStalledNothingIsTriedBeforeItsWaitAndTheWaitDoubles() throws {
        let disk = FakeStorage()
        var writer = TreeWriter(storage: disk)
        disk.full = true
        writer.replace("/t/a", with: [1], now: 0)
        let first = try #require(writer.retryAt)
        let calls = disk.calls
        writer.replace("/t/b", with: [2], now: 1)
        writer.retryOwed(now: first - 1)
        #expect(disk.calls == calls, "no write is tried on its own while others are owed")
        writer.retryOwed(now: first)
        let second = try #require(writer.retryAt)
        #expect(second - first == TreeWriter.retry.ceiling(failure: 2))
        var now = second
        for _ in 0..<20 {
            writer.retryOwed(now: now)
            now = try #require(writer.retryAt)
        }
        #expect(try #require(writer.retryAt) - now <= TreeWriter.retry.cap)
    }

    @Test func appendsKeepTheirOrderAcrossAStall() {
        let disk = FakeStorage()
        var writer = TreeWriter(storage: disk)
        writer.append("/t/alerts", Array("1\n".utf8), now: 0)
        disk.full = true
        writer.append("/t/alerts", Array("2\n".utf8), now: 1)
        disk.full = false
        writer.append("/t/alerts", Array("3\n".utf8), now: 2)
        #expect(disk.text("/t/alerts") == "1\n", "a later line never lands before an owed one")
        writer.retryOwed(now: 10_000)
        #expect(disk.text("/t/alerts") == "1\n2\n3\n")
    }

    @Test func appendsAreBoundedAndTheDroppedAreCounted() {
        let disk = FakeStorage()
        var writer = TreeWriter(storage: disk)
        disk.full = true
        for n in 0..<(TreeWriter.appendLimit + 5) { writer.append("/t/alerts", Array("\(n)\n".utf8), now: 0) }
        #expect(writer.owedCount == TreeWriter.appendLimit)
        #expect(writer.droppedAppends == 5)
    }

    @Test func aWriteIntoAFolderThatIsGoneIsDroppedNotOwed() {
        let disk = FakeStorage()
        var writer = TreeWriter(storage: disk)
        let landed5 = writer.replace("/gone/meta.json", with: [1], now: 0)
        #expect(!landed5)
        #expect(!writer.isStalled)
        let landed6 = writer.replace("/gone/x/reason.md", with: [1], makeParent: true, now: 0)
        #expect(landed6)
    }
}
