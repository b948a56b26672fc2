import SwarmCore
import SwarmProtocol
import SwarmSystem
import Testing

@testable import SwarmRuntime

private let base: Millis = 1_800_000_000_000

private func spec(_ name: String = "tick", every: SchedulePeriod = .heartbeats(3)) -> ScheduleSpec {
    ScheduleSpec(name: name, period: every, task: TaskSpec(role: "worker", template: "shell", text: "echo"))
}

@Suite("Schedules: the ledger of firings, the change walk, the daemon's bookkeeping")
struct ScheduleOwnerTests {
    @Test(
        "task file names that stand for an id",
        arguments: [
            ("tick-3.md", "tick-3"), ("tick-3.md.1", "tick-3"), ("tick-3.md.12", "tick-3"),
            (".tick-3.md", nil),
            ("tick-3.md.schedule-12", nil), ("tick-3.json", nil), ("tick-3.md.error", nil), ("tick-3", nil),
        ] as [(String, String?)])
    func taskIDs(_ fileName: String, _ id: String?) {
        #expect(FiringLedger.taskID(fileName: fileName) == id)
    }

    @Test("schedule files are NAME.md, not what intake ignores")
    func scheduleNames() {
        #expect(ScheduleFile.name(fileName: "tick.md") == "tick")
        for ignored in [
            ".tick.md", "tick.md~", "tick.md.error", "tick.txt", ".md", "tick.md.swp", "#tick.md#",
        ] {
            #expect(ScheduleFile.name(fileName: ignored) == nil, "\(ignored)")
        }
    }

    @Test("the last firing is the highest number anywhere in the tree; an agent before a file")
    func ledger() throws {
        try withWorkspaceFolder { root in
            let workspace = Workspace(root: root)
            let slotText = Timestamp.iso8601(milliseconds: base + 600)
            try write(root + "/swarm/inbox/tick-2.md", "---\nrole: worker\ntemplate: shell\n---\n")
            try write(
                root + "/swarm/claimed/_inbox/tick-4.md.1",
                "---\nrole: worker\ntemplate: shell\nschedule: tick\nschedule.slot: \(slotText)\n---\n")
            try write(root + "/swarm/rejected/tick-3.md", "x")
            try write(root + "/swarm/rejected/tock-9.md", "x")
            try write(root + "/swarm/inbox/.tick-7.md.schedule-1", "x")
            var ledger = FiringLedger.scan(workspace, agentIDs: ["tick-1", "tock-2", "ticker-5"])
            let last = try #require(ledger.last(of: "tick"))
            #expect(last.number == 4 && last.place == .claimed)
            #expect(FiringLedger.slot(of: last, schedule: "tick", period: 600) == base + 600)
            #expect(ledger.last(of: "tock")?.number == 9)
            #expect(ledger.last(of: "ticker")?.place == .agent)
            #expect(ledger.last(of: "none") == nil)
            ledger = FiringLedger.scan(workspace, agentIDs: ["tick-4"])
            #expect(ledger.last(of: "tick")?.place == .agent)
            // a task with no schedule.slot: the slot that holds its file's time
            let inbox = try #require(FileSystem.status(root + "/swarm/inbox/tick-2.md"))
            let other = FiringLedger.Firing(
                number: 2, id: "tick-2", place: .inbox, path: root + "/swarm/inbox/tick-2.md")
            #expect(
                FiringLedger.slot(of: other, schedule: "tick", period: 600)
                    == SchedulePlanner.slot(at: inbox.modifiedNanos / 1_000_000, period: 600))
        }
    }

    @Test("the change walk: newest time, missing paths, never swarm/agents, swarm/ or .git below a path")
    func changeWalk() throws {
        try withWorkspaceFolder { root in
            let workspace = Workspace(root: root)
            try write(root + "/src/a.swift", "a")
            try write(root + "/src/deep/b.swift", "b")
            try write(root + "/src/.git/objects/x", "x")
            try write(root + "/swarm/agents/tick-1/results.json", "{}")
            try FileSystem.symlink(target: "/etc", at: root + "/src/link")
            let quiet = ChangeWalk.newest(["src", "nothing-here"], in: workspace)
            #expect(quiet.missing == ["nothing-here"])
            #expect(!quiet.cut)
            let before = try #require(quiet.newest)
            Clock.sleep(milliseconds: 20)
            try write(root + "/src/.git/objects/y", "y")
            try write(root + "/swarm/agents/tick-1/progress.md", "p")
            try write(root + "/swarm/state.json", "{}")
            // the .git folder itself changed (a new file in objects/ changes objects/, not src/.git)
            #expect(ChangeWalk.newest(["src"], in: workspace).newest == before)
            #expect(ChangeWalk.newest(["./src/"], in: workspace).newest == before)
            try write(root + "/src/deep/b.swift", "b2")
            #expect(try #require(ChangeWalk.newest(["src"], in: workspace).newest) > before)
            // from the root, swarm/ is left out; named itself, only its agents/ is
            let fromRoot = ChangeWalk.newest(["."], in: workspace)
            #expect(!fromRoot.cut)
            let swarm = try #require(ChangeWalk.newest(["swarm"], in: workspace).newest)
            let state = try #require(FileSystem.status(root + "/swarm/state.json")).modifiedNanos
            #expect(swarm >= state)
            #expect(
                ChangeWalk.newest(["nothing"], in: workspace)
                    == .init(newest: nil, missing: ["nothing"], cut: false))
            #expect(ChangeWalk.newest(["src"], in: workspace, limit: 2).cut)
            #expect(ChangeWalk.newest([root + "/src/a.swift"], in: workspace).newest != nil)
        }
    }

    @Test("the change walk goes in steps of a bounded number of entries and finds what one walk finds")
    func walkInSteps() throws {
        try withWorkspaceFolder { root in
            let workspace = Workspace(root: root)
            for folder in 0..<5 {
                for file in 0..<499 { try write(root + "/big/d\(folder)/f\(file)", "x") }
            }
            var walk = ChangeWalk(["big", "absent"], in: workspace)
            var steps = 1
            while !walk.step(1_000) { steps += 1 }
            // 1 + 5 folders + 2,495 files = 2,501 entries: three steps
            #expect(steps == 3)
            #expect(walk.result == ChangeWalk.newest(["big", "absent"], in: workspace))
            #expect(walk.result.missing == ["absent"] && !walk.result.cut)
            var limited = ChangeWalk(["big"], in: workspace, limit: 1_500)
            while !limited.step(1_000) {}
            #expect(limited.result.cut)
        }
    }

    @Test("bookkeeping: a loaded schedule, a firing, a skip, the next deadline, the state file round trip")
    func bookkeeping() throws {
        var schedules = Schedules()
        let stamp = FileStatus(kind: .regular, size: 10, modifiedNanos: 1, inode: 2, device: 3)
        let isNew = schedules.loaded(
            "tick", stamp: stamp, .success(spec()),
            last: { LastFiring(number: 4, slot: base, writtenNanos: 9) },
            heartbeat: 200, now: base + 100)
        #expect(!isNew)
        #expect(schedules.isCurrent("tick", stamp: stamp))
        #expect(schedules.schedule(ofFiring: "tick-12") == "tick")
        #expect(schedules.schedule(ofFiring: "tock-1") == nil)
        #expect(schedules.nextDeadline(heartbeat: 200, now: base + 100) == base + 600)
        schedules.record(
            "tick", .fire(slot: base + 600), firing: LastFiring(number: 5, slot: base + 600, writtenNanos: 10)
        )
        schedules.record("tick", .skip(slot: base + 1_200, .overlap, missed: 2))
        let entry = try #require(schedules["tick"])
        #expect(entry.last?.number == 5)
        #expect(entry.decided == base + 1_200)
        #expect(entry.skips == [.overlap: 1, .missed: 2])
        #expect(schedules.nextDeadline(heartbeat: 200, now: base + 1_300) == base + 1_800)
        let snapshot = schedules.snapshot(heartbeat: 200, now: base + 1_300, pid: 42)
        #expect(
            snapshot["schedules"]?["tick"]?["next"]?.stringValue
                == Timestamp.iso8601(milliseconds: base + 1_800))
        #expect(snapshot["heartbeat_ms"]?.intValue == 200)
        let restored = Schedules.decode(try JSON.parse(Array(JSON.encode(snapshot).utf8)))
        #expect(restored["tick"]?.decided == base + 1_200)
        #expect(restored["tick"]?.skips == [.overlap: 1, .missed: 2])
        var fresh = Schedules()
        fresh.restore(snapshot)
        _ = fresh.loaded(
            "tick", stamp: stamp, .success(spec()), last: { nil }, heartbeat: 200, now: base + 1_300)
        #expect(fresh["tick"]?.skips[.overlap] == 1)
        #expect(fresh["tick"]?.decided == base + 1_200)
    }

    @Test("a problem is reported once per version; a period edit starts the new grid at the next slot")
    func reloads() {
        var schedules = Schedules()
        let one = FileStatus(kind: .regular, size: 1, modifiedNanos: 1, inode: 1, device: 1)
        let two = FileStatus(kind: .regular, size: 2, modifiedNanos: 2, inode: 1, device: 1)
        let broken = Result<ScheduleSpec, SwarmError>.failure(SwarmError("line 4: bad every"))
        let first = schedules.loaded("tick", stamp: one, broken, last: { nil }, heartbeat: 200, now: base)
        let again = schedules.loaded("tick", stamp: one, broken, last: { nil }, heartbeat: 200, now: base)
        let edited = schedules.loaded("tick", stamp: two, broken, last: { nil }, heartbeat: 200, now: base)
        #expect(first && !again && edited)
        #expect(schedules.nextDeadline(heartbeat: 200, now: base) == nil)
        _ = schedules.loaded(
            "tick", stamp: one, .success(spec()), last: { nil }, heartbeat: 200, now: base + 50)
        #expect(schedules["tick"]?.problem == nil)
        #expect(schedules.nextDeadline(heartbeat: 200, now: base + 50) == base + 600)
        _ = schedules.loaded(
            "tick", stamp: two, .success(spec(every: .duration(1_000))), last: { nil }, heartbeat: 200,
            now: base + 1_500)
        #expect(schedules["tick"]?.decided == base + 1_000)
        #expect(schedules.nextDeadline(heartbeat: 200, now: base + 1_500) == base + 2_000)
        schedules.removed("tick")
        #expect(schedules.names.isEmpty)
    }
}
