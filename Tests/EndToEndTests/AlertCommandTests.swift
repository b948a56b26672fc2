import SwarmSystem
import Testing

/// The alert command of swarm.json: it gets every alert, and a command that hangs or fails
/// never stalls the daemon.
@Suite("The alert command", .serialized, .timeLimit(.minutes(1)))
struct AlertCommandTests {
    @Test("receives each alert as JSON on stdin and in SWARM_ALERT_* variables")
    func receivesAlerts() async throws {
        let command = #""cat >> \"$SWARM_ROOT/hook.jsonl\"; echo \"$SWARM_ALERT_KIND\" >> \"$SWARM_ROOT/hook.kinds\"""#
        try await withWorkspace(config: ["alertCommand": command]) { ws in
            try ws.drop("bad.md", "---\nrole: nosuchrole\ntemplate: sim-worker\n---\nX\n")
            #expect(try await ws.runUntilIdle().status == 0)
            let received = await eventually(timeout: 10) { (ws.text("hook.kinds") ?? "").contains("rejected-task") }
            #expect(received, "\(ws.diagnostics())")
            let line = ws.text("hook.jsonl") ?? ""
            #expect(line.contains("\"kind\":\"rejected-task\""), "the alert's JSON arrives on stdin: \(line)")
        }
    }

    @Test("a hanging or failing alert command does not stall the daemon", arguments: ["sleep 60", "exit 3"])
    func brokenCommand(_ command: String) async throws {
        try await withWorkspace(config: ["alertCommand": "\"\(command)\""]) { ws in
            for i in 1...3 {
                try ws.drop("bad\(i).md", "---\nrole: nosuchrole\ntemplate: sim-worker\n---\nX\n")
            }
            for i in 1...5 { try ws.drop("t\(i).md", TestWorkspace.simTask("t\(i)")) }
            let started = Clock.monotonicNanoseconds()
            let output = try await ws.runUntilIdle()
            let seconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
            #expect(output.status == 0, "\(output)")
            #expect(seconds < 9, "the daemon waited for its alert command (\(seconds) s)")
            #expect(try await ws.waitForStates((1...5).map { "t\($0)" }, ["done"]))
            #expect(try await ws.alerts("rejected-task").count == 3)
        }
    }
}
