import SwarmCore
import SwarmProtocol
import SwarmSystem
import Testing

@testable import SwarmRuntime

@Suite("MetaStore.snapshot: the records as readers of the tree see them")
struct MetaStoreSnapshotTests {
    static func queued(_ id: String, runs: Int = 0, attempts: Int = 0) -> AgentRecord {
        var record = AgentRecord(
            id: id, parent: nil, depth: 1, kind: .worker, role: "worker", template: "shell",
            priority: .normal, slots: 0, policy: .standard, createdAt: 1_000)
        record.runs = runs
        record.attempts = attempts
        return record
    }

    @Test(
        "a queued first run whose spawn made its stdout.log is shown running, started when the log was made")
    func startedFirstRunIsRunning() throws {
        try withWorkspaceFolder { root in
            let workspace = Workspace(root: root)
            for record in [
                Self.queued("started"), Self.queued("waiting"), Self.queued("retried", runs: 1, attempts: 1),
            ] {
                try write(
                    workspace.agentFiles(record.id).meta,
                    String(decoding: MetaStore.encode(record), as: UTF8.self))
            }
            var deferred = Self.queued("deferred")
            deferred.notBefore = 9_000
            deferred.lastFailure = "not started yet: the Slurm controller does not answer"
            try write(
                workspace.agentFiles("deferred").meta,
                String(decoding: MetaStore.encode(deferred), as: UTF8.self))
            try write(
                workspace.agentFiles("deferred").stdout, "srun: error: unable to contact the controller\n")
            try write(workspace.agentFiles("started").stdout, "")
            try write(workspace.agentFiles("retried").stdout, "the first attempt's output\n")
            let made =
                try #require(FileSystem.status(workspace.agentFiles("started").stdout)).modifiedNanos
                / 1_000_000

            let seen = Dictionary(
                uniqueKeysWithValues: MetaStore.snapshot(workspace).records.map { ($0.id, $0) })
            let started = try #require(seen["started"])
            #expect(started.state == .running && started.active)
            #expect(started.attempts == 1 && started.runs == 1 && started.pid == nil)
            #expect(started.startedAt == made)
            #expect(seen["waiting"]?.state == .queued && seen["waiting"]?.active == false)
            // a start put back in the queue waits again, whatever its start left behind
            #expect(seen["deferred"]?.state == .queued && seen["deferred"]?.attempts == 0)
            // a retry waits in the queue with the logs of its earlier runs: still queued
            #expect(seen["retried"]?.state == .queued && seen["retried"]?.runs == 1)
            // the files themselves are left as they are
            #expect(MetaStore.read(workspace.agentFiles("started").meta)?.state == .queued)
            #expect(MetaStore.loadAll(workspace).records.first { $0.id == "started" }?.state == .queued)
        }
    }

    @Test("a record found running is read again after the first pass: an end written meanwhile is seen")
    func runningRecordsAreReadAgain() throws {
        try withWorkspaceFolder { root in
            let workspace = Workspace(root: root)
            var first = Self.queued("first", runs: 1, attempts: 1)
            first.state = .running
            first.active = true
            first.startedAt = 2_000
            try write(
                workspace.agentFiles("first").meta, String(decoding: MetaStore.encode(first), as: UTF8.self))
            let unchanged = MetaStore.snapshot(workspace, afterFirstPass: {}).records
            #expect(unchanged.first?.state == .running)
            // the run ends after the first pass has read it (and another may start in its slot)
            let seen = MetaStore.snapshot(workspace) {
                first.state = .done
                first.active = false
                try? write(
                    workspace.agentFiles("first").meta,
                    String(decoding: MetaStore.encode(first), as: UTF8.self))
            }.records
            #expect(seen.first?.state == .done && seen.first?.active == false)
        }
    }
}
