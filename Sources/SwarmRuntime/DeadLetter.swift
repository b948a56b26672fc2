import SwarmCore
import SwarmProtocol
import SwarmSystem

/// swarm/dead-letter/<id>/: a copy of everything about a task that failed for good, with a
/// reason.md a person can read. The agent's own folder stays as it is.
enum DeadLetter {
    /// Files copied, when present.
    static let kept = [
        "source.md", "source.json", "task.md", "meta.json", "results.json", "progress.md",
        "question.md", "answer.md", "stdout.log", "stderr.log",
    ]
    /// Bytes kept of each file; a longer log keeps its tail.
    static let limit = 4 << 20

    /// Fills `dead-letter/<id>/` through `writer`: a full disk delays the copy, it never
    /// loses it (each file is owed until it lands).
    static func keep(
        _ id: String, reason: String, workspace: Workspace, writer: inout TreeWriter, now: Millis
    ) {
        let source = workspace.agentFiles(id)
        let target = workspace.deadLetter + "/" + id
        for name in kept {
            let path = source.directory + "/" + name
            guard let status = FileSystem.status(path), status.kind == .regular else { continue }
            writer.replace(
                target + "/" + name, with: tail(path, size: status.size), makeParent: true, now: now)
        }
        let text = """
            # \(id) failed for good

            \(reason)

            Everything the runtime knew is beside this file; the agent's folder is \
            \(source.directory). Run `swarm retry \(id)` to queue it again (attempts keep counting).

            """
        writer.replace(target + "/reason.md", with: Array(text.utf8), makeParent: true, now: now)
    }

    private static func tail(_ path: String, size: Int64) -> [UInt8] {
        guard let bytes = try? FileSystem.readFile(path, limit: Int(max(size, 0)) + 4096) else { return [] }
        return bytes.count > limit ? Array(bytes.suffix(limit)) : bytes
    }
}
