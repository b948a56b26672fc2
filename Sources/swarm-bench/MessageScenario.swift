import SwarmProtocol
import SwarmSystem

/// Messages: what `swarm say` and the agent side (`swarm messages`, and its Claude Code hook,
/// which runs after every tool call) cost, and how long a message takes from `swarm say` to
/// the agent's screen when the agent asks right after.
extension Scenarios {
    func messages() throws -> [Figure] {
        let root = try Bench.workspace("messages")
        defer { try? FileSystem.removeTree(root) }
        let folder = root + "/swarm/agents/bench"
        try FileSystem.makeDirectory(folder)
        let meta: JSONValue = .object([
            "id": .string("bench"), "depth": .integer(1), "kind": .string("worker"),
            "role": .string("worker"),
            "template": .string("shell"), "priority": .string("normal"), "slots": .integer(0),
            "state": .string("running"), "active": .bool(true), "createdAt": .integer(0),
        ])
        try FileSystem.writeAtomically(folder + "/meta.json", JSON.encodeBytes(meta))
        let call = root + "/hook-call.json"
        let postToolUse = #"{"hook_event_name": "PostToolUse", "session_id": "s", "tool_name": "Bash"}"#
        try FileSystem.writeAtomically(call, Array(postToolUse.utf8))
        let person = Bench.defaultEnvironment() + ["SWARM_ROOT=" + root]
        let agent = person + ["SWARM_AGENT_DIR=" + folder, "SWARM_AGENT_ID=bench"]
        let shown = root + "/shown.txt"
        var say: [Double] = []
        var read: [Double] = []
        var endToEnd: [Double] = []
        var idleHook: [Double] = []
        var deliveringHook: [Double] = []
        for i in 0..<max(samples, 20) {
            let start = Bench.now()
            try Bench.run(
                Bench.swarm, ["say", "bench", "message \(i)"], environment: person, output: "/dev/null")
            let queued = Bench.now()
            try Bench.run(Bench.swarm, ["messages"], environment: agent, output: shown)
            let printed = Bench.now()
            guard
                (try? FileSystem.readFile(shown, limit: 1 << 16)).map({ String(decoding: $0, as: UTF8.self) }
                )?
                .contains("message \(i)") == true
            else { throw BenchError("swarm messages did not print message \(i)") }
            say.append((queued - start) * 1000)
            read.append((printed - queued) * 1000)
            endToEnd.append((printed - start) * 1000)
            let idle = Bench.now()
            try Bench.run(
                Bench.swarm, ["messages", "--hook"], environment: agent, output: "/dev/null", input: call)
            idleHook.append((Bench.now() - idle) * 1000)
            try Bench.run(
                Bench.swarm, ["say", "bench", "hooked \(i)"], environment: person, output: "/dev/null")
            let hooked = Bench.now()
            try Bench.run(
                Bench.swarm, ["messages", "--hook"], environment: agent, output: shown, input: call)
            deliveringHook.append((Bench.now() - hooked) * 1000)
        }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        return [
            Figure(
                name: "messages: swarm say per message, mean", value: mean(say), unit: "ms", target: "< 10",
                met: mean(say) < 10),
            Figure(
                name: "messages: swarm messages printing one, mean", value: mean(read), unit: "ms",
                target: "< 10", met: mean(read) < 10),
            Figure(
                name: "messages: say -> printed by swarm messages right after, p99",
                value: Bench.percentile(endToEnd, 0.99), unit: "ms", target: "-", met: nil),
            Figure(
                name: "messages: PostToolUse hook with nothing unread, mean", value: mean(idleHook),
                unit: "ms", target: "< 10", met: mean(idleHook) < 10),
            Figure(
                name: "messages: PostToolUse hook handing one over, mean", value: mean(deliveringHook),
                unit: "ms", target: "< 10", met: mean(deliveringHook) < 10),
        ]
    }
}
