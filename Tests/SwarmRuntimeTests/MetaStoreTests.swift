import SwarmCore
import SwarmProtocol
import SwarmRuntime
import SwarmSystem
import Testing

@Suite("MetaStore: meta.json round trips, pretty and with sorted keys")
struct MetaStoreTests {
    /// A record with every persisted field set to something other than its default (children
    /// are derived from the children's records, never persisted).
    static func fullRecord() -> AgentRecord {
        var policy = FailurePolicy.standard
        policy.backoffBaseMilliseconds = 250
        policy.backoffCapMilliseconds = 8000
        var record = AgentRecord(
            id: "fix-login", parent: "boss", depth: 2, kind: .orchestrator, role: "meta",
            template: "sim-orchestrator", priority: .urgent, slots: 3, policy: policy,
            createdAt: 1_700_000_000_123)
        record.state = .running
        record.attempts = 2
        record.runs = 5
        record.sequence = 41
        record.notBefore = 1_700_000_001_000
        record.pid = 4242
        record.active = true
        record.stopping = .stuck
        record.upstream = "primary"
        record.startedAt = 1_700_000_000_500
        record.finishedAt = 1_700_000_009_999
        record.lastFailure = "exit: the command ended (exit status 1) without writing results.json"
        record.lastFailureKind = .exit
        record.pendingWakes = [.childSettled("c9"), .heartbeat]
        record.tokensUsed = 1_200
        record.runTokens = 300
        record.costUsed = 0.5
        record.runCost = 0.25
        record.refusals = [Refusal(name: "deep.md", reason: "too deep")]
        record.deliveredAt = 1_700_000_010_000
        record.consumed = true
        return record
    }

    @Test(
        "encode, write, read back: the same record",
        arguments: [
            fullRecord(),
            AgentRecord(
                id: "w", parent: nil, depth: 1, kind: .worker, role: "worker", template: "sim-worker",
                priority: .normal, slots: 0, policy: .standard, createdAt: 0),
        ])
    func roundTrip(_ record: AgentRecord) throws {
        try withTemporaryFolder { folder in
            let path = folder + "/meta.json"
            try FileSystem.writeAtomically(path, MetaStore.encode(record))
            let back = try #require(MetaStore.read(path))
            #expect(back == record)
            #expect(MetaStore.encode(back) == MetaStore.encode(record))
        }
    }

    @Test("a parent's children are not written: the children's own records say whose they are")
    func childrenAreNotStored() throws {
        var record = Self.fullRecord()
        record.children = ["fix-login-1", "fix-login-2"]
        let text = String(decoding: MetaStore.encode(record), as: UTF8.self)
        #expect(!text.contains("fix-login-1"))
        #expect(MetaStore.encode(record) == MetaStore.encode(Self.fullRecord()))
    }

    @Test("a running record keeps its run's usage apart, so an adopted run's report is not counted twice")
    func runUsageIsKeptApart() throws {
        let text = String(decoding: MetaStore.encode(Self.fullRecord()), as: UTF8.self)
        #expect(text.contains("\"tokensUsed\": 1500") && text.contains("\"runTokens\": 300"))
    }

    @Test("the text is pretty JSON with keys in sorted order at every level, ending in a newline")
    func sortedKeys() throws {
        let text = String(decoding: MetaStore.encode(Self.fullRecord()), as: UTF8.self)
        #expect(text.hasPrefix("{\n"))
        #expect(text.hasSuffix("}\n"))
        // the keys of each indentation level appear in sorted order
        var keysByIndent: [Int: [String]] = [:]
        for line in text.split(separator: "\n") {
            let indent = line.prefix { $0 == " " }.count
            let rest = line.dropFirst(indent)
            guard rest.hasPrefix("\""), let end = rest.dropFirst().firstIndex(of: "\""),
                rest[rest.index(after: end)...].trimmingLeadingSpaces().hasPrefix(":")
            else { continue }
            keysByIndent[indent, default: []].append(String(rest[rest.index(after: rest.startIndex)..<end]))
        }
        let top = try #require(keysByIndent[2])
        #expect(top == top.sorted())
        #expect(
            top.contains("id") && top.contains("state") && top.contains("attempts")
                && top.contains("createdAt"))
        #expect(!text.contains("\\/"), "slashes are not escaped")
        // times are milliseconds since the epoch
        let value = try JSON.parse(Array(text.utf8))
        #expect(value["createdAt"]?.intValue == 1_700_000_000_123)
        #expect(value["state"]?.stringValue == "running")
        #expect(value["parent"]?.stringValue == "boss")
    }

    @Test("PROTOCOL.md: parent is absent at the top; unset optional fields are not written")
    func absentFields() throws {
        let record = AgentRecord(
            id: "w", parent: nil, depth: 1, kind: .worker, role: "worker", template: "sim-worker",
            priority: .normal, slots: 0, policy: .standard, createdAt: 7)
        let value = try JSON.parse(MetaStore.encode(record))
        let keys = try #require(value.objectValue?.keys)
        for key in ["parent", "pid", "notBefore", "startedAt", "finishedAt", "lastFailure", "stopping"] {
            #expect(!keys.contains(key), "\(key) is written for a fresh top-level record")
        }
        #expect(value["id"]?.stringValue == "w")
        #expect(value["state"]?.stringValue == "queued")
    }

    @Test("optional fields that are unset are left out, and a minimal meta.json still reads")
    func minimal() throws {
        try withTemporaryFolder { folder in
            let path = folder + "/meta.json"
            try write(
                path,
                #"{"id": "w", "depth": 1, "kind": "worker", "role": "worker", "template": "sim-worker", "priority": "normal", "slots": 0, "state": "queued", "createdAt": 5}"#
            )
            let record = try #require(MetaStore.read(path))
            #expect(record.id == "w")
            #expect(record.parent == nil)
            #expect(record.attempts == 0)
            #expect(record.policy == .standard)
            #expect(!record.active)
            try write(path, "{\"id\": ")
            #expect(MetaStore.read(path) == nil)
            #expect(MetaStore.read(folder + "/missing.json") == nil)
        }
    }

    @Test("loadAll: records in arrival order; folders without a readable meta.json listed apart")
    func loadAll() throws {
        try withTemporaryFolder { root in
            let workspace = Workspace(root: root)
            for (id, sequence) in [("b", 2), ("a", 3), ("c", 1)] {
                var record = AgentRecord(
                    id: id, parent: nil, depth: 1, kind: .worker, role: "worker", template: "sim-worker",
                    priority: .normal, slots: 0, policy: .standard, createdAt: 0)
                record.sequence = sequence
                try FileSystem.makeDirectory(workspace.agentDirectory(id))
                try FileSystem.writeAtomically(workspace.agentFiles(id).meta, MetaStore.encode(record))
            }
            try FileSystem.makeDirectory(workspace.agentDirectory("half"))
            try write(workspace.agentDirectory("broken") + "/meta.json", "not json")
            // a meta.json whose id is not its folder's name is not trusted
            var stray = AgentRecord(
                id: "elsewhere", parent: nil, depth: 1, kind: .worker, role: "worker", template: "sim-worker",
                priority: .normal, slots: 0, policy: .standard, createdAt: 0)
            stray.sequence = 9
            try write(
                workspace.agentDirectory("moved") + "/meta.json",
                String(decoding: MetaStore.encode(stray), as: UTF8.self))
            let (records, unreadable) = MetaStore.loadAll(workspace)
            #expect(records.map(\.id) == ["c", "b", "a"])
            #expect(Set(unreadable) == ["half", "broken", "moved"])
        }
    }
}

extension Substring {
    fileprivate func trimmingLeadingSpaces() -> Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        return s
    }
}
