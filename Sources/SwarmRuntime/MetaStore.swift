import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Reads and writes the runtime-owned JSON files: meta.json of each agent, state.json.
/// Pretty-printed with sorted keys so that a person can read and diff them.
public enum MetaStore {
    static let metaLimit = 1 << 20

    /// The bytes of a meta.json for `record`.
    public static func encode(_ record: AgentRecord) -> [UInt8] {
        JSON.encodeBytes(record.json, pretty: true, sortKeys: true)
    }

    /// Writes `record` to its meta.json atomically.
    static func write(_ record: AgentRecord, in workspace: Workspace) throws(Errno) {
        try FileSystem.writeAtomically(workspace.agentFiles(record.id).meta, encode(record))
    }

    /// The record in one meta.json, or nil when it is missing or unreadable.
    public static func read(_ path: String) -> AgentRecord? {
        guard let bytes = try? FileSystem.readFile(path, limit: metaLimit),
            let value = try? JSON.parse(bytes)
        else { return nil }
        return AgentRecord(json: value)
    }

    /// Every agent record of the workspace, from the meta.json files (the truth; state.json is
    /// only a cache). Folders without a readable meta.json are listed in `unreadable`.
    public static func loadAll(_ workspace: Workspace) -> (records: [AgentRecord], unreadable: [String]) {
        let entries = (try? FileSystem.entries(of: workspace.agentsDirectory)) ?? []
        var records: [AgentRecord] = []
        var unreadable: [String] = []
        for entry in entries where entry.kind == .directory && !entry.name.hasPrefix(".") {
            if let record = read(workspace.agentFiles(entry.name).meta), record.id == entry.name {
                records.append(record)
            } else {
                unreadable.append(entry.name)
            }
        }
        return (records.sorted { $0.sequence < $1.sequence }, unreadable)
    }
}
