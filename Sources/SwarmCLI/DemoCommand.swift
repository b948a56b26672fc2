import SwarmCore
import SwarmProtocol
import SwarmRuntime
import SwarmScaffold
import SwarmSystem

/// `swarm demo`: a temporary workspace, a root -> meta -> workers run of stand-in agents to
/// completion, and an account of what happened. Needs no API key and no network.
enum DemoCommand {
    static func run(_ context: Context) throws {
        let root = "/tmp/swarm-demo-\(Processes.currentID)-\(Clock.wallMilliseconds() % 1_000_000)"
        let workspace = Workspace(root: root)
        for file in Scaffold.files {
            let path = root + "/" + file.path
            if let slash = path.lastIndex(of: "/") { try? FileSystem.makeDirectory(String(path[..<slash])) }
            do {
                try FileSystem.writeAtomically(path, Array(file.contents.utf8))
            } catch {
                throw SwarmError("cannot create the demo workspace in \(root): \(error)")
            }
        }
        let tasks = [
            ("demo-root.md", """
                ---
                id: demo-root
                role: root
                template: sim-orchestrator
                slots: 8
                sim.children: 2
                sim.child-template: sim-orchestrator
                sim.child-slots: 3
                sim.child-children: 3
                sim.child-steps: 4
                sim.interval: 60ms
                ---
                Split the work between two meta-orchestrators, each with three workers.
                """),
            ("flaky.md", """
                ---
                id: flaky
                role: worker
                template: sim-worker
                sim.fail: contract
                sim.fail-times: 1
                ---
                Return a result that breaks the contract once; the retry succeeds.
                """),
        ]
        for (name, text) in tasks {
            try FileSystem.writeAtomically(workspace.inbox + "/" + name, Array((text + "\n").utf8))
        }
        Output.print("swarm demo: a workspace in \(root), two tasks in its inbox; running until idle...\n")
        let started = Clock.monotonicNanoseconds()
        var options = DaemonOptions()
        options.untilIdle = true
        options.heartbeat = 500
        options.quiet = true
        try Daemon(workspace: workspace, options: options).run()
        let seconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
        report(workspace, seconds: seconds)
        if context.has("--keep") {
            Output.print("\nThe workspace is kept: look around with `cd \(root) && swarm status`.")
        } else {
            try? FileSystem.removeTree(root)
            Output.print("\n(The workspace was removed; `swarm demo --keep` keeps it to read by hand.)")
        }
    }

    private static func report(_ workspace: Workspace, seconds: Double) {
        let records = MetaStore.snapshot(workspace).records
        let byParent = Dictionary(grouping: records, by: { $0.parent ?? "" })
        var out = "What ran (id, state, attempts, role/template, subtree budget, time to settle):\n"
        func walk(_ r: AgentRecord, _ indent: String) {
            let budget = r.kind == .orchestrator ? "  slots \(r.slots)" : ""
            let took = r.finishedAt.map { " in \($0 - r.createdAt) ms" } ?? ""
            out += "\(indent)\(r.id)  \(r.state.rawValue)  attempts \(r.attempts)  \(r.role)/\(r.template)\(budget)\(took)\n"
            for kid in byParent[r.id] ?? [] { walk(kid, indent + "    ") }
        }
        for r in byParent[""] ?? [] { walk(r, "  ") }
        let done = records.filter { $0.state == .done }.count
        out += "\n\(done) of \(records.count) agents done in \(String(Int(seconds * 1000))) ms.\n"
        let alerts = (try? FileSystem.readFile(workspace.alertsPath, limit: 1 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let lines = alerts.split(separator: "\n")
        out += "\nAlerts (\(lines.count)):\n"
        for line in lines {
            if let value = try? JSON.parse(Array(line.utf8)) {
                out += "  \(value["kind"]?.stringValue ?? "")  \(value["agent"]?.stringValue ?? "-"): \(value["message"]?.stringValue ?? "")\n"
            }
        }
        if let root = records.first(where: { $0.id == "demo-root" }),
            let bytes = try? FileSystem.readFile(workspace.agentFiles(root.id).results, limit: 1 << 20)
        {
            out += "\nThe root's results.json:\n" + String(decoding: bytes, as: UTF8.self)
        }
        Output.print(out)
    }
}
