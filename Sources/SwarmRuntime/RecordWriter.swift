import SwarmCore
import SwarmProtocol
import SwarmSystem

/// What the runtime writes of its records, and when: the crash contract of meta.json and
/// state.json. Recovery (`RecordWriter+Recovery.swift`) is the inverse of these rules.
///
/// Rules, in the order of an agent's life:
/// 1. **Accepted** (intake): the agent's folder gets source, task.md and, when the agent
///    waits for a slot, its queued record. An agent that starts at once gets no queued record:
///    its start writes the first one (rule 2). Neither does one whose record its folder gives
///    again (`AgentRecord.isDerivableFromSource`: a worker from the inbox without a
///    repository): readers and recovery make its queued record from its source file
///    (`Intake.waitingRecord`).
/// 2. **Before a spawn**, the record that says the run started (state running, the attempt and
///    run counted, no pid yet) is written and must land: when it cannot, nothing is spawned
///    (`startRecord` says so). One exception: the first run of an agent on this machine,
///    without an upstream, whose queued record is on disk or derived keeps that record: the
///    spawn's own stdout.log marks the start.
/// 3. **After a spawn**, the record naming the first run's pid waits `pidWriteDelay`: a run
///    that ends sooner is written once, when it ends. Every other change is written at the
///    next turn of the loop (`flush`), one meta.json per changed agent.
/// 4. **The relation of parent and children** is written once, in each child's `parent`;
///    a parent's list of children is derived (`Scheduler.init`), never stored. A parent's
///    children.json, derived from its children's records, is written after them (at the same
///    flush, and before any spawn), so an orchestrator never reads of a child's end that its
///    record does not hold yet.
/// 5. **state.json** is a cache of every record, rewritten at most every
///    `stateWriteInterval`; nothing reads it back.
///
/// So a crash can leave behind: a folder without meta.json (a derivable agent's, whose queued
/// record is made again, or intake cut short: taken in again); a queued record, on disk or
/// derived, whose run started (rule 2's exception: told by stdout.log); a
/// running record without a pid whose run never started (told by the missing stdout.log) or
/// did (told by the lock its process holds); records up to one loop turn old (each is whole).
/// A write that fails is owed (`TreeWriter`) and the daemon starts nothing until it lands.
struct RecordWriter {
    /// How long the first run of an agent may go before meta.json names its pid (rule 3).
    static let pidWriteDelay: Millis = 100
    /// state.json is rewritten at most this often while things change (rule 5).
    static let stateInterval: Millis = 250

    let workspace: Workspace
    /// Agents whose meta.json is behind their record.
    private(set) var dirty: Set<String> = []
    /// First runs whose pid is not in meta.json yet, with the time they started (rule 3).
    private(set) var deferredStarts: [String: Millis] = [:]
    /// children.json of each orchestrator whose fan-in waits for its children's records.
    private var fanIns: [String: [UInt8]] = [:]
    /// Each agent's line of state.json, until the agent changes.
    private var stateLines: [String: [UInt8]] = [:]
    /// The size of the last state.json, to reserve as much for the next.
    private var stateSize = 0
    private(set) var stateDirty = true
    private(set) var lastStateWrite: Millis = 0

    init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// How often state.json may be rewritten: every 250 ms, or every N/10 ms for N agents when
    /// that is longer (a tree of 10,000 agents rewrites its 4 MB snapshot once a second).
    static func stateWriteInterval(agents: Int) -> Millis { max(stateInterval, Millis(agents / 10)) }

    /// The scheduler asked for `id`'s record to be written (`.persist`).
    mutating func persist(_ id: String) {
        dirty.insert(id)
        stateLines[id] = nil
        stateDirty = true
    }

    /// Something state.json shows changed without any record changing.
    mutating func touch() { stateDirty = true }

    /// Rule 3: the agent whose record `event` changes only by naming the pid of its first
    /// run, if it does: its write waits, so the caller skips that `.persist` and calls
    /// `deferStart`.
    func deferredWrite(of event: Event, records: [String: AgentRecord]) -> String? {
        guard case .started(let id, _?, _, nil, _) = event, let record = records[id],
            record.active, record.runs == 1, record.attempts == 1, !dirty.contains(id)
        else { return nil }
        return id
    }

    /// Rule 3: `id`'s first-run record is written once it has lasted `pidWriteDelay`.
    mutating func deferStart(_ id: String, now: Millis) {
        deferredStarts[id] = now
        stateLines[id] = nil
        stateDirty = true
    }

    /// When the oldest deferred start is due.
    var nextDeferredWrite: Millis? { deferredStarts.values.min().map { $0 + Self.pidWriteDelay } }

    /// Rule 2: whether the run about to start writes its record before the spawn. False for
    /// the first run of an agent on this machine without an upstream whose queued record
    /// (rule 1) is on disk, or is derived from its folder (then the disk is not looked at).
    func writesBeforeSpawn(_ record: AgentRecord, local: Bool, queuedRecordOnDisk: @autoclosure () -> Bool)
        -> Bool
    {
        !(local && record.runs == 1 && record.attempts == 1 && record.upstream == nil
            && (record.isDerivableFromSource || queuedRecordOnDisk()))
    }

    /// Rule 2: before a spawn, writes every changed record, then `record` itself unless
    /// `writeOwn` is false (`writesBeforeSpawn`) and no change of it is owed (a retry of a
    /// task that never ran changes its record in the same event as its start: meta.json does
    /// not hold the queued record then). False when something could not land: the run must
    /// not start.
    mutating func beforeSpawn(
        _ record: AgentRecord, writeOwn: Bool, records: [String: AgentRecord], writer: inout TreeWriter,
        now: Millis
    ) -> Bool {
        let owed = dirty.remove(record.id) != nil
        flushMeta(records: records, writer: &writer, now: now)
        if writeOwn || owed {
            writer.replace(workspace.agentFiles(record.id).meta, with: MetaStore.encode(record), now: now)
        }
        return !writer.isStalled
    }

    /// Writes what is due: every changed meta.json (deferred starts once due, all of them with
    /// `force`). Returns state.json's bytes when its interval has passed (or with `force`), for
    /// the caller to write (the daemon writes them off its loop: `StateFile`).
    mutating func flush(
        records: [String: AgentRecord], limits: Limits, router: UpstreamRouter, writer: inout TreeWriter,
        now: Millis, force: Bool = false
    ) -> [UInt8]? {
        for (id, started) in deferredStarts where force || now - started >= Self.pidWriteDelay {
            dirty.insert(id)
        }
        flushMeta(records: records, writer: &writer, now: now)
        let due = now - lastStateWrite >= Self.stateWriteInterval(agents: records.count)
        guard stateDirty && (due || force) else { return nil }
        return state(records: records, limits: limits, router: router, writer: &writer, now: now)
    }

    /// Rule 4: `parent`'s children.json, written with the next flush, after the records of
    /// the children it reports.
    mutating func fanIn(_ parent: String, _ bytes: [UInt8]) {
        fanIns[parent] = bytes
    }

    /// Writes every meta.json that changed, in id order, then the fan-ins derived from them.
    private mutating func flushMeta(records: [String: AgentRecord], writer: inout TreeWriter, now: Millis) {
        for id in dirty.sorted() {
            deferredStarts[id] = nil
            guard let record = records[id] else { continue }
            writer.replace(workspace.agentFiles(id).meta, with: MetaStore.encode(record), now: now)
        }
        dirty.removeAll()
        for (parent, bytes) in fanIns.sorted(by: { $0.key < $1.key }) {
            writer.replace(workspace.agentFiles(parent).fanIn, with: bytes, now: now)
        }
        fanIns.removeAll()
    }

    /// The bytes of state.json: one compact line per agent (cached until the agent changes), so
    /// that a rewrite costs little even with thousands of agents. Writes upstreams.json beside it.
    private mutating func state(
        records byID: [String: AgentRecord], limits: Limits, router: UpstreamRouter, writer: inout TreeWriter,
        now: Millis
    ) -> [UInt8] {
        // the order is taken from (sequence, id) pairs: sorting the records themselves moves
        // every one of them several times
        let order = byID.map { (sequence: $0.value.sequence, id: $0.key) }.sorted { $0 < $1 }
        var text: [UInt8] = []
        text.reserveCapacity(stateSize + 512)
        text.append(contentsOf: "{\n  \"agents\": [".utf8)
        for (index, entry) in order.enumerated() {
            text.append(contentsOf: (index == 0 ? "\n    " : ",\n    ").utf8)
            if let cached = stateLines[entry.id] {
                text.append(contentsOf: cached)
            } else if let record = byID[entry.id] {
                let line = JSON.encodeBytes(
                    AgentSummary(record, workspace: workspace, progress: nil).json, pretty: false)
                stateLines[entry.id] = line
                text.append(contentsOf: line)
            }
        }
        text.append(contentsOf: (order.isEmpty ? "],\n" : "\n  ],\n").utf8)
        let budgets = StatusView.budgets(order.compactMap { byID[$0.id] }, limits: limits).map {
            b -> JSONValue in
            .object([
                "holder": .string(b.holder), "used": .integer(Int64(b.used)),
                "total": .integer(Int64(b.total)),
            ])
        }
        text.append(contentsOf: "  \"budgets\": ".utf8)
        text.append(contentsOf: JSON.encodeBytes(.array(budgets), pretty: false))
        text.append(contentsOf: ",\n  \"daemon_pid\": \(Processes.currentID),\n  \"updated\": ".utf8)
        text.append(contentsOf: JSON.quote(Timestamp.iso8601(milliseconds: now)).utf8)
        text.append(contentsOf: "\n}\n".utf8)
        stateSize = text.count
        if !router.isEmpty {
            let upstreams = UpstreamSnapshot.make(router, now: now)
            writer.replace(workspace.upstreamsPath, with: JSON.encodeBytes(upstreams.json), now: now)
        }
        stateDirty = false
        lastStateWrite = now
        return text
    }
}
