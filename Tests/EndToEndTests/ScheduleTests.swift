import FoundationEssentials
@preconcurrency import Glibc
import SwarmSystem
import Testing

/// A schedule file: front matter `fields` (role, template, every...), then `body`.
private func schedule(
    _ fields: [(String, String)], _ body: String = "echo '{\"status\": \"ok\"}' > results.json"
)
    -> String
{
    TestWorkspace.task(fields, body)
}

/// A shell worker that fires every `every`, plus `extra` keys.
private func shellSchedule(every: String, _ extra: [(String, String)] = []) -> String {
    schedule([("role", "worker"), ("template", "shell"), ("every", every)] + extra)
}

/// One firing as the tree holds it: its number, the slot it fired for, its record's times.
private struct Firing: Sendable {
    var id: String
    var number: Int
    var slot: Int64
    /// When its task file was written (source.md's modification time), in ms.
    var written: Int64
    var created: Int64
    var finished: Int64?
    var state: String
}

private struct Meta: Decodable {
    var createdAt: Int64
    var finishedAt: Int64?
    var state: String
}

/// `swarm schedules --json`.
private struct SchedulesDocument: Decodable {
    struct Entry: Decodable {
        struct Last: Decodable {
            var id: String
            var state: String
        }
        var name: String
        var every: String?
        var next: String?
        var last: Last?
        var firings: Int
        var skips: [String: Int]
        var missing: [String]
        var problem: String?
    }
    var daemon: Bool
    var schedules: [Entry]
}

private func milliseconds(_ iso: String) -> Int64? {
    guard let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(iso) else {
        return nil
    }
    return Int64((date.timeIntervalSince1970 * 1000).rounded())
}

extension TestWorkspace {
    /// Every firing of schedule `name` in swarm/agents/, by number.
    fileprivate func firings(_ name: String) -> [Firing] {
        entries("swarm/agents").compactMap { id -> Firing? in
            guard id.hasPrefix(name + "-"), let number = Int(id.dropFirst(name.count + 1)),
                let metaText = text("swarm/agents/\(id)/meta.json"),
                let meta = try? decode(Meta.self, metaText),
                let source = text("swarm/agents/\(id)/source.md"),
                let line = source.split(separator: "\n").first(where: { $0.hasPrefix("schedule.slot: ") }),
                let slot = milliseconds(String(line.dropFirst("schedule.slot: ".count))),
                let status = FileSystem.status(path("swarm/agents/\(id)/source.md"))
            else { return nil }
            return Firing(
                id: id, number: number, slot: slot, written: status.modifiedNanos / 1_000_000,
                created: meta.createdAt, finished: meta.finishedAt, state: meta.state)
        }.sorted { $0.number < $1.number }
    }

    fileprivate func schedules() async throws -> SchedulesDocument {
        let output = try await swarm("schedules", "--json")
        try #require(output.status == 0, "swarm schedules --json: \(output)")
        return try decode(SchedulesDocument.self, output.stdout)
    }

    fileprivate func schedule(_ name: String) async throws -> SchedulesDocument.Entry? {
        try await schedules().schedules.first { $0.name == name }
    }
}

@Suite("Schedules: recurring tasks through the inbox", .serialized, .timeLimit(.minutes(2)))
struct ScheduleTests {
    /// How far a file's mtime may lag the clock the daemon reads, in ms. It comes from the
    /// kernel's coarse clock, a tick behind at most on a quiet machine (4 ms at 250 Hz); a
    /// virtual machine whose ticks come late was seen 11 ms behind.
    static let coarseClockLag: Int64 = 25

    @Test("every: 3 heartbeats at a 200 ms heartbeat fires every 600 ms, on the slot, without drift")
    func firesOnTime() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon(["--heartbeat", "200ms"])
            try ws.write("swarm/schedules/tick.md", shellSchedule(every: "3 heartbeats"))
            let fired = await eventually(timeout: 20) {
                ws.firings("tick").filter { $0.state == "done" }.count >= 6
            }
            try #require(fired, "\(ws.diagnostics())")
            let firings = Array(ws.firings("tick").prefix(6))
            #expect(firings.map(\.number) == Array(1...6))
            for firing in firings {
                #expect(firing.slot % 600 == 0, "\(firing.id): slot \(firing.slot) is not on the 600 ms grid")
                // written when its slot began (a loaded machine may delay the loop a little; the
                // mtime may lag: `coarseClockLag`)
                #expect(
                    firing.written >= firing.slot - Self.coarseClockLag,
                    "\(firing.id) written before its slot")
                #expect(
                    firing.written - firing.slot < 500,
                    "\(firing.id) written \(firing.written - firing.slot) ms late")
            }
            // every slot between the first and the sixth firing either fired or was skipped, with
            // its reason counted: no slot is lost and none fired twice
            let entry = try #require(try await ws.schedule("tick"))
            let slots = Int((firings[5].slot - firings[0].slot) / 600) + 1
            let skipped = entry.skips.values.reduce(0, +)
            #expect(Set(firings.map(\.slot)).count == 6)
            #expect(slots <= 6 + skipped, "\(slots) slots for 6 firings and \(entry.skips)")
            #expect(entry.every == "3 heartbeats")
            #expect(entry.next.flatMap(milliseconds).map { $0 % 600 == 0 } == true)
            #expect(try await ws.alerts("orphaned-result").isEmpty, "a firing's result needs no reader")
        }
    }

    @Test("a slow firing is never overlapped: the slots it spans are skipped and counted")
    func neverOverlaps() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon(["--heartbeat", "200ms"])
            try ws.write(
                "swarm/schedules/slow.md",
                schedule(
                    [
                        ("role", "worker"), ("template", "sim-worker"), ("every", "2 heartbeats"),
                        ("sim.steps", "8"), ("sim.interval", "150ms"),
                    ], "Take longer than the period."))
            let done = await eventually(timeout: 30) {
                ws.firings("slow").filter { $0.state == "done" }.count >= 3
            }
            try #require(done, "\(ws.diagnostics())")
            let firings = ws.firings("slow").filter { $0.finished != nil }
            for (earlier, later) in zip(firings, firings.dropFirst()) {
                let finished = try #require(earlier.finished)
                // a file's mtime may lag the clock the daemon reads: `coarseClockLag`
                #expect(
                    later.written >= finished - Self.coarseClockLag,
                    "\(later.id) was written while \(earlier.id) still ran")
                #expect(
                    later.slot - earlier.slot >= 800, "\(later.id) fired for the slot after \(earlier.id)'s")
            }
            let timeline = ws.activeTimeline { $0.hasPrefix("slow-") }
            #expect(timeline.most == 1, "\(timeline.steps)")
            let entry = try #require(try await ws.schedule("slow"))
            #expect((entry.skips["overlap"] ?? 0) >= 2, "\(entry.skips)")
            #expect(
                try await ws.agents().filter { $0.id.hasPrefix("slow-") && $0.state == "running" }.count <= 1)
        }
    }

    @Test("when-changed: skips while nothing changed, fires after a change; a missing path is unchanged")
    func whenChanged() async throws {
        try await withWorkspace { ws in
            try ws.write("watched/notes.md", "first")
            try await ws.startDaemon(["--heartbeat", "200ms"])
            try ws.write(
                "swarm/schedules/watch.md", shellSchedule(every: "300ms", [("when-changed", "watched")]))
            try ws.write(
                "swarm/schedules/gone.md", shellSchedule(every: "300ms", [("when-changed", "not-there")]))
            // the first firing: the paths were never seen by a firing
            #expect(await eventually { ws.firings("watch").count == 1 }, "\(ws.diagnostics())")
            let quiet = try await eventually(timeout: 15) {
                try await (ws.schedule("watch")?.skips["unchanged"] ?? 0) >= 3
            }
            #expect(quiet, "\(ws.diagnostics())")
            #expect(ws.firings("watch").count == 1)
            try ws.write("watched/deeper/new.md", "second")
            #expect(await eventually { ws.firings("watch").count == 2 }, "\(ws.diagnostics())")
            let gone = try #require(try await ws.schedule("gone"))
            #expect(gone.firings == 0)
            #expect(gone.missing == ["not-there"])
            #expect((gone.skips["unchanged"] ?? 0) >= 3)
        }
    }

    @Test("kill -9 of the daemon, again and again: every firing is unique, no slot fires twice")
    func killNineNeverDoubles() async throws {
        try await withWorkspace { ws in
            try ws.write("swarm/schedules/tick.md", shellSchedule(every: "300ms"))
            var daemon = try await ws.startDaemon(["--heartbeat", "200ms"])
            for round in 1...4 {
                let target = round * 2
                let fired = await eventually(timeout: 20) { ws.entries("swarm/agents").count >= target }
                try #require(fired, "\(ws.diagnostics())")
                // crash at a different point of the period each time
                await Run.pause(milliseconds: 70 * round)
                await daemon.crash()
                daemon = try await ws.startDaemon(["--heartbeat", "200ms"])
            }
            let settled = await eventually(timeout: 20) {
                let firings = ws.firings("tick")
                return firings.count >= 9 && firings.allSatisfy { $0.state == "done" }
            }
            try #require(settled, "\(ws.diagnostics())")
            let firings = ws.firings("tick")
            #expect(firings.map(\.number) == Array(1...firings.count), "numbers: \(firings.map(\.number))")
            #expect(
                Set(firings.map(\.slot)).count == firings.count, "a slot fired twice: \(firings.map(\.slot))")
            #expect(zip(firings, firings.dropFirst()).allSatisfy { $0.slot < $1.slot })
            #expect(ws.entries("swarm/agents").allSatisfy { $0.hasPrefix("tick-") })
            #expect(ws.entries("swarm/rejected").isEmpty, "\(ws.entries("swarm/rejected"))")
            #expect(try await ws.alerts("rejected-task").isEmpty)
        }
    }

    @Test("catch-up: once fires at once for slots that passed while no daemon ran; skip waits")
    func catchUp() async throws {
        try await withWorkspace { ws in
            try ws.write("swarm/schedules/once.md", shellSchedule(every: "2s", [("catch-up", "once")]))
            try ws.write("swarm/schedules/skip.md", shellSchedule(every: "2s"))
            let first = try await ws.startDaemon(["--heartbeat", "200ms"])
            let both = await eventually(timeout: 10) {
                ws.firings("once").count == 1 && ws.firings("skip").count == 1
            }
            try #require(both, "\(ws.diagnostics())")
            first.signal(SIGTERM)
            #expect(await first.waitForExit() == .exited(0))
            // wait until the next slot of the last firing has passed with no daemon
            let passed = try #require(ws.firings("once").first).slot + 2_000
            while Clock.wallMilliseconds() < passed + 300 { await Run.pause(milliseconds: 50) }
            let restart = Clock.wallMilliseconds()
            try await ws.startDaemon(["--heartbeat", "200ms"])
            #expect(await eventually(timeout: 10) { ws.firings("once").count == 2 }, "\(ws.diagnostics())")
            #expect(await eventually(timeout: 10) { ws.firings("skip").count == 2 }, "\(ws.diagnostics())")
            let caughtUp = ws.firings("once")[1]
            let waited = ws.firings("skip")[1]
            #expect(caughtUp.slot < restart, "once fired for a slot that passed while down")
            #expect(waited.slot >= restart, "skip waited for the next slot")
            #expect((try await ws.schedule("skip")?.skips["missed"] ?? 0) >= 1)
        }
    }

    @Test("a broken schedule file is reported, kept as it is, and the others keep firing; fixed, it fires")
    func brokenSchedule() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon(["--heartbeat", "200ms"])
            let broken = schedule([("role", "worker"), ("template", "no-such-template"), ("every", "300ms")])
            try ws.write("swarm/schedules/bad.md", broken)
            try ws.write("swarm/schedules/good.md", shellSchedule(every: "300ms"))
            #expect(try await ws.waitForAlert("rejected-task"), "\(ws.diagnostics())")
            let alert = try #require(try await ws.alerts("rejected-task").first)
            #expect(alert.message.contains("swarm/schedules/bad.md"))
            #expect(alert.message.contains("no-such-template"))
            #expect(await eventually { ws.exists("swarm/schedules/bad.md.error") })
            #expect(
                ws.text("swarm/schedules/bad.md.error")?.contains(
                    "template \"no-such-template\" does not exist") == true)
            #expect(ws.text("swarm/schedules/bad.md") == broken)
            #expect(await eventually { ws.firings("good").count >= 3 }, "\(ws.diagnostics())")
            let listed = try #require(try await ws.schedule("bad"))
            #expect(listed.problem?.contains("no-such-template") == true)
            #expect(listed.next == nil && listed.firings == 0)
            #expect(ws.firings("bad").isEmpty)
            #expect(try await ws.alerts("rejected-task").count == 1, "one alert per version of the file")
            let check = try await ws.swarm("check")
            #expect(check.status == 1, "\(check)")
            #expect(
                check.stdout.contains("swarm/schedules/bad.md: template \"no-such-template\" does not exist"))
            let table = try await ws.swarm("schedules")
            #expect(table.status == 0 && table.stdout.contains("broken: template"), "\(table)")
            try ws.write("swarm/schedules/bad.md", shellSchedule(every: "300ms"))
            #expect(await eventually { ws.firings("bad").count >= 1 }, "\(ws.diagnostics())")
            #expect(!ws.exists("swarm/schedules/bad.md.error"))
            // a removed schedule fires no more (once the daemon has seen it go)
            try FileSystem.remove(ws.path("swarm/schedules/good.md"))
            let forgotten = await eventually {
                ws.text("swarm/schedules.json")?.contains("\"good\"") == false
            }
            #expect(forgotten, "\(ws.diagnostics())")
            // firings by name: a task being taken in is in claimed/ and has its folder for a moment
            let made = {
                Set(
                    ["swarm/agents", "swarm/inbox", "swarm/claimed/_inbox"].flatMap(ws.entries).filter {
                        $0.hasPrefix("good-")
                    }.map { $0.hasSuffix(".md") ? String($0.dropLast(3)) : $0 }
                ).count
            }
            let count = made()
            await Run.pause(milliseconds: 900)
            #expect(made() == count, "a removed schedule fired again")
        }
    }

    @Test(
        "a firing intake would reject (an input missing) is not written: blocked once, then fired when fixed")
    func blockedUntilFixed() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon(["--heartbeat", "200ms"])
            try ws.write("swarm/schedules/needs.md", shellSchedule(every: "300ms", [("inputs", "needed.md")]))
            let blocked = try await eventually {
                try await (ws.schedule("needs")?.skips["blocked"] ?? 0) >= 3
            }
            #expect(blocked, "\(ws.diagnostics())")
            #expect(ws.firings("needs").isEmpty && ws.entries("swarm/rejected").isEmpty)
            let alerts = try await ws.alerts("rejected-task")
            #expect(alerts.count == 1 && alerts.first?.message.contains("needed.md") == true, "\(alerts)")
            try ws.write("needed.md", "here")
            #expect(await eventually { ws.firings("needs").count >= 1 }, "\(ws.diagnostics())")
            #expect(!ws.exists("swarm/schedules/needs.md.error"), "the file itself is good")
        }
    }
}
