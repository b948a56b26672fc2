import SwarmProtocol
import SwarmSystem

/// One measured figure with its target.
struct Figure {
    var name: String
    var value: Double
    var unit: String
    var target: String
    var met: Bool?
}

/// The benchmark scenarios of BENCHMARKS.md. Each is bounded in time.
struct Scenarios {
    var tasks: Int
    var samples: Int
    var sleepers: Int
    var finished: Int
    /// Agents at once: `xargs -P` of the throughput scenario, and the launchers' `maxSlots`
    /// (plus the reserve of 2).
    var slots = 10
    /// The one launcher the launchers scenario runs (`--launcher`), or nil for all three.
    var launcher: LauncherKind?
    /// The report scenario's tree: orchestrators under the root, and workers under each.
    var reportMetas = 20
    var reportWorkers = 24

    private var env: [String] { Bench.defaultEnvironment() }

    func env(_ root: String) -> [String] { env + ["SWARM_ROOT=" + root] }

    static let resultBody = "echo '{\"status\":\"ok\"}' > results.json\n"

    /// N tiny tasks through the full protocol against `xargs -P` running the same work.
    func throughput() throws -> [Figure] {
        let root = try Bench.workspace("throughput")
        defer { try? FileSystem.removeTree(root) }
        for i in 0..<tasks {
            try FileSystem.writeAtomically(
                root + "/swarm/inbox/t\(i).md",
                Array("---\nrole: worker\ntemplate: shell\n---\n\(Self.resultBody)".utf8))
        }
        var t = Bench.now()
        try Bench.run(
            Bench.swarm, ["run", "--until-idle", "--heartbeat", "10s"], environment: env(root),
            output: root + "/daemon.log")
        let swarmSeconds = Bench.now() - t
        let exited = Clock.wallMilliseconds()
        let lastEnd = try lastAgentEnd(root)
        let base = root + "/xargs"
        var list = ""
        for i in 0..<tasks {
            try FileSystem.makeDirectory(base + "/a\(i)")
            list += base + "/a\(i)\n"
        }
        try FileSystem.writeAtomically(base + "/list", Array(list.utf8))
        t = Bench.now()
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: "/usr/bin/xargs",
                arguments: ["-P", String(slots), "-I{}", "sh", "-c", "cd {} && " + Self.resultBody],
                environment: env, workingDirectory: nil, stdinPath: base + "/list", stdoutPath: nil,
                stderrPath: nil, passedDescriptors: [:]))
        _ = Bench.wait(pid)
        let xargsSeconds = Bench.now() - t
        let ratio = swarmSeconds / xargsSeconds
        return [
            Figure(
                name: "throughput: swarm, \(tasks) tasks", value: swarmSeconds, unit: "s", target: "-",
                met: nil),
            Figure(
                name: "throughput: xargs -P \(slots), same work", value: xargsSeconds, unit: "s", target: "-",
                met: nil),
            Figure(
                name: "throughput: swarm / xargs", value: ratio, unit: "x", target: "<= 1.5",
                met: ratio <= 1.5),
            Figure(
                name: "throughput: last agent's end -> --until-idle exit", value: Double(exited - lastEnd),
                unit: "ms",
                target: "< 50", met: exited - lastEnd < 50),
        ]
    }

    /// When events.jsonl of the workspace at `root` last shows an agent's run end.
    private func lastAgentEnd(_ root: String) throws -> Int64 {
        let text = String(
            decoding: try FileSystem.readFile(root + "/swarm/events.jsonl", limit: 1 << 30), as: UTF8.self)
        var last: Int64 = 0
        for line in text.split(separator: "\n") {
            guard let event = try? JSON.parse(Array(line.utf8)), event["active"]?.boolValue == false,
                let time = event["time"]?.stringValue.flatMap(Timestamp.parse)
            else { continue }
            last = max(last, time)
        }
        return last
    }

    /// Reaction latencies with a running daemon: drop -> start, result -> parent woken,
    /// question -> alert.
    func latency() throws -> [Figure] {
        let root = try Bench.workspace("latency")
        defer { try? FileSystem.removeTree(root) }
        try FileSystem.writeAtomically(
            root + "/templates/bench-parent.md",
            Array(
                """
                ---
                kind: orchestrator
                slots: 1
                command: if [ -f children.json ]; then date +%s%N > woke; swarm result --json '{}'; elif [ ! -f spawned ]; then touch spawned; swarm spawn --template bench-child -m child >/dev/null; fi
                ---
                {{task}}

                """.utf8))
        try FileSystem.writeAtomically(
            root + "/templates/bench-child.md",
            Array(
                """
                ---
                command: date +%s%N > written && echo '{"status":"ok"}' > results.json
                ---
                {{task}}

                """.utf8))
        let daemon = try Bench.start(
            Bench.swarm, ["run", "--heartbeat", "10s"], environment: env(root), output: root + "/daemon.log")
        defer {
            _ = Processes.signal(daemon, Signal.terminate)
            _ = Bench.wait(daemon)
        }
        _ = Bench.waitUntil(5) { FileSystem.exists(root + "/swarm/state.json") }
        var start: [Double] = []
        for i in 0..<samples {
            let marker = root + "/mark\(i)"
            let t0 = Bench.wallNanos()
            try Bench.drop(
                root, "l\(i).md",
                "---\nrole: worker\ntemplate: shell\n---\ndate +%s%N > \(marker)\n\(Self.resultBody)")
            if Bench.waitUntil(10, { (FileSystem.status(marker)?.size ?? 0) > 0 }),
                let t1 = Bench.readNumber(marker)
            {
                start.append(Double(t1 - t0) / 1e6)
            }
            Clock.sleep(milliseconds: 5)
        }
        var wake: [Double] = []
        for i in 0..<samples {
            let id = "p\(i)"
            try Bench.drop(
                root, "\(id).md", "---\nid: \(id)\nrole: meta\ntemplate: bench-parent\n---\nOne child.\n")
            let woke = root + "/swarm/agents/\(id)/woke"
            let written = root + "/swarm/agents/\(id)-1/written"
            if Bench.waitUntil(10, { (FileSystem.status(woke)?.size ?? 0) > 0 }),
                let t1 = Bench.readNumber(woke), let t0 = Bench.readNumber(written)
            {
                wake.append(Double(t1 - t0) / 1e6)
            }
        }
        var ask: [Double] = []
        for i in 0..<samples {
            let id = "q\(i)"
            let asked = root + "/swarm/agents/\(id)/asked"
            try Bench.drop(
                root, "\(id).md",
                "---\nid: \(id)\nrole: worker\ntemplate: shell\n---\ndate +%s%N > asked; swarm ask 'which one?'\n\(Self.resultBody)"
            )
            _ = Bench.waitUntil(10) { (FileSystem.status(asked)?.size ?? 0) > 0 }
            let seen = Bench.waitUntil(10) {
                let text =
                    (try? FileSystem.readFile(root + "/swarm/alerts.jsonl", limit: 8 << 20)).map {
                        String(decoding: $0, as: UTF8.self)
                    } ?? ""
                return text.contains("\"waiting-for-human\",\"agent\":\"\(id)\"")
            }
            if seen, let t0 = Bench.readNumber(asked) {
                ask.append(Double(Bench.wallNanos() - t0) / 1e6)
            }
        }
        func figures(_ label: String, _ values: [Double]) -> [Figure] {
            let p99 = Bench.percentile(values, 0.99)
            return [
                Figure(
                    name: "\(label) p50", value: Bench.percentile(values, 0.5), unit: "ms", target: "-",
                    met: nil),
                Figure(name: "\(label) p99", value: p99, unit: "ms", target: "< 10", met: p99 < 10),
                Figure(name: "\(label) max", value: values.max() ?? .nan, unit: "ms", target: "-", met: nil),
            ]
        }
        return figures("latency: inbox drop -> agent started", start)
            + figures("latency: results.json -> parent woken", wake)
            + figures("latency: question.md -> alert (upper bound)", ask)
    }

    /// Many sleeping agents at once: daemon CPU while idle and resident memory.
    func scale() throws -> [Figure] {
        let root = try Bench.workspace("scale", settings: ["maxSlots": .integer(Int64(sleepers + 2))])
        defer {
            for pid in ProcFS.members(sessions: [], markers: ["SWARM_ROOT=" + root]) {
                _ = Processes.signal(pid, Signal.kill)
            }
            try? FileSystem.removeTree(root)
        }
        for i in 0..<sleepers {
            try FileSystem.writeAtomically(
                root + "/swarm/inbox/s\(i).md",
                Array("---\nrole: worker\ntemplate: shell\n---\nsleep 60\n".utf8))
        }
        let daemon = try Bench.start(
            Bench.swarm, ["run", "--heartbeat", "30s"], environment: env(root), output: root + "/daemon.log")
        defer {
            _ = Processes.signal(daemon, Signal.terminate)
            _ = Bench.wait(daemon)
        }
        // every sleeper runs: its state is running in state.json (processes would count the
        // shell and its sleep twice)
        let started = Bench.waitUntil(60) {
            let state =
                (try? FileSystem.readFile(root + "/swarm/state.json", limit: 64 << 20))
                .map { String(decoding: $0, as: UTF8.self) } ?? ""
            return state.split(separator: "\"state\":\"running\"").count - 1 >= sleepers
        }
        guard started else { throw BenchError("only some of \(sleepers) sleepers started within 60 s") }
        Clock.sleep(milliseconds: 500)
        let ticks0 = Bench.cpuTicks(daemon)
        let t0 = Bench.now()
        Clock.sleep(milliseconds: 5_000)
        let cpu =
            Double(Bench.cpuTicks(daemon) - ticks0) / Double(ProcFS.ticksPerSecond) / (Bench.now() - t0) * 100
        let rss = Double(ProcFS.residentBytes(of: daemon) ?? 0) / 1_048_576
        return [
            Figure(
                name: "scale: daemon CPU, \(sleepers) agents running, idle", value: cpu, unit: "% of a core",
                target: "< 1", met: cpu < 1),
            Figure(
                name: "scale: daemon resident memory, \(sleepers) agents", value: rss, unit: "MB",
                target: "< 64", met: rss < 64),
        ]
    }

    /// A tree of many finished agents: restart to ready, and one heartbeat pass.
    func restart() throws -> [Figure] {
        let root = try Bench.workspace("restart")
        defer { try? FileSystem.removeTree(root) }
        for i in 0..<finished {
            let id = "done-\(i)"
            let dir = root + "/swarm/agents/" + id
            try FileSystem.makeDirectory(dir)
            let meta = """
                {"id": "\(id)", "depth": 1, "kind": "worker", "role": "worker", "template": "shell", "priority": "normal", "slots": 0, "state": "done", "attempts": 1, "runs": 1, "sequence": \(i + 1), "active": false, "createdAt": 1, "finishedAt": 2, "deliveredAt": 2, "consumed": true}

                """
            try FileSystem.writeAtomically(dir + "/meta.json", Array(meta.utf8))
            try FileSystem.writeAtomically(dir + "/results.json", Array("{\"status\":\"ok\"}\n".utf8))
        }
        let t = Bench.now()
        try Bench.run(
            Bench.swarm, ["run", "--until-idle"], environment: env(root), output: root + "/restart.log")
        let ready = (Bench.now() - t) * 1000
        let log = root + "/beat.log"
        let daemon = try Bench.start(
            Bench.swarm, ["run", "--heartbeat", "200ms", "--verbose"], environment: env(root), output: log)
        _ = Bench.waitUntil(10) {
            ((try? FileSystem.readFile(log, limit: 16 << 20)).map { String(decoding: $0, as: UTF8.self) }
                ?? "")
                .split(separator: "heartbeat pass").count >= 5
        }
        _ = Processes.signal(daemon, Signal.terminate)
        _ = Bench.wait(daemon)
        let text =
            (try? FileSystem.readFile(log, limit: 16 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let passes = text.split(separator: "\n").compactMap { line -> Double? in
            guard let range = line.firstRange(of: "heartbeat pass took ") else { return nil }
            return Double(line[range.upperBound...].prefix { $0 != " " })
        }
        let pass = passes.max() ?? .nan
        return [
            Figure(
                name: "restart: \(finished) finished agents -> ready (and idle exit)", value: ready,
                unit: "ms", target: "< 1000", met: ready < 1000),
            Figure(
                name: "heartbeat pass, \(finished) finished agents (max of \(passes.count))", value: pass,
                unit: "ms", target: "< 50", met: pass < 50),
        ]
    }

    /// `swarm progress`, as agents call it all day.
    func agentSide() throws -> [Figure] {
        let dir = "/tmp/swarm-bench-progress-\(Processes.currentID)"
        try FileSystem.makeDirectory(dir)
        defer { try? FileSystem.removeTree(dir) }
        let environment =
            env + [
                "SWARM_PROGRESS=" + dir + "/progress.md", "SWARM_AGENT_DIR=" + dir, "SWARM_AGENT_ID=bench",
            ]
        var times: [Double] = []
        for i in 0..<max(samples * 3, 30) {
            let t = Bench.now()
            try Bench.run(
                Bench.swarm, ["progress", "--outputs", String(i), "working on step \(i)"],
                environment: environment)
            times.append((Bench.now() - t) * 1000)
        }
        let mean = times.reduce(0, +) / Double(times.count)
        return [
            Figure(
                name: "agent side: swarm progress per call, mean", value: mean, unit: "ms", target: "< 5",
                met: mean < 5),
            Figure(
                name: "agent side: swarm progress per call, p99", value: Bench.percentile(times, 0.99),
                unit: "ms", target: "-", met: nil),
        ]
    }
}
