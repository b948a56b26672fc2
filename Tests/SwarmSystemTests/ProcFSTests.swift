import Testing

@testable import SwarmSystem

@Suite struct ProcFSTests {
    @Test(
        arguments: [
            (
                "1234 (sh) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 1 0 100\n", 1234, 1, 1234, 1234,
                12, "S"
            ),
            ("42 (a) b (c)) Z 7 8 9 0 -1 0 0 0 0 0 300 2 0 0 20 0 1 0 100\n", 42, 7, 8, 9, 302, "Z"),
            ("7 ( ) R 0 0 0 0 0 0 0 0 0 0 0 0", 7, 0, 0, 0, 0, "R"),
        ] as [(String, Int32, Int32, Int32, Int32, UInt64, Character)])
    func statLinesParseEvenWithAwkwardCommandNames(
        line: String, pid: Int32, parent: Int32, group: Int32, session: Int32, ticks: UInt64, state: Character
    ) {
        let entry = ProcFS.parseStat(Array(line.utf8))
        #expect(
            entry
                == ProcessEntry(
                    pid: pid, parent: parent, group: group, session: session, cpuTicks: ticks, state: state))
    }

    @Test(arguments: [
        "", "garbage", "12 (x) S 1 2 3", "x (y) S 1 2 3 0 0 0 0 0 0 0 1 1", "5 (y) S a b c 0 0 0 0 0 0 0 1 1",
    ])
    func malformedStatLinesAreRejected(line: String) {
        #expect(ProcFS.parseStat(Array(line.utf8)) == nil)
    }

    @Test func snapshotSeesThisProcess() throws {
        let me = Processes.currentID
        let entry = try #require(ProcFS.snapshot().first { $0.pid == me })
        #expect(entry.parent > 0 && entry.session >= 0)
        #expect(ProcFS.entry(of: me) != nil)
        #expect(ProcFS.entry(of: -1) == nil)
        #expect(ProcFS.ticksPerSecond > 0)
        #expect((ProcFS.residentBytes(of: me) ?? 0) > 1 << 20)
        #expect(Processes.isAlive(me) && !Processes.isAlive(0) && !Processes.isAlive(-5))
        #expect(!ProcFS.members(sessions: [entry.session], markers: []).contains(me))
    }
}
