import SwarmCore
import SwarmProtocol
import Testing

/// The records written as meta.json text and read back, as a restarted daemon reads them.
func reloaded(_ records: some Collection<AgentRecord>) throws -> [AgentRecord] {
    try records.map { record in
        let text = JSON.encode(record.json)
        let value = try JSON.parse(Array(text.utf8))
        return try #require(AgentRecord(json: value), "meta.json of \(record.id) reads back")
    }
}

/// The non-zero entries of a counter table (a rebuilt scheduler leaves out the zeros).
func nonZero(_ table: [String: Int]) -> [String: Int] { table.filter { $0.value != 0 } }

/// `effects` without the `.persist` ones.
func withoutPersist(_ effects: [Effect]) -> [Effect] {
    effects.filter { if case .persist = $0 { false } else { true } }
}

/// Rebuilding the scheduler from its records, as the daemon does after a restart.
@Suite struct SchedulerRecoveryTests {
    /// A busy scheduler: running, idle, queued and waiting agents, a retry in backoff, children.
    static func busy() -> Harness {
        var h = Harness(.test(maxSlots: 8, reserve: 1, roleSlots: ["scout": 1]))
        h.arrive("boss", kind: .orchestrator, slots: 3)
        h.spawn("c1", under: "boss")
        h.spawn("c2", under: "boss", kind: .orchestrator, slots: 1)
        h.spawn("c3", under: "boss", priority: .urgent)
        h.exit("c2", idleExit)
        h.arrive("s1", role: "scout")
        h.arrive("s2", role: "scout")
        h.arrive("w")
        h.send(.asked(id: "w"))
        h.arrive("r", policy: .always(.retry(3)))
        h.exit("r", crashExit)
        h.arrive("bg", priority: .background)
        h.arrive("u", kind: .orchestrator, slots: 3, priority: .urgent)
        return h
    }

    @Test func aRebuiltSchedulerHasTheSameBudgetsAndQueue() throws {
        let h = Self.busy()
        #expect(h.scheduler.queue.count >= 3, "\(h.scheduler.queue)")
        let records = try reloaded(h.scheduler.agents.values)
        let rebuilt = Scheduler(limits: h.scheduler.limits, records: records)
        #expect(nonZero(rebuilt.used) == nonZero(h.scheduler.used))
        #expect(nonZero(rebuilt.roleUsed) == nonZero(h.scheduler.roleUsed))
        #expect(rebuilt.queue == h.scheduler.queue)
        #expect(rebuilt.nextDeadline(after: h.now) == h.scheduler.nextDeadline(after: h.now))
        #expect(rebuilt.isIdle == false)
    }

    @Test func everyFieldButLivenessAndChildrenSurvivesMetaJSON() throws {
        var h = Self.busy()
        h.beat(["c1": evidence(3, lines: [line(2, "x")])])
        for record in h.scheduler.agents.values {
            let back = try #require(try reloaded([record]).first)
            var expected = record
            expected.liveness = Liveness()
            expected.children = []
            #expect(back == expected, "\(record.id)")
        }
    }

    /// A parent's children are derived from the children's `parent`, in arrival order, so a
    /// parent record written before its children arrived (a crash) still gets all of them.
    @Test func childrenAreDerivedFromTheChildrensRecords() throws {
        let h = Self.busy()
        var records = try reloaded(h.scheduler.agents.values)
        #expect(records.allSatisfy { $0.children.isEmpty })
        records.shuffle()
        let rebuilt = Scheduler(limits: h.scheduler.limits, records: records)
        for (id, record) in h.scheduler.agents {
            #expect(rebuilt.agents[id]?.children == record.children, "\(id)")
        }
        #expect(rebuilt.agents["boss"]?.children.isEmpty == false)
    }

    /// After a restart, an orchestrator whose children all settled gets its fan-in again (a
    /// crash may have come before children.json) and a wake to read it.
    @Test func aRecoveryWritesTheFanInOfSettledChildrenAgain() throws {
        var h = Harness()
        h.arrive("boss", kind: .orchestrator, slots: 2)
        h.spawn("c1", under: "boss")
        h.exit("boss", idleExit)
        h.exit("c1", .succeeded)
        h.exit("boss", idleExit)
        #expect(h["boss"]?.state == .running && h["boss"]?.active == false)
        var new = Harness(h.scheduler.limits, records: try reloaded(h.scheduler.agents.values))
        new.now = h.now
        let effects = new.send(.recovered)
        let fanIns = effects.compactMap { effect -> [Settlement]? in
            if case .fanIn("boss", let children) = effect { children } else { nil }
        }
        #expect(fanIns.map { $0.map(\.id) } == [["c1"]])
        #expect(fanIns.first?.first?.status == .fulfilled)
        #expect(effects.contains(.start(id: "boss", wake: [.recovered])))
    }

    @Test func aRebuiltSchedulerCarriesOnWhereTheOldOneStopped() throws {
        var old = Self.busy()
        var new = Harness(old.scheduler.limits, records: try reloaded(old.scheduler.agents.values))
        new.now = old.now
        let events: [Event] = [
            .exited(id: "c1", outcome: .succeeded), .answered(id: "w"),
            .exited(id: "s1", outcome: .succeeded),
            .arrived(task("late", at: old.now)), .killRequested(id: "u"),
            .exited(id: "boss", outcome: idleExit),
        ]
        for event in events {
            let a = old.send(event)
            let b = new.send(event)
            #expect(withoutPersist(a) == withoutPersist(b), "\(event)")
        }
        #expect(old.scheduler.agents["late"]?.sequence == new.scheduler.agents["late"]?.sequence)
        #expect(new.scheduler.agents["late"].map { $0.sequence > 10 } == true)
        #expect(old.scheduler.queue == new.scheduler.queue)
    }
}
