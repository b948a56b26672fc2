import SwarmProtocol
import SwarmSystem

extension Scenarios {
    /// `swarm report` of a real run: a root orchestrator over `reportMetas` orchestrators of
    /// `reportWorkers` stand-in workers each (501 agents in full mode), run to its end; then
    /// the report is made three times as HTML and three times as JSON, and the slowest of each
    /// is the figure.
    func report() throws -> [Figure] {
        let slots = reportMetas * 2
        let root = try Bench.workspace("report", settings: ["maxSlots": .integer(Int64(slots + 3))])
        defer { try? FileSystem.removeTree(root) }
        let task = """
            ---
            id: root
            role: root
            template: sim-orchestrator
            slots: \(slots)
            sim.children: \(reportMetas)
            sim.child-template: sim-orchestrator
            sim.child-children: \(reportWorkers)
            sim.child-slots: 1
            sim.child-steps: 1
            sim.interval: 1ms
            ---
            A wide tree for the report.

            """
        try Bench.drop(root, "root.md", task)
        var t = Bench.now()
        try Bench.run(
            Bench.swarm, ["run", "--until-idle", "--heartbeat", "5s"], environment: env(root),
            output: root + "/daemon.log")
        let runSeconds = Bench.now() - t
        let agents = (try? FileSystem.entries(of: root + "/swarm/agents"))?.count ?? 0
        var html: [Double] = []
        var json: [Double] = []
        for _ in 0..<3 {
            t = Bench.now()
            try Bench.run(
                Bench.swarm, ["report", "--out", root + "/report.html"], environment: env(root),
                output: root + "/report.log")
            html.append(Bench.now() - t)
            t = Bench.now()
            try Bench.run(
                Bench.swarm, ["report", "--json", "--out", root + "/report.json"], environment: env(root),
                output: root + "/report.log")
            json.append(Bench.now() - t)
        }
        let size = Double(FileSystem.status(root + "/report.html")?.size ?? 0) / 1024
        let slowest = html.max() ?? .nan
        return [
            Figure(
                name: "report: run of \(agents) agents to its end", value: runSeconds, unit: "s", target: "-",
                met: nil),
            Figure(
                name: "report: swarm report of \(agents) agents, HTML (slowest of 3)", value: slowest,
                unit: "s", target: "< 2", met: slowest < 2),
            Figure(
                name: "report: swarm report --json of \(agents) agents (slowest of 3)",
                value: json.max() ?? .nan, unit: "s", target: "< 2", met: (json.max() ?? 3) < 2),
            Figure(
                name: "report: HTML size, \(agents) agents", value: size, unit: "KiB", target: "-", met: nil),
        ]
    }
}
