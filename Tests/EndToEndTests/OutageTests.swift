import FoundationEssentials
@preconcurrency import Glibc
import SwarmSystem
import Testing

// Seeing outages coming, end to end: a real daemon, `swarm sim` workers with `sim.call: api`
// against two scripts/fake-upstream.py ("primary" and "fallback"), and the primary's status
// page served by scripts/fake-statuspage.py from the fixtures of
// Tests/SwarmProtocolTests/Fixtures/status-pages/, all on 127.0.0.1. The page is polled every
// 200 ms (`statusPoll`); the daemon fetches it with curl.
//
// Each test prints one `outage:` line with its figures (calls per upstream as the fakes
// counted them).

@Suite(.serialized, .timeLimit(.minutes(2)))
struct OutageTests {
    /// The page turns major while the primary breaks (529 to everything): the breaker opens
    /// from the page before any agent fails (one upstream-incident naming the incident), the
    /// fleet runs on the fallback and the primary gets no call; the page turns operational
    /// and the primary heals: the next run is the probe, its success closes the breaker.
    /// Typical run: primary 0 calls during the outage, fallback 20; after recovery primary 6.
    @Test func aMajorOutageOnThePageOpensTheBreakerBeforeAnyAgentFails() async throws {
        try await withOutageRig { rig in
            try await rig.ws.startDaemon(["--heartbeat", "500ms"])
            try #require(
                await rig.waitForPage("operational"),
                "the page was never read: \(rig.ws.text("swarm/upstreams.json") ?? "")")
            try rig.primary.setMode("529")
            try rig.setPage("major-outage")
            let opened = await eventually(timeout: 10) { rig.primaryEntry()?.breaker == "open" }
            try #require(opened, "the breaker did not open: \(rig.ws.text("swarm/upstreams.json") ?? "")")
            let incidents = try await rig.ws.alerts("upstream-incident")
            try rig.dropFleet("o", count: 10)
            let agents = try await rig.waitForDone(prefix: "o", count: 10)
            let during = rig.primary.calls()
            let fallback = rig.fallback.calls()

            try rig.primary.setMode("200")
            try rig.setPage("operational")
            let halfOpen = await eventually(timeout: 10) { rig.primaryEntry()?.breaker != "open" }
            try rig.dropFleet("r", count: 3)
            let after = try await rig.waitForDone(prefix: "r", count: 3)
            let closed = await eventually(timeout: 10) { rig.primaryEntry()?.breaker == "closed" }
            let recovered = try await rig.ws.alerts("upstream-recovered")
            print(
                "outage: page major: primary \(during) calls, fallback \(fallback); \(incidents.count) incident; "
                    + "after recovery primary \(rig.primary.calls()) calls, breaker \(rig.primaryEntry()?.breaker ?? "?")"
            )
            #expect(incidents.count == 1, "\(incidents.map(\.message))")
            #expect(incidents.first?.message.contains("Elevated errors on the Claude API") == true)
            #expect(during == 0, "the broken primary got \(during) calls although its page said major")
            #expect(
                agents.allSatisfy { $0.upstream == "fallback" && $0.attempts == 1 }, "\(agents.map(\.line))")
            #expect(fallback == 20)
            #expect(halfOpen && closed, "the breaker did not close after the page recovered")
            #expect(after.contains { $0.upstream == "primary" }, "no run went to the recovered primary")
            #expect(!recovered.isEmpty, "no upstream-recovered alert")
        }
    }

    /// A page that never answers (and one whose port is closed) is unknown: nothing changes,
    /// work runs on the primary as usual, and `swarm upstreams` says why the page is unknown.
    @Test func aPageThatTimesOutChangesNothing() async throws {
        try await withOutageRig(fallbackPage: "http://127.0.0.1:9/api/v2/summary.json") { rig in
            try rig.setPage(text: "hang")
            try await rig.ws.startDaemon(["--heartbeat", "500ms"])
            let unknown = await eventually(timeout: 15) {
                rig.primaryEntry()?.page == "unknown" && rig.entry("fallback")?.page == "unknown"
            }
            try #require(unknown, "\(rig.ws.text("swarm/upstreams.json") ?? "")")
            try rig.dropFleet("t", count: 4)
            let agents = try await rig.waitForDone(prefix: "t", count: 4)
            let table = try await rig.ws.swarm("upstreams")
            let primary = rig.primaryEntry()
            print(
                "outage: page hangs: primary \(rig.primary.calls()) calls, page \(primary?.page ?? "?") "
                    + "(\(primary?.pageDetail ?? "")), fallback page (\(rig.entry("fallback")?.pageDetail ?? ""))"
            )
            #expect(primary?.pageDetail?.contains("no answer within") == true, "\(primary?.pageDetail ?? "")")
            #expect(rig.entry("fallback")?.pageDetail?.contains("curl") == true)
            #expect(primary?.breaker == "closed" && primary?.health == "healthy")
            #expect(agents.allSatisfy { $0.upstream == "primary" }, "\(agents.map(\.line))")
            #expect(rig.primary.calls() == 8)
            #expect(
                table.stdout.contains("unknown at") && table.stdout.contains("no answer within"),
                "\(table.stdout)")
            #expect(try await rig.ws.alerts("upstream-incident").isEmpty)
        }
    }

    /// Background work waits while its upstream's page says major and normal work fails over
    /// to the fallback; `swarm status` says why it waits; once the page recovers it runs, on
    /// the primary. Typical run: normal 4 done on the fallback while background 4 wait; then
    /// all 4 background on the primary (8 calls).
    @Test func backgroundWorkWaitsDuringAnOutageAndStartsAfter() async throws {
        try await withOutageRig { rig in
            try rig.setPage("major-outage")
            try await rig.ws.startDaemon(["--heartbeat", "500ms"])
            try #require(await eventually(timeout: 10) { rig.primaryEntry()?.breaker == "open" })
            try rig.dropFleet("bg", count: 4, extra: [("priority", "background")])
            try rig.dropFleet("n", count: 4)
            let normal = try await rig.waitForDone(prefix: "n", count: 4)
            let waiting = try await rig.statuses(prefix: "bg")
            let table = try await rig.ws.swarm("status")
            let duringPrimary = rig.primary.calls()
            try rig.setPage("operational")
            let background = try await rig.waitForDone(prefix: "bg", count: 4)
            print(
                "outage: background: normal on \(Set(normal.compactMap(\.upstream)).sorted()), background waited "
                    + "\(waiting.filter { $0.state == "queued" }.count)/4 then ran on "
                    + "\(Set(background.compactMap(\.upstream)).sorted()); primary \(rig.primary.calls()) calls"
            )
            #expect(normal.allSatisfy { $0.upstream == "fallback" }, "\(normal.map(\.line))")
            #expect(
                waiting.count == 4 && waiting.allSatisfy { $0.state == "queued" }, "\(waiting.map(\.line))")
            #expect(
                waiting.allSatisfy {
                    $0.waiting?.contains("background work waits while upstream primary is open") == true
                },
                "\(waiting.map { $0.waiting ?? "-" })")
            #expect(table.stdout.contains("background work waits"), "\(table.stdout)")
            #expect(duringPrimary == 0)
            #expect(
                background.allSatisfy { $0.upstream == "primary" && $0.attempts == 1 },
                "\(background.map(\.line))")
        }
    }

    /// A usage limit (Claude Code's `Claude AI usage limit reached|<epoch>`, 3 s ahead) parks
    /// the only upstream until the reset: one usage-limit alert with the time, no attempt
    /// spent, and the task finishes on its first attempt after the reset.
    @Test func aUsageLimitParksTheUpstreamUntilItsReset() async throws {
        let command =
            #"if [ -e limited.once ]; then swarm result --json '{"summary": "after the reset"}'; else touch limited.once; "#
            + #"echo "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,\"api_error_status\":429,"#
            + #"\"result\":\"Claude AI usage limit reached|$(( $(date +%s) + 3 ))\"}"; exit 1; fi"#
        let template = "---\nkind: worker\ncommand: \(command)\non.upstream: retry 0\n---\n{{task}}\n"
        try await withWorkspace(
            config: ["upstreams": #"[{"name": "primary", "env": {"X_SUBSCRIPTION": "one"}}]"#],
            files: ["templates/limited.md": template]
        ) { ws in
            try await ws.startDaemon(["--heartbeat", "500ms"])
            let dropped = Clock.wallMilliseconds()
            try ws.drop(
                "l.md", TestWorkspace.task([("role", "worker"), ("template", "limited"), ("id", "l")]))
            try #require(await ws.waitForAlert("usage-limit", timeout: 15), "no usage-limit alert")
            var parked: UpstreamLine?
            _ = await eventually(timeout: 2) {
                parked = upstreamEntries(ws).first
                return parked?.health == "parked"
            }
            var queued: AgentStatus?
            _ = try await eventually(timeout: 2) {
                queued = try await ws.agent("l")
                return queued?.state == "queued"
            }
            try #require(await ws.waitForState("l", ["done", "failed", "dead-letter"], timeout: 20))
            let finished = Clock.wallMilliseconds()
            let agent = try await ws.agent("l")
            let alerts = try await ws.alerts("usage-limit")
            let recovered = try await ws.alerts("upstream-recovered")
            print(
                "outage: usage limit: parked \(parked?.health ?? "?") until \(parked?.parkedUntil ?? "?"), "
                    + "done after \(finished - dropped) ms, attempts \(agent?.attempts ?? -1), runs \(agent?.runs ?? -1)"
            )
            #expect(
                parked?.health == "parked" && parked?.parkedUntil != nil,
                "\(ws.text("swarm/upstreams.json") ?? "")")
            #expect(queued?.state == "queued" && queued?.attempts == 0, "\(String(describing: queued))")
            #expect(
                agent?.state == "done" && agent?.attempts == 1 && agent?.runs == 2,
                "\(String(describing: agent))")
            #expect(
                alerts.count == 1 && alerts[0].message.contains("parked until"), "\(alerts.map(\.message))")
            #expect(finished - dropped >= 2_000, "it ran again before the reset")
            #expect(!recovered.isEmpty)
        }
    }
}

// MARK: - The rig

/// Two fake upstreams and a fake status page for the primary, in a workspace whose swarm.json
/// routes over them.
fileprivate struct OutageRig {
    let ws: TestWorkspace
    let primary: LoopbackScript
    let fallback: LoopbackScript
    let page: LoopbackScript
    let pageFile: String

    func setPage(_ fixture: String) throws {
        try setPage(text: try #require(Run.text(fixturesFolder + "/summary-\(fixture).json").nonEmpty))
    }

    func setPage(text: String) throws {
        try FileSystem.writeAtomically(pageFile, Array(text.utf8))
    }

    func entry(_ name: String) -> UpstreamLine? { upstreamEntries(ws).first { $0.name == name } }
    func primaryEntry() -> UpstreamLine? { entry("primary") }

    func waitForPage(_ page: String) async -> Bool {
        await eventually(timeout: 15) { primaryEntry()?.page == page }
    }

    /// `count` sim workers `PREFIXn`, each making one API call per step, two steps.
    func dropFleet(_ prefix: String, count: Int, extra: [(String, String)] = []) throws {
        for i in 1...count {
            try ws.drop(
                "\(prefix)\(i).md",
                TestWorkspace.simTask("\(prefix)\(i)", [("sim.call", "api"), ("sim.steps", "2")] + extra))
        }
    }

    func statuses(prefix: String) async throws -> [OutageAgent] {
        let output = try await ws.swarm("status", "--json")
        try #require(output.status == 0, "\(output)")
        return try decode(OutageAgents.self, output.stdout).agents.filter { $0.id.hasPrefix(prefix) }
    }

    /// Waits until the `count` agents `PREFIXn` are done (failing the test otherwise).
    func waitForDone(prefix: String, count: Int) async throws -> [OutageAgent] {
        var agents: [OutageAgent] = []
        let done = try await eventually(timeout: 40, every: 50) {
            agents = try await statuses(prefix: prefix)
            return agents.count == count && agents.allSatisfy { $0.state == "done" }
        }
        try #require(done, "not all done: \(agents.map(\.line)); \(ws.text("swarm/upstreams.json") ?? "")")
        return agents
    }
}

fileprivate let packageRoot: String = {
    var folder = SwarmBinary.parent(#filePath)
    while folder != "/" && !FileSystem.exists(folder + "/Package.swift") {
        folder = SwarmBinary.parent(folder)
    }
    return folder
}()

fileprivate let fixturesFolder = packageRoot + "/Tests/SwarmProtocolTests/Fixtures/status-pages"

/// A rig with the primary's page operational; the fallback's page at `fallbackPage`, if any.
fileprivate func withOutageRig(fallbackPage: String? = nil, _ body: (OutageRig) async throws -> Void)
    async throws
{
    let folder = "/tmp/swarm-outage-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
    defer { try? FileSystem.removeTree(folder) }
    try FileSystem.makeDirectory(folder)
    let pageFile = folder + "/page.json"
    try FileSystem.writeAtomically(
        pageFile, Array(Run.text(fixturesFolder + "/summary-operational.json").utf8))
    let primary = try await LoopbackScript.start(
        "fake-upstream.py", name: "primary", folder: folder, ["--mode", "200"])
    defer { primary.stop() }
    let fallback = try await LoopbackScript.start(
        "fake-upstream.py", name: "fallback", folder: folder, ["--mode", "200"])
    defer { fallback.stop() }
    let page = try await LoopbackScript.start(
        "fake-statuspage.py", name: "page", folder: folder, ["--page-file", pageFile])
    defer { page.stop() }
    let pageURL = "http://127.0.0.1:\(page.port)/api/v2/summary.json"
    let fallbackKeys = fallbackPage.map { #", "statusPage": "\#($0)""# } ?? ""
    let upstreams =
        #"[{"name": "primary", "env": {"ANTHROPIC_BASE_URL": "\#(primary.baseURL)"}, "statusPage": "\#(pageURL)", "#
        + #""statusComponents": ["Claude API (api.anthropic.com)"]}, "#
        + #"{"name": "fallback", "env": {"ANTHROPIC_BASE_URL": "\#(fallback.baseURL)"}\#(fallbackKeys)}]"#
    let config = [
        "upstreams": upstreams, "statusPoll": #""200ms""#, "breakerFailures": "5", "breakerOpenFor": #""1s""#,
        "breakerMaxOpenFor": #""2s""#,
    ]
    try await withWorkspace(config: config) { ws in
        try await body(
            OutageRig(ws: ws, primary: primary, fallback: fallback, page: page, pageFile: pageFile))
    }
}

/// A loopback fake from scripts/ (fake-upstream.py, fake-statuspage.py): started with a port
/// file and a count file in `folder`, killed when the test is done.
fileprivate final class LoopbackScript: @unchecked Sendable {
    let name: String
    let pid: Int32
    let port: Int
    let folder: String
    private var ended = false

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var countFile: String { folder + "/\(name).count" }

    private init(name: String, pid: Int32, port: Int, folder: String) {
        self.name = name
        self.pid = pid
        self.port = port
        self.folder = folder
    }

    static func start(_ script: String, name: String, folder: String, _ arguments: [String]) async throws
        -> LoopbackScript
    {
        let python = try #require(
            ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: SwarmBinary.isProgram)
                ?? Processes.locateProgram(
                    "python3", environment: SwarmBinary.environment, workingDirectory: nil),
            "python3 is required for scripts/\(script)")
        let portFile = folder + "/\(name).port"
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: python,
                arguments: [
                    packageRoot + "/scripts/" + script, "--port-file", portFile, "--count-file",
                    folder + "/\(name).count",
                    "--lifetime", "120",
                ] + arguments
                    + (script == "fake-upstream.py" ? ["--mode-file", folder + "/\(name).mode"] : []),
                environment: ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + folder, "LANG=C.UTF-8"],
                workingDirectory: folder, stdoutPath: folder + "/\(name).out",
                stderrPath: folder + "/\(name).err"))
        let ready = await eventually(timeout: 20, every: 10) {
            Int(Run.text(portFile).filter(\.isNumber)).map { $0 > 0 } ?? false
        }
        guard ready, let port = Int(Run.text(portFile).filter(\.isNumber)) else {
            _ = Processes.signal(pid, SIGKILL)
            _ = await Run.waitForExit(pid, timeout: 5)
            throw OutageFailure("scripts/\(script) wrote no port: \(Run.text(folder + "/\(name).err"))")
        }
        return LoopbackScript(name: name, pid: pid, port: port, folder: folder)
    }

    /// fake-upstream.py: what it answers from its next request on.
    func setMode(_ mode: String) throws {
        try FileSystem.writeAtomically(folder + "/\(name).mode", Array((mode + "\n").utf8))
    }

    /// Requests so far.
    func calls() -> Int {
        Run.text(countFile).split(separator: "\n").first.flatMap { Int($0) } ?? 0
    }

    func stop() {
        guard !ended else { return }
        ended = true
        _ = Processes.signal(pid, SIGKILL)
        var tries = 0
        while Processes.reap(pid) == nil && tries < 2500 {
            Clock.sleep(milliseconds: 2)
            tries += 1
        }
    }

    deinit { stop() }
}

fileprivate struct OutageFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One upstream of upstreams.json.
fileprivate struct UpstreamLine: Decodable {
    var name: String
    var health: String?
    var breaker: String
    var page: String?
    var pageDetail: String?
    var parked: String?
    var parkedUntil: String?
}

fileprivate struct UpstreamLines: Decodable { var upstreams: [UpstreamLine] }

fileprivate func upstreamEntries(_ ws: TestWorkspace) -> [UpstreamLine] {
    ws.text("swarm/upstreams.json").flatMap { try? decode(UpstreamLines.self, $0) }?.upstreams ?? []
}

/// The parts of `swarm status --json` these tests read.
fileprivate struct OutageAgent: Decodable {
    var id: String
    var state: String
    var attempts: Int
    var upstream: String?
    var waiting: String?

    var line: String { "\(id) \(state) on \(upstream ?? "-") after \(attempts)" }
}

fileprivate struct OutageAgents: Decodable { var agents: [OutageAgent] }

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
