import SwarmCore
import SwarmProtocol
import SwarmSystem

/// The agents that wait for their first run without a record on disk (crash contract, rule 1:
/// `AgentRecord.isDerivableFromSource`): their queued records, made again from their folders
/// for the readers of the tree and for a restarted daemon.
extension Intake {
    /// The queued record of the waiting task in agents/`id`/, which keeps none on disk (crash
    /// contract, rule 1): made again from its source file and template as intake made it, with
    /// `createdAt` when its brief was written. Nil when the folder holds a meta.json, no source
    /// file or no brief (intake was cut short), when the source no longer reads, or when its
    /// task is not one that waits without a record (`AgentRecord.isDerivableFromSource`).
    mutating func waitingRecord(_ id: String) -> AgentRecord? {
        let files = workspace.agentFiles(id)
        guard !FileSystem.exists(files.meta), let entries = try? FileSystem.entries(of: files.directory),
            let source = entries.first(where: { $0.name.hasPrefix("source.") && $0.kind == .regular }),
            let bytes = try? FileSystem.readFile(files.directory + "/" + source.name, limit: Self.taskLimit),
            let task = try? TaskParser.parse(fileName: source.name, bytes: bytes),
            task.id == nil || task.id == id,
            let template = try? catalog.template(task.template)
        else { return nil }
        // intake writes the brief after the source file: without it, intake was cut short
        guard let written = FileSystem.status(files.task).map({ $0.modifiedNanos / 1_000_000 }),
            var record = try? makeRecord(id: id, task: task, template: template, parent: nil, now: written),
            record.isDerivableFromSource
        else { return nil }
        record.state = .queued
        return record
    }

    /// The queued records of the waiting agents among `folders` (agent folders without a
    /// readable meta.json), numbered after the sequences of `loaded` in the order they were
    /// taken in; and the folders that hold no such agent. A folder an orchestrator's
    /// `children/` links to holds a child request, which always has a record of its own.
    mutating func waitingRecords(in folders: [String], besides loaded: [AgentRecord]) -> (
        records: [AgentRecord], others: [String]
    ) {
        guard !folders.isEmpty else { return ([], []) }
        var requested: Set<String> = []
        for orchestrator in loaded where orchestrator.kind == .orchestrator {
            let links = (try? FileSystem.entries(of: workspace.agentFiles(orchestrator.id).children)) ?? []
            requested.formUnion(links.map(\.name))
        }
        var found: [AgentRecord] = []
        var others: [String] = []
        for id in folders {
            guard !requested.contains(id), let record = waitingRecord(id) else {
                others.append(id)
                continue
            }
            found.append(record)
        }
        found.sort { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        var next = (loaded.map(\.sequence).max() ?? 0) + 1
        for index in found.indices {
            found[index].sequence = next
            next += 1
        }
        return (found, others)
    }
}
