@preconcurrency import Glibc
import SwarmSystem
import Testing

// MARK: - A workspace in a temp folder

/// A fresh workspace made by `swarm init` in a temp folder, with helpers to drop tasks, run the
/// CLI against it and read what the runtime wrote. `cleanup()` kills every daemon and agent
/// it started and removes the folder.
final class TestWorkspace: @unchecked Sendable {
    let root: String
    private var daemons: [DaemonProcess] = []

    private init(root: String) {
        self.root = root
    }

    /// `swarm init` in a new temp folder (or in `folder`, made if missing); `config`
    /// values (raw JSON) replace or add keys of swarm.json; `files` (path relative to the
    /// root: text) are written after.
    static func make(config: [String: String] = [:], files: [String: String] = [:], folder: String? = nil)
        async throws -> TestWorkspace
    {
        let root = folder ?? "/tmp/swarm-e2e-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        let workspace = TestWorkspace(root: root)
        let output = try await Run.command(SwarmBinary.path, ["init", root])
        try #require(output.status == 0, "swarm init failed: \(output)")
        if !config.isEmpty { try workspace.configure(config) }
        for (path, text) in files { try workspace.write(path, text) }
        return workspace
    }

    /// Rewrites swarm.json with `values` (raw JSON) in place of the keys' lines.
    func configure(_ values: [String: String]) throws {
        var lines = try #require(text("swarm/swarm.json")).split(
            separator: "\n", omittingEmptySubsequences: false
        )
        .map(String.init)
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            if let index = lines.firstIndex(where: { $0.trimmingSpaces().hasPrefix("\"\(key)\":") }) {
                let comma = lines[index].hasSuffix(",") ? "," : ""
                lines[index] = "  \"\(key)\": \(value)\(comma)"
            } else {
                lines.insert("  \"\(key)\": \(value),", at: 1)
            }
        }
        try write("swarm/swarm.json", lines.joined(separator: "\n"))
    }

    // Files

    func path(_ relative: String) -> String { root + "/" + relative }

    /// Writes a file (relative to the root) atomically, making folders as needed.
    func write(_ relative: String, _ text: String) throws {
        try write(relative, bytes: Array(text.utf8))
    }

    func write(_ relative: String, bytes: [UInt8]) throws {
        let full = path(relative)
        try FileSystem.makeDirectory(SwarmBinary.parent(full))
        try FileSystem.writeAtomically(full, bytes)
    }

    /// Drops a task into the inbox the careful way: written as `.NAME.tmp`, renamed in.
    func drop(_ name: String, _ text: String) throws {
        try drop(name, bytes: Array(text.utf8))
    }

    func drop(_ name: String, bytes: [UInt8]) throws {
        let temporary = path("swarm/inbox/.\(name).tmp")
        try FileSystem.createExclusive(temporary, bytes)
        try FileSystem.rename(temporary, to: path("swarm/inbox/" + name))
    }

    /// A task file from front matter `fields` and a body.
    static func task(_ fields: [(String, String)], _ body: String = "Do the work.") -> String {
        "---\n" + fields.map { "\($0.0): \($0.1)\n" }.joined() + "---\n" + body + "\n"
    }

    /// A sim-worker task with `id` and extra keys.
    static func simTask(_ id: String, _ extra: [(String, String)] = [], kind: String = "worker") -> String {
        task(
            [("role", kind == "worker" ? "worker" : "meta"), ("template", "sim-\(kind)"), ("id", id)] + extra,
            "Stand-in task \(id).")
    }

    func text(_ relative: String) -> String? {
        (try? FileSystem.readFile(path(relative), limit: 64 << 20)).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    func bytes(_ relative: String) -> [UInt8]? {
        try? FileSystem.readFile(path(relative), limit: 64 << 20)
    }

    func exists(_ relative: String) -> Bool { FileSystem.exists(path(relative)) }

    func entries(_ relative: String) -> [String] {
        ((try? FileSystem.entries(of: path(relative))) ?? []).map(\.name).sorted()
    }

    // The CLI

    /// `swarm --root ROOT ARGS...`.
    func swarm(_ arguments: String..., timeout: Double = 30) async throws -> CommandOutput {
        try await swarm(arguments, timeout: timeout)
    }

    func swarm(_ arguments: [String], timeout: Double = 30) async throws -> CommandOutput {
        try await Run.command(SwarmBinary.path, ["--root", root] + arguments, timeout: timeout)
    }

    /// Every agent, from `swarm status --json`.
    func agents() async throws -> [AgentStatus] {
        let output = try await swarm("status", "--json")
        try #require(output.status == 0, "swarm status --json: \(output)")
        return try decode(StatusDocument.self, output.stdout).agents
    }

    func agent(_ id: String) async throws -> AgentStatus? {
        try await agents().first { $0.id == id }
    }

    func state(_ id: String) async throws -> String? {
        try await agent(id)?.state
    }

    /// Every alert, from `swarm alerts --json`.
    func alerts() async throws -> [AlertLine] {
        let output = try await swarm("alerts", "--json")
        try #require(output.status == 0, "swarm alerts --json: \(output)")
        return try decode(AlertsDocument.self, output.stdout).alerts
    }

    func alerts(_ kind: String, agent: String? = nil) async throws -> [AlertLine] {
        try await alerts().filter { $0.kind == kind && (agent == nil || $0.agent == agent) }
    }

    /// Waits until every agent in `ids` is in one of `states`.
    func waitForStates(_ ids: [String], _ states: Set<String>, timeout: Double = 15) async throws -> Bool {
        try await eventually(timeout: timeout) {
            let agents = try await self.agents()
            return ids.allSatisfy { id in
                agents.first { $0.id == id }.map { states.contains($0.state) } ?? false
            }
        }
    }

    func waitForState(_ id: String, _ states: Set<String>, timeout: Double = 15) async throws -> Bool {
        try await waitForStates([id], states, timeout: timeout)
    }

    func waitForAlert(_ kind: String, agent: String? = nil, timeout: Double = 15) async throws -> Bool {
        try await eventually(timeout: timeout) { try await !self.alerts(kind, agent: agent).isEmpty }
    }

    // The daemon

    /// `swarm run ARGS...` in the background, its output in a log in the root (or in
    /// `logFolder`, for a root the test makes unwritable); returns once it has written
    /// state.json (it watches the inbox by then). `environment` is the daemon's.
    @discardableResult
    func startDaemon(
        _ arguments: [String] = ["--heartbeat", "200ms"], waitUntilReady: Bool = true,
        logFolder: String? = nil, environment: [String] = SwarmBinary.environment
    ) async throws -> DaemonProcess {
        let log = (logFolder ?? root) + "/daemon-\(daemons.count + 1).log"
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: SwarmBinary.path, arguments: ["--root", root, "run"] + arguments,
                environment: environment, workingDirectory: root, stdoutPath: log, stderrPath: log
            ))
        let daemon = DaemonProcess(pid: pid, log: log)
        daemons.append(daemon)
        if waitUntilReady {
            let ready = await eventually(timeout: 15, every: 10) {
                guard let text = self.text("swarm/state.json"),
                    let state = try? decode(StateDocument.self, text)
                else { return false }
                return state.daemon_pid == pid
            }
            try #require(ready, "the daemon did not come up: \(daemon.logText)")
        }
        return daemon
    }

    /// `swarm run --until-idle --heartbeat HB` to its end.
    func runUntilIdle(heartbeat: String = "200ms", timeout: Double = 30) async throws -> CommandOutput {
        try await swarm(["run", "--until-idle", "--heartbeat", heartbeat], timeout: timeout)
    }

    // Processes

    /// Pids of live processes started for this workspace (their environment holds SWARM_ROOT
    /// of this root), optionally only those of one agent.
    func agentProcesses(_ id: String? = nil) -> [Int32] {
        var markers = ["SWARM_ROOT=" + root]
        if let id { markers.append("SWARM_AGENT_ID=" + id) }
        return ProcFS.snapshot().filter { $0.state != "Z" }.compactMap { process in
            guard let environment = ProcFS.environment(of: process.pid) else { return nil }
            return Set(environment).isSuperset(of: markers) ? process.pid : nil
        }
    }

    /// The agent id of every live agent process of this workspace, by pid, with its parent id.
    func liveAgents() -> [(id: String, parent: String)] {
        var seen: [String: String] = [:]
        for process in ProcFS.snapshot() where process.state != "Z" {
            guard let environment = ProcFS.environment(of: process.pid),
                environment.contains("SWARM_ROOT=" + root)
            else { continue }
            var id: String?
            var parent = ""
            for entry in environment {
                if entry.hasPrefix("SWARM_AGENT_ID=") {
                    id = String(entry.dropFirst("SWARM_AGENT_ID=".count))
                }
                if entry.hasPrefix("SWARM_PARENT_ID=") {
                    parent = String(entry.dropFirst("SWARM_PARENT_ID=".count))
                }
            }
            if let id { seen[id] = parent }
        }
        return seen.map { ($0.key, $0.value) }
    }

    /// What a failing test prints: the daemons' logs and the agents' states.
    func diagnostics() -> String {
        var out = "workspace \(root)\n"
        for daemon in daemons { out += "--- \(daemon.log)\n" + String(daemon.logText.suffix(3000)) }
        out += "--- state.json\n" + String((text("swarm/state.json") ?? "(none)").prefix(3000))
        return out
    }

    /// Kills every daemon of this workspace (SIGKILL) and waits until each has ended.
    func crashDaemons() async {
        for daemon in daemons where daemon.ended == nil { await daemon.crash() }
    }

    /// Kills every daemon and agent process of this workspace, then removes its folder.
    func cleanup() {
        for daemon in daemons where daemon.ended == nil {
            daemon.signal(SIGKILL)
        }
        daemons.removeAll()
        for _ in 0..<50 {
            let left = agentProcesses()
            if left.isEmpty { break }
            for pid in left { _ = Processes.signal(pid, SIGKILL) }
            Clock.sleep(milliseconds: 10)
        }
        if ProcessEnvironment.snapshot()["SWARM_TEST_KEEP"] == nil { try? FileSystem.removeTree(root) }
    }
}

/// Runs `body` with a fresh workspace (in `folder`, when given) and cleans it up after,
/// whatever happens.
func withWorkspace<T>(
    config: [String: String] = [:], files: [String: String] = [:], folder: String? = nil,
    _ body: (TestWorkspace) async throws -> T
) async throws -> T {
    let workspace = try await TestWorkspace.make(config: config, files: files, folder: folder)
    do {
        let result = try await body(workspace)
        workspace.cleanup()
        return result
    } catch {
        Issue.record("\(workspace.diagnostics())")
        workspace.cleanup()
        throw error
    }
}

extension String {
    func trimmingSpaces() -> Substring {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        return s
    }
}
