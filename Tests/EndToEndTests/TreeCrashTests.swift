@preconcurrency import Glibc
import SwarmSystem
import Testing

/// A small seeded generator (SplitMix64), so that a failing kill schedule can be replayed.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Crash safety of a whole hierarchy: a three-level tree of sim orchestrators and workers
/// runs while the daemon is killed with SIGKILL again and again, and must end as if nothing
/// had happened.
@Suite("A whole tree survives repeated kill -9 of the daemon", .serialized, .timeLimit(.minutes(2)))
struct TreeCrashTests {
    /// Root orchestrators, dropped one after another during the kills.
    static let roots = 3
    /// Children of every orchestrator: 3 middle orchestrators per root, 3 workers per middle.
    static let fanOut = 3
    /// Progress lines (and steps) of every worker.
    static let workerSteps = 6
    /// Daemon kills, and the kill before which each root is dropped.
    static let kills = 20
    static let dropBefore = [0, 7, 14]
    static let daemonArguments = ["--heartbeat", "400ms", "--verbose"]

    /// Every agent id the tree must end with: `tree-R`, `tree-R-M`, `tree-R-M-W`.
    static var expectedIDs: Set<String> {
        var ids: Set<String> = []
        for r in 1...roots {
            ids.insert("tree-\(r)")
            for m in 1...fanOut {
                ids.insert("tree-\(r)-\(m)")
                for w in 1...fanOut { ids.insert("tree-\(r)-\(m)-\(w)") }
            }
        }
        return ids
    }

    /// A root: 9 slots, enough for its 3 middle orchestrators of 2 slots each (3 slots with
    /// themselves), each of which runs 2 of its 3 workers at a time.
    static func rootTask(_ r: Int) -> String {
        TestWorkspace.task(
            [
                ("role", "root"), ("template", "sim-orchestrator"), ("id", "tree-\(r)"), ("slots", "9"),
                ("sim.children", "\(fanOut)"), ("sim.child-template", "sim-orchestrator"),
                ("sim.child-slots", "2"), ("sim.child-children", "\(fanOut)"),
                ("sim.child-steps", "\(workerSteps)"), ("sim.interval", "150ms"),
            ],
            "Root \(r) of the crash tree.")
    }

    /// The pause before each kill, in ms: a short one right after a root's drop (its intake and
    /// its children's), otherwise short or long at random.
    static func schedule(seed: UInt64) -> [Int] {
        var random = SeededRandom(seed: seed)
        return (0..<kills).map { kill in
            if dropBefore.contains(kill) { return Int.random(in: 20...150, using: &random) }
            return Bool.random(using: &random)
                ? Int.random(in: 0...120, using: &random) : Int.random(in: 250...900, using: &random)
        }
    }

    @Test("a tree of 3 roots, 9 orchestrators and 27 workers ends done, each agent once, after 20 kills")
    func treeSurvivesKills() async throws {
        let seed =
            ProcessEnvironment.snapshot()["SWARM_TEST_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
        print("TreeCrashTests: seed \(seed) (set SWARM_TEST_SEED=\(seed) to replay the kill schedule)")
        let gaps = Self.schedule(seed: seed)
        // every root holds itself and its 9 slots at once; the reserve stays free
        let config = ["maxSlots": "\(Self.roots * 10 + 2)", "reserve": "2", "maxDepth": "3"]
        try await withWorkspace(config: config) { ws in
            var daemon = try await ws.startDaemon(Self.daemonArguments)
            var killLog: [String] = ["seed \(seed)"]
            for (kill, gap) in gaps.enumerated() {
                if let r = Self.dropBefore.firstIndex(of: kill) {
                    try ws.drop("tree-\(r + 1).md", Self.rootTask(r + 1))
                }
                await Run.pause(milliseconds: gap)
                let census = Self.census(ws)
                await daemon.crash()
                #expect(daemon.ended == .signaled(SIGKILL))
                killLog.append("kill \(kill + 1) after \(gap) ms (daemon-\(kill + 1).log): \(census)")
                daemon = try await ws.startDaemon(Self.daemonArguments)
            }

            let expected = Self.expectedIDs
            let settled = try await eventually(timeout: 20, every: 200) {
                let agents = try await ws.agents()
                return agents.count == expected.count && agents.allSatisfy { Self.isSettled($0.state) }
            }
            let agents = try await ws.agents()
            var problems: [String] = []
            var suspects: Set<String> = []
            if !settled { problems.append("the tree did not settle within 20 s of the last restart") }
            problems += Self.checkAgents(agents, expected: expected, suspects: &suspects)
            problems += Self.checkProgress(ws, agents, suspects: &suspects)
            problems += Self.checkFanIn(ws, agents, suspects: &suspects)

            daemon.signal(SIGTERM)
            let stopped = await daemon.waitForExit()
            if stopped != .exited(0) {
                problems.append("the last daemon stopped with \(String(describing: stopped))")
            }
            let gone = await eventually(timeout: 5) { ws.agentProcesses().isEmpty }
            if !gone { problems.append("processes of the tree are left: \(ws.liveAgents())") }

            let report = Self.report(ws, agents, killLog: killLog, suspects: suspects)
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))\n\(report)")
        }
    }

    /// True for the states of CLI.md in which an agent has ended for good.
    static func isSettled(_ state: String) -> Bool {
        ["done", "failed", "killed", "dead-letter", "skipped"].contains(state)
    }

    /// The agent count of state.json by state, as the daemon about to be killed last wrote it.
    static func census(_ ws: TestWorkspace) -> String {
        guard let text = ws.text("swarm/state.json"), let state = try? decode(StateDocument.self, text) else {
            return "no state.json"
        }
        var counts: [String: Int] = [:]
        for agent in state.agents { counts[agent.state, default: 0] += 1 }
        let states = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        return "\(state.agents.count) agents: " + states.joined(separator: ", ")
    }

    /// Every expected agent exists once and ended done in its first attempt.
    static func checkAgents(_ agents: [AgentStatus], expected: Set<String>, suspects: inout Set<String>)
        -> [String]
    {
        var problems: [String] = []
        let ids = agents.map(\.id)
        if ids.count != expected.count || Set(ids) != expected {
            problems.append(
                "\(ids.count) agents, expected \(expected.count); "
                    + "missing \(expected.subtracting(ids).sorted()), "
                    + "unexpected \(Set(ids).subtracting(expected).sorted())")
        }
        for agent in agents where agent.state != "done" || agent.attempts != 1 {
            suspects.insert(agent.id)
            problems.append(
                "\(agent.id): \(agent.state) after \(agent.attempts) attempt(s)"
                    + (agent.reason.map { " (\($0))" } ?? ""))
        }
        return problems
    }

    /// One run's worth of progress: a worker's steps, an orchestrator's request and summary.
    static func checkProgress(_ ws: TestWorkspace, _ agents: [AgentStatus], suspects: inout Set<String>)
        -> [String]
    {
        var problems: [String] = []
        for agent in agents {
            let lines = (ws.text("swarm/agents/\(agent.id)/progress.md") ?? "").split(separator: "\n")
            let expected = agent.kind == "orchestrator" ? 2 : workerSteps
            if lines.count != expected {
                suspects.insert(agent.id)
                problems.append("\(agent.id) wrote \(lines.count) progress lines, expected \(expected)")
            }
        }
        return problems
    }

    /// Every orchestrator's children.json lists each of its children (the agents whose parent
    /// it is) as fulfilled, and nothing else.
    static func checkFanIn(_ ws: TestWorkspace, _ agents: [AgentStatus], suspects: inout Set<String>)
        -> [String]
    {
        var problems: [String] = []
        for orchestrator in agents where orchestrator.kind == "orchestrator" {
            let children = Set(agents.filter { $0.parent == orchestrator.id }.map(\.id))
            if children.count != fanOut {
                suspects.insert(orchestrator.id)
                problems.append("\(orchestrator.id) has \(children.count) children: \(children.sorted())")
            }
            guard let text = ws.text("swarm/agents/\(orchestrator.id)/children.json"),
                let fanIn = try? decode(FanIn.self, text)
            else {
                suspects.insert(orchestrator.id)
                problems.append("\(orchestrator.id) has no readable children.json")
                continue
            }
            let fulfilled = fanIn.children.filter { $0.status == "fulfilled" }.map(\.id)
            if !fanIn.settled || fanIn.children.count != children.count || Set(fulfilled) != children {
                suspects.insert(orchestrator.id)
                problems.append(
                    "\(orchestrator.id): children.json (settled \(fanIn.settled)) lists "
                        + "\(fanIn.children.map { "\($0.id) \($0.status)" }) "
                        + "for children \(children.sorted())")
            }
        }
        return problems
    }

    /// What a failure prints: the kills, every agent's state, and for each suspect agent its
    /// meta.json, children.json and the first daemon log lines that name it.
    static func report(_ ws: TestWorkspace, _ agents: [AgentStatus], killLog: [String], suspects: Set<String>)
        -> String
    {
        var out = "--- kills\n" + killLog.joined(separator: "\n") + "\n--- agents\n"
        for agent in agents.sorted(by: { $0.id < $1.id }) {
            out +=
                "\(agent.id) parent \(agent.parent ?? "-") \(agent.state) attempts \(agent.attempts) "
                + "runs \(agent.runs.map(String.init) ?? "?")" + (agent.reason.map { " (\($0))" } ?? "")
                + "\n"
        }
        let logs = ws.entries("").filter { $0.hasPrefix("daemon-") && $0.hasSuffix(".log") }
            .sorted { (Int($0.dropFirst(7).dropLast(4)) ?? 0) < (Int($1.dropFirst(7).dropLast(4)) ?? 0) }
        for id in suspects.sorted() {
            out += "--- \(id)/meta.json\n" + (ws.text("swarm/agents/\(id)/meta.json") ?? "(none)\n")
            if ws.exists("swarm/agents/\(id)/children.json") {
                out +=
                    "--- \(id)/children.json\n" + (ws.text("swarm/agents/\(id)/children.json") ?? "") + "\n"
            }
            out += "--- daemon log lines naming \(id)\n"
            var lines: [String] = []
            for log in logs {
                for line in (ws.text(log) ?? "").split(separator: "\n") where names(String(line), id) {
                    lines.append("\(log): \(line)")
                }
            }
            out += lines.prefix(60).joined(separator: "\n") + "\n"
        }
        return out + ws.diagnostics()
    }

    /// True when `line` names agent `id` itself (not a child, whose id extends it with `-N`).
    static func names(_ line: String, _ id: String) -> Bool {
        line.split { !($0 == "-" || $0.isLetter || $0.isNumber) }.contains { $0 == id }
    }
}
