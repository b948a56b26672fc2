@preconcurrency import Glibc
import SwarmSystem
import Testing

@Suite struct FileSystemTests {
    @Test func errnoDescribesItselfWithTextAndName() {
        #expect(Errno.noSuchFile.description == "No such file or directory (ENOENT)")
        #expect(Errno(rawValue: 9999).description.contains("9999"))
        #expect(Errno.wouldBlock == Errno(rawValue: 11))
    }

    @Test func atomicWriteReplacesAndLeavesNoTemporaryFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/state.json"
            try FileSystem.writeAtomically(path, Array("old".utf8))
            try FileSystem.writeAtomically(path, Array("new contents".utf8), durable: true)
            #expect(readText(path) == "new contents")
            #expect(try FileSystem.entries(of: dir) == [DirectoryEntry(name: "state.json", kind: .regular)])
        }
    }

    @Test func aDirectoryMarkedTopOfHierarchiesShowsTheFlag() throws {
        try withTemporaryDirectory { dir in
            do {
                try FileSystem.markTopOfHierarchies(dir)
            } catch {
                return  // a file system without the flag (tmpfs, for one)
            }
            try FileSystem.markTopOfHierarchies(dir)
            let listing = try CommandRunner.run("lsattr", ["-d", dir], environment: basicEnvironment)
            guard listing.status == .exited(0) else { return }  // no lsattr here
            let flags = String(decoding: listing.stdout, as: UTF8.self).prefix { $0 != " " }
            #expect(flags.contains("T"), "\(flags)")
        }
    }

    @Test func atomicWriteIntoMissingDirectoryFailsCleanly() throws {
        try withTemporaryDirectory { dir in
            #expect(throws: Errno.noSuchFile) {
                try FileSystem.writeAtomically(dir + "/missing/file", [1, 2, 3])
            }
        }
    }

    @Test func createExclusiveNeverReplaces() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/reason.md"
            try FileSystem.createExclusive(path, Array("first".utf8))
            #expect(throws: Errno.fileExists) { try FileSystem.createExclusive(path, Array("second".utf8)) }
            #expect(readText(path) == "first")
        }
    }

    @Test func readFileRefusesSymbolicLinks() throws {
        try withTemporaryDirectory { dir in
            try FileSystem.writeAtomically(dir + "/real", Array("secret".utf8))
            try FileSystem.symlink(target: "real", at: dir + "/link")
            #expect(throws: FileReadError.system(.tooManyLinks)) {
                try FileSystem.readFile(dir + "/link", limit: 100)
            }
            #expect(FileSystem.readLink(dir + "/link") == "real")
            #expect(FileSystem.readLink(dir + "/real") == nil)
        }
    }

    @Test func readFileEnforcesTheLimit() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/results.json"
            try FileSystem.writeAtomically(path, Array(repeating: UInt8(ascii: "x"), count: 100_000))
            #expect(try FileSystem.readFile(path, limit: 100_000).count == 100_000)
            #expect(throws: FileReadError.tooLarge(size: 100_000, limit: 99_999)) {
                try FileSystem.readFile(path, limit: 99_999)
            }
            #expect(throws: FileReadError.system(.noSuchFile)) {
                try FileSystem.readFile(dir + "/none", limit: 1)
            }
            #expect(throws: FileReadError.notRegularFile(.directory)) {
                try FileSystem.readFile(dir, limit: 1)
            }
        }
    }

    @Test func readFileChecksTheLimitWhileReadingFilesThatReportNoSize() throws {
        // /proc files report size 0, so only the check during the read can catch them.
        #expect(FileSystem.status("/proc/self/status")?.size == 0)
        #expect(try FileSystem.readFile("/proc/self/status", limit: 1 << 20).count > 100)
        #expect(throws: FileReadError.tooLarge(size: 11, limit: 10)) {
            try FileSystem.readFile("/proc/self/status", limit: 10)
        }
        #expect(throws: FileReadError.notRegularFile(.characterDevice)) {
            try FileSystem.readFile("/dev/null", limit: 10)
        }
    }

    @Test func concurrentAppendsKeepEveryLineWhole() async throws {
        let dir = "/tmp/swarm-system-tests-append-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        try FileSystem.makeDirectory(dir)
        defer { try? FileSystem.removeTree(dir) }
        let path = dir + "/progress.md"
        let writers = 8
        let linesPerWriter = 200
        let padding = String(repeating: "p", count: 1000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for line in 0..<linesPerWriter {
                        try FileSystem.append(path, Array("w\(writer) l\(line) \(padding) end\n".utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
        let text = String(decoding: try FileSystem.readFile(path, limit: 4 << 20), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == writers * linesPerWriter)
        var seen = Set<String>()
        for line in lines {
            let parts = line.split(separator: " ")
            #expect(parts.count == 4 && parts[2] == padding && parts[3] == "end")
            seen.insert("\(parts[0]) \(parts[1])")
        }
        #expect(seen.count == writers * linesPerWriter)
    }

    @Test func renameWithoutReplaceRefusesATakenName() throws {
        try withTemporaryDirectory { dir in
            try FileSystem.writeAtomically(dir + "/a", Array("a".utf8))
            try FileSystem.writeAtomically(dir + "/b", Array("b".utf8))
            #expect(throws: Errno.fileExists) {
                try FileSystem.rename(dir + "/a", to: dir + "/b", replace: false)
            }
            #expect(readText(dir + "/b") == "b")
            try FileSystem.rename(dir + "/a", to: dir + "/c", replace: false)
            #expect(!FileSystem.exists(dir + "/a") && readText(dir + "/c") == "a")
            try FileSystem.rename(dir + "/c", to: dir + "/b")
            #expect(readText(dir + "/b") == "a")
        }
    }

    @Test func makeDirectoryCreatesParentsAndAcceptsExistingOnes() throws {
        try withTemporaryDirectory { dir in
            try FileSystem.makeDirectory(dir + "/a/b/c")
            try FileSystem.makeDirectory(dir + "/a/b/c")
            try FileSystem.makeDirectory(dir + "/a/b", intermediates: false)
            #expect(FileSystem.status(dir + "/a/b/c")?.kind == .directory)
            #expect(throws: Errno.noSuchFile) {
                try FileSystem.makeDirectory(dir + "/x/y", intermediates: false)
            }
            try FileSystem.writeAtomically(dir + "/file", [])
            #expect(throws: Errno.fileExists) { try FileSystem.makeDirectory(dir + "/file") }
            #expect(throws: Errno.notDirectory) { try FileSystem.makeDirectory(dir + "/file/sub") }
        }
    }

    @Test func entriesAreSortedWithKindsAndNoDotEntries() throws {
        try withTemporaryDirectory { dir in
            try FileSystem.makeDirectory(dir + "/sub")
            try FileSystem.writeAtomically(dir + "/file", [])
            try FileSystem.symlink(target: "sub", at: dir + "/link")
            #expect(
                try FileSystem.entries(of: dir) == [
                    DirectoryEntry(name: "file", kind: .regular),
                    DirectoryEntry(name: "link", kind: .symlink),
                    DirectoryEntry(name: "sub", kind: .directory),
                ])
            #expect(throws: Errno.notDirectory) { try FileSystem.entries(of: dir + "/file") }
        }
    }

    @Test func statusAndExistenceNeverFollowLinks() throws {
        try withTemporaryDirectory { dir in
            try FileSystem.writeAtomically(dir + "/file", Array("12345".utf8))
            try FileSystem.symlink(target: "missing", at: dir + "/dangling")
            let status = try #require(FileSystem.status(dir + "/file"))
            #expect(status.kind == .regular && status.size == 5 && status.inode != 0)
            #expect(status.modifiedNanos > 1_600_000_000 * 1_000_000_000)
            #expect(FileSystem.exists(dir + "/dangling"))
            #expect(FileSystem.status(dir + "/dangling")?.kind == .symlink)
            #expect(FileSystem.statusFollowing(dir + "/dangling") == nil)
            #expect(FileSystem.realPath(dir + "/./file") == FileSystem.realPath(dir)! + "/file")
            #expect(FileSystem.currentDirectory().hasPrefix("/"))
            try FileSystem.syncDirectory(dir)
        }
    }

    @Test func removeDeletesFilesAndEmptyDirectories() throws {
        try withTemporaryDirectory { dir in
            try FileSystem.makeDirectory(dir + "/empty")
            try FileSystem.writeAtomically(dir + "/file", [])
            try FileSystem.remove(dir + "/empty")
            try FileSystem.remove(dir + "/file")
            #expect(try FileSystem.entries(of: dir).isEmpty)
            #expect(throws: Errno.noSuchFile) { try FileSystem.remove(dir + "/file") }
        }
    }

    @Test func removeTreeNeverFollowsSymbolicLinks() throws {
        try withTemporaryDirectory { dir in
            try FileSystem.makeDirectory(dir + "/outside")
            try FileSystem.writeAtomically(dir + "/outside/keep", Array("keep".utf8))
            try FileSystem.makeDirectory(dir + "/tree/a/b")
            try FileSystem.writeAtomically(dir + "/tree/a/b/file", [])
            try FileSystem.symlink(target: "../../outside", at: dir + "/tree/a/link")
            try FileSystem.symlink(target: dir + "/outside", at: dir + "/top-link")

            try FileSystem.removeTree(dir + "/tree")
            try FileSystem.removeTree(dir + "/top-link")
            try FileSystem.removeTree(dir + "/never-existed")
            #expect(!FileSystem.exists(dir + "/tree") && !FileSystem.exists(dir + "/top-link"))
            #expect(readText(dir + "/outside/keep") == "keep")
        }
    }

    @Test func namesThatAreNotUTF8AreListedWithTheirBytesRenamedAndRemoved() throws {
        try withTemporaryDirectory { dir in
            try FileSystem.makeDirectory(dir + "/tree")
            let latin: [UInt8] = Array("caf".utf8) + [0xE9]
            for (raw, directory) in [(latin, false), (latin + Array("-dir".utf8), true)] {
                let path = (Array((dir + "/tree/").utf8) + raw + [0]).map { CChar(bitPattern: $0) }
                let made = path.withUnsafeBufferPointer {
                    directory
                        ? mkdir($0.baseAddress!, 0o755) : open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644)
                }
                try #require(made >= 0)
                if !directory { close(made) }
            }
            let entries = try FileSystem.entries(of: dir + "/tree")
            #expect(entries.map(\.rawName) == [latin, latin + Array("-dir".utf8)])
            #expect(entries.map(\.name) == ["caf\u{FFFD}", "caf\u{FFFD}-dir"])
            #expect(entries.map(\.kind) == [.regular, .directory])
            try FileSystem.writeAtomically(dir + "/tree/plain", [])
            #expect(
                try FileSystem.entries(of: dir + "/tree").last?.rawName == nil, "a UTF-8 name has no bytes")

            try FileSystem.renameEntry(latin, in: dir + "/tree", to: "caf%E9")
            #expect(throws: Errno.fileExists) {
                try FileSystem.renameEntry(latin + Array("-dir".utf8), in: dir + "/tree", to: "plain")
            }
            #expect(
                try FileSystem.entries(of: dir + "/tree").map(\.name) == [
                    "caf%E9", "caf\u{FFFD}-dir", "plain",
                ])
            try FileSystem.removeTree(dir + "/tree")
            #expect(!FileSystem.exists(dir + "/tree"))
        }
    }
}
