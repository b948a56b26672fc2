import FoundationEssentials
@preconcurrency import Glibc
import SwarmSystem
import Testing

// `swarm report` end to end: a real run of a three-level tree (a stand-in root orchestrator,
// two shell-scripted meta orchestrators, four workers under each) in which one worker is
// retried, one waits for a person's answer, one dead-letters with a hostile reason, and two
// fail on an upstream whose breaker opens (an incident). The report of the stopped workspace
// is checked as JSON and as HTML, and rendered in headless Chromium when it is installed.

@Suite(.serialized, .timeLimit(.minutes(2)))
struct ReportTests {
    /// The reason the dead-lettered worker gives: markup that must come out escaped.
    static let hostile = #"<script>alert("x")</script> & <img src=x onerror=alert(1)>"#

    /// Each meta orchestrator requests four workers on its first run and writes its result
    /// once children.json says they all settled.
    static let metaScript = """
        if [ -f children.json ]; then swarm result --json '{"summary": "all four settled"}'; exit 0; fi
        [ -f spawned ] && exit 0
        : > spawned
        id=$SWARM_AGENT_ID
        worker() { # NAME TEMPLATE KEYS TEXT
          printf -- '---\\nid: %s-%s\\nrole: worker\\ntemplate: %s\\nsim.steps: 3\\nsim.interval: 30ms\\nsim.tokens-per-step: 50\\n%s---\\n%s\\n' \\
            "$id" "$1" "$2" "$3" "$4" > "tmp/$1.md"
          swarm spawn "tmp/$1.md" > /dev/null
        }
        nl='
        '
        worker ok sim-worker '' 'Work.'
        worker retry sim-worker "sim.fail: exit${nl}sim.fail-times: 1${nl}" 'Fail once, then work.'
        worker api sim-flaky "sim.fail: upstream-529${nl}sim.fail-times: 1${nl}" 'Meet an overloaded API once.'
        if [ "$id" = root-1 ]; then
          worker ask sim-worker "sim.ask: Ship it?${nl}" 'Ask first.'
          exit 0
        fi
        cat > tmp/dead.md <<EOF
        ---
        id: $id-dead
        role: worker
        template: shell
        ---
        swarm result --status error --error '\(hostile)'
        EOF
        swarm spawn tmp/dead.md > /dev/null

        """

    static let metaTemplate = """
        ---
        kind: orchestrator
        command: sh "$SWARM_ROOT/report-meta.sh"
        slots: 4
        ---
        {{task}}

        """

    static let config = [
        "maxSlots": "16",
        "upstreams": #"[{"name": "main"}, {"name": "flaky"}]"#,
        "breakerFailures": "2",
        "breakerOpenFor": #""1s""#,
    ]

    @Test func reportOfARunWithEveryKindOfTrouble() async throws {
        try await withWorkspace(config: Self.config) { ws in
            try ws.write("report-meta.sh", Self.metaScript)
            try ws.write("templates/report-meta.md", Self.metaTemplate)
            let flaky = try #require(ws.text("templates/sim-worker.md"))
                .replacing("kind: worker\n", with: "kind: worker\nupstream: flaky\n")
            try ws.write("templates/sim-flaky.md", flaky)
            try ws.drop(
                "root.md",
                TestWorkspace.task([
                    ("id", "root"), ("role", "root"), ("template", "sim-orchestrator"), ("slots", "12"),
                    ("sim.children", "2"), ("sim.child-template", "report-meta"), ("sim.child-slots", "4"),
                ]))
            let daemon = try await ws.startDaemon(["--until-idle", "--heartbeat", "200ms"])
            #expect(try await ws.waitForState("root-1-ask", ["waiting"], timeout: 30))
            #expect(try await ws.swarm("answer", "root-1-ask", "yes").status == 0)
            let exit = await daemon.waitForExit(timeout: 60)
            #expect(exit == .exited(0), "the run did not end idle: \(daemon.logText)")

            let json = try await ws.swarm("report", "--json")
            try #require(json.status == 0, "swarm report --json: \(json)")
            let report = try decode(ReportDocument.self, json.stdout)
            try checkData(report)

            let page = ws.path("report.html")
            let html = try await ws.swarm("report", "--out", page)
            try #require(html.status == 0, "swarm report: \(html)")
            let text = try #require(ws.text("report.html"))
            checkPage(text, report)
            try await screenshot(page)
        }
    }

    /// While a daemon runs, the report is the run so far: a running agent's span lasts until
    /// now. Without events.jsonl (a tree from before it, or removed) every agent is still
    /// there, drawn from its meta.json.
    @Test func reportWhileTheDaemonRunsAndWithoutHistory() async throws {
        try await withWorkspace { ws in
            try ws.drop("busy.md", TestWorkspace.simTask("busy", [("sim.fail", "hang")]))
            try ws.drop("quick.md", TestWorkspace.simTask("quick"))
            let daemon = try await ws.startDaemon(["--heartbeat", "10s"])
            #expect(try await ws.waitForState("quick", ["done"]))
            #expect(try await ws.waitForState("busy", ["running"]))
            // the history lags the records by at most EventLog.writeInterval (100 ms)
            var sample: ReportDocument?
            let seen = try await eventually(timeout: 10) {
                sample = try decode(ReportDocument.self, try await ws.swarm("report", "--json").stdout)
                return sample?.agents.first { $0.id == "busy" }?.spans.last?.phase == "running"
            }
            let live = try #require(sample)
            #expect(seen && live.live, "\(live.agents.map(\.spans))")
            let busy = try #require(live.agents.first { $0.id == "busy" })
            #expect(busy.state == "running" && busy.spans.last?.phase == "running", "\(busy.spans)")
            #expect(busy.spans.last?.end == live.end, "a running agent's span lasts until now")
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() != nil)

            try FileSystem.remove(ws.path("swarm/events.jsonl"))
            let bare = try await ws.swarm("report", "--json")
            try #require(bare.status == 0, "\(bare)")
            let report = try decode(ReportDocument.self, bare.stdout)
            #expect(!report.live && !report.history_complete)
            #expect(Set(report.agents.map(\.id)) == ["busy", "quick"])
            let quick = try #require(report.agents.first { $0.id == "quick" })
            #expect(quick.spans.map(\.phase).last == "running" && quick.marks.contains { $0.kind == "end" })
            let page = try await ws.swarm("report", "--out", "-")
            #expect(
                page.stdout.contains("does not cover the whole run"), "the page says the history is missing")
        }
    }

    /// The JSON: every agent in tree order at three depths, and each kind of trouble where it
    /// belongs.
    private func checkData(_ report: ReportDocument) throws {
        let ids = report.agents.map(\.id)
        let workers = ["ok", "retry", "api"]
        let expected =
            ["root", "root-1"] + (workers + ["ask"]).map { "root-1-" + $0 } + ["root-2"]
            + (workers + ["dead"]).map { "root-2-" + $0 }
        #expect(Set(ids) == Set(expected), "\(ids)")
        #expect(ids.first == "root" && ids.firstIndex(of: "root-2")! > ids.firstIndex(of: "root-1-ask")!)
        #expect(Set(report.agents.map(\.depth)) == [0, 1, 2])
        #expect(report.history_complete)
        let byID = Dictionary(uniqueKeysWithValues: report.agents.map { ($0.id, $0) })

        let retried = try #require(byID["root-1-retry"])
        #expect(retried.state == "done" && retried.attempts == 2)
        #expect(retried.marks.contains { $0.kind == "attempt" })
        #expect(retried.spans.contains { $0.phase == "backoff" }, "\(retried.spans)")
        #expect(
            report.failures.contains {
                $0.agent == "root-1-retry" && $0.outcome == "retry" && $0.kind == "exit"
            })

        let dead = try #require(byID["root-2-dead"])
        #expect(dead.state == "dead-letter")
        #expect(dead.marks.last { $0.kind == "end" }?.state == "dead-letter")
        #expect(report.failures.contains { $0.agent == "root-2-dead" && $0.outcome == "dead-letter" })
        #expect(report.dead_letters.map(\.agent) == ["root-2-dead"])
        #expect(report.dead_letters.first?.reason.contains(Self.hostile) == true)

        let asked = try #require(byID["root-1-ask"])
        #expect(asked.spans.contains { $0.phase == "waiting" }, "\(asked.spans)")
        #expect(asked.marks.contains { $0.kind == "waiting-for-human" })

        let lane = try #require(report.upstreams.first { $0.domain == "flaky" })
        #expect(lane.breaker.contains { $0.state == "open" }, "\(lane.breaker)")
        #expect(lane.alerts.contains { $0.kind == "upstream-incident" })
        #expect(
            report.failures.filter { $0.kind == "upstream" }.map(\.agent).sorted() == [
                "root-1-api", "root-2-api",
            ])

        let top = try #require(report.slots.first)
        #expect(top.holder == "" && top.total == 16 && top.peak == 13, "the root holds 1 + 12: \(top.peak)")
        for series in report.slots.dropFirst() {
            #expect(series.peak <= series.total, "\(series.holder) over its budget: \(series.peak)")
        }
        #expect(report.slots.first { $0.holder == "root" }?.peak == 10, "two metas of 1 + 4")
        #expect(report.agents.first?.subtree.agents == 11)
        let spent = report.agents.reduce(Int64(0)) { $0 + $1.tokens }
        #expect(spent > 0 && report.agents.first?.subtree.tokens == spent, "tokens per subtree add up")
        let meta = report.agents.filter { $0.id.hasPrefix("root-1") }.reduce(Int64(0)) { $0 + $1.tokens }
        #expect(byID["root-1"]?.subtree.tokens == meta)
    }

    /// The page: self-contained, every agent in it, hostile text escaped.
    private func checkPage(_ text: String, _ report: ReportDocument) {
        #expect(text.hasPrefix("<!DOCTYPE html>"))
        #expect(text.contains("<svg"))
        for agent in report.agents { #expect(text.contains(">\(agent.id) <small"), "\(agent.id) has no row") }
        #expect(!text.contains("<script"), "a script element in the report")
        #expect(!text.contains("<img"), "agent-written markup came through unescaped")
        #expect(text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img"))
        #expect(!text.contains("http://") && !text.contains("https://"), "the report names a network address")
        for section in [
            "Timeline", "Slots in use", "Tokens and cost per subtree", "Upstreams", "Failures",
            "Dead letters",
        ] {
            #expect(text.contains("<h2>\(section)</h2>"), "no \(section) section")
        }
    }

    /// Renders the page in headless Chromium (skipped with a message where it is missing) and
    /// checks that a picture of it came out.
    private func screenshot(_ page: String) async throws {
        guard
            let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileSystem.exists)
        else {
            // CI sets SWARM_REQUIRE_REPORT_TOOLS=1 after scripts/install-report-tools: missing fails there
            #expect(ProcessEnvironment.snapshot()["SWARM_REQUIRE_REPORT_TOOLS"] != "1", "chromium is missing")
            print(
                "ReportTests: chromium is not installed, so the report was not rendered (scripts/install-report-tools installs it)"
            )
            return
        }
        let png = page + ".png"
        var arguments = [
            "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--window-size=1200,1600",
            "--screenshot=\(png)", "file://\(page)",
        ]
        if getuid() == 0 { arguments.insert("--no-sandbox", at: 0) }
        let home = page + ".chromium"
        let environment = SwarmBinary.environment.filter { !$0.hasPrefix("HOME=") } + ["HOME=" + home]
        let output = try await Run.command(chromium, arguments, environment: environment, timeout: 60)
        #expect(output.status == 0, "chromium: \(output)")
        let bytes = try FileSystem.readFile(png, limit: 64 << 20)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "chromium wrote no PNG")
        #expect(bytes.count > 20_000, "the screenshot is nearly empty (\(bytes.count) bytes)")
        // SWARM_REPORT_SCREENSHOT=docs/report.png keeps the picture (the one in the README)
        if let keep = ProcessEnvironment.snapshot()["SWARM_REPORT_SCREENSHOT"], !keep.isEmpty {
            try FileSystem.writeAtomically(keep, bytes)
        }
    }
}

struct ReportDocument: Decodable {
    struct Agent: Decodable {
        var id: String
        var depth: Int
        var state: String
        var attempts: Int
        var tokens: Int64
        var spans: [Span]
        var marks: [Mark]
        var subtree: Subtree
    }
    struct Span: Decodable {
        var phase: String
        var attempt: Int
        var end: String
    }
    struct Mark: Decodable {
        var kind: String
        var text: String
        var state: String?
    }
    struct Subtree: Decodable {
        var agents: Int
        var tokens: Int64
    }
    struct Series: Decodable {
        var holder: String
        var total: Int
        var peak: Int
    }
    struct Lane: Decodable {
        var domain: String
        var breaker: [BreakerSpan]
        var alerts: [Mark]
    }
    struct BreakerSpan: Decodable {
        var state: String
    }
    struct Failure: Decodable {
        var agent: String
        var attempt: Int
        var kind: String
        var reason: String
        var outcome: String
    }
    struct DeadLetter: Decodable {
        var agent: String
        var reason: String
    }
    var agents: [Agent]
    var slots: [Series]
    var upstreams: [Lane]
    var failures: [Failure]
    var dead_letters: [DeadLetter]
    var history_complete: Bool
    var live: Bool
    var end: String
}
