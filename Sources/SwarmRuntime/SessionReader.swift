import SwarmProtocol
import SwarmSystem

/// The session id an agent's CLI reported in its output, read when a run ends: the last
/// line of the tail of stdout.log that is Claude Code's stream-json `init` line
/// (`{"type":"system","subtype":"init","session_id":...}`) or its `result` line (which
/// carries the same id). Codex and other CLIs print no line of these shapes; their agents
/// record no session and every retry starts afresh.
enum SessionReader {
    /// How much of the log's end is read.
    static let tailBytes = 256 * 1024

    /// The session id of the last init or result line in `output`, if any.
    static func session(inOutput output: String) -> String? {
        for line in output.split(separator: "\n").reversed() where line.contains("\"session_id\"") {
            guard let value = try? JSON.parse(Array(line.utf8)), let type = value["type"]?.stringValue,
                let session = value["session_id"]?.stringValue, isSessionID(session)
            else { continue }
            if type == "result" || (type == "system" && value["subtype"]?.stringValue == "init") {
                return session
            }
        }
        return nil
    }

    /// True for what a CLI's session id looks like: 1 to 128 ASCII letters, digits, `-` and
    /// `_` (it reaches the resume command through SWARM_SESSION_ID; nothing else is passed on).
    static func isSessionID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 128
            && text.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D
                    || c == 0x5F
            }
    }
}
