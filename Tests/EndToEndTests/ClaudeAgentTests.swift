import FoundationEssentials
@preconcurrency import Glibc
import SwarmSystem
import Testing

// Real agents in the loop: the real Claude Code CLI (the binary that PyPI's claude-agent-sdk
// wheel bundles, fetched by scripts/fetch-claude) runs inside a real `swarm run`, started by
// the unchanged claude-worker and claude-orchestrator templates, and talks to a scripted fake
// of the Anthropic Messages API on 127.0.0.1 (scripts/fake-anthropic.py). The only
// differences from a real run are ANTHROPIC_BASE_URL, a dummy ANTHROPIC_API_KEY, a private
// HOME and CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1: no network beyond loopback, no account.
//
// Without the CLI (scripts/fetch-claude --no-download fails) these tests are skipped, unless
// SWARM_REQUIRE_CLAUDE=1 (CI), where they fail instead.

@Suite(
    "Real Claude Code agents against a scripted fake API", .serialized, .timeLimit(.minutes(2)),
    .enabled(
        if: ClaudeRig.shouldRun,
        Comment(
            rawValue: "needs Claude Code \(ClaudeRig.cliVersion) and python3 (\(ClaudeRig.claude.why)); "
                + "run scripts/fetch-claude, which fetches the claude-agent-sdk wheel from PyPI")
    ))
struct ClaudeAgentTests {
    @Test("a Claude Code worker reports progress and writes its result with the agent-side commands")
    func workerReportsAndResults() async throws {
        try ClaudeRig.requireTools()
        try await withClaudeSwarm { swarm in
            let model = try await swarm.startModel(
                "model",
                ClaudeScript(rules: [
                    ClaudeRule(
                        match: ["Agent `w1`"],
                        steps: [
                            .bash(
                                #"swarm progress --outputs 1 "read the code""#,
                                say: "Reading the brief first."),
                            .bash(
                                #"pwd && printf 'hello from a real agent\n' > notes.txt && swarm progress --outputs 2 "wrote notes.txt""#
                            ),
                            .bash(
                                #"swarm result --json '{"summary": "wrote notes.txt", "files": ["swarm/agents/w1/notes.txt"], "checked": "cat notes.txt"}'"#
                            ),
                            .text("Done: notes.txt written and the result reported."),
                        ])
                ]))
            try swarm.submit(
                id: "w1", role: "worker", template: "claude-worker", body: "Write notes.txt in your folder.")
            let run = try await swarm.runUntilIdle(baseURL: model.baseURL)
            #expect(run.status == 0, "swarm run: \(run)\n\(swarm.diagnostics())")

            let w1 = try #require(try await swarm.agent("w1"), "\(swarm.diagnostics())")
            #expect(w1.state == "done", "\(swarm.diagnostics())")
            #expect(w1.attempts == 1)
            // the shipped template confines it: it reads only the system and the workspace, and
            // connects only to 443 and the fake API's port (its ANTHROPIC_BASE_URL)
            let abi = Landlock.abi()
            if abi >= Landlock.scopeABI { #expect(w1.confinement == "landlock:\(abi) reads net signals") }

            // progress.md: the two lines the model asked for, through the real Bash tool
            let progress = swarm.text("swarm/agents/w1/progress.md") ?? ""
            let lines = progress.split(separator: "\n").map(String.init)
            #expect(lines.count == 2, "progress.md: \(progress)")
            #expect(lines.first?.hasSuffix(" outputs=1 read the code") == true, "progress.md: \(progress)")
            #expect(lines.last?.hasSuffix(" outputs=2 wrote notes.txt") == true, "progress.md: \(progress)")

            // results.json, checked against the template's contract by `swarm result`
            let result = try ClaudeJSON.parse(try #require(swarm.text("swarm/agents/w1/results.json")))
            #expect(result["summary"]?.string == "wrote notes.txt")
            #expect(result["files"] == .array([.string("swarm/agents/w1/notes.txt")]))
            #expect(swarm.text("swarm/agents/w1/notes.txt") == "hello from a real agent\n")

            // the CLI's own record: stream-json whose last line is a successful result
            let events = ClaudeJSON.lines(swarm.text("swarm/agents/w1/stdout.log") ?? "")
            let last = try #require(events.last, "stdout.log is empty")
            #expect(last["type"]?.string == "result")
            #expect(last["is_error"]?.bool == false)
            #expect(last["terminal_reason"]?.string == "completed")
            #expect(last["num_turns"]?.int == 4)

            // the model saw the brief, and each tool result came back from the agent's folder
            let requests = model.requests()
            #expect(requests.map(\.position) == [0, 1, 2, 3], "\(requests)")
            #expect(requests.allSatisfy { $0.rule == 0 && $0.stream == true })
            #expect(requests.first?.promptTail?.contains(swarm.root + "/swarm/agents/w1") == true)
            let pwd = requests.dropFirst(2).first?.lastToolResult?.split(separator: "\n").first.map(
                String.init)
            #expect(pwd == swarm.root + "/swarm/agents/w1", "the Bash tool ran in \(String(describing: pwd))")
            #expect(try await swarm.alerts().filter { $0.kind != "orphaned-result" }.isEmpty)
        }
    }

    @Test("a Claude Code worker edits a file in its worktree and its change arrives on its parent's branch")
    func workerInAWorktree() async throws {
        try ClaudeRig.requireTools()
        try await withClaudeSwarm { swarm in
            let git = Git(environment: SwarmBinary.environment)
            let repo = swarm.root + "/app"
            try FileSystem.makeDirectory(repo)
            try git.check(["init", "-q", "-b", "main"], in: repo)
            try FileSystem.writeAtomically(repo + "/README", Array("base\n".utf8))
            try git.check(["add", "-A"], in: repo)
            try git.check(["commit", "-q", "-m", "base"], in: repo, identity: "t")
            let main = try git.check(["rev-parse", "main"], in: repo)
            let model = try await swarm.startModel(
                "model",
                ClaudeScript(rules: [
                    ClaudeRule(
                        match: ["Agent `w1`"],
                        steps: [
                            .bash(#"pwd && printf 'fixed by claude\n' > fix.txt"#),
                            .bash(
                                #"swarm result --json '{"summary": "adds fix.txt", "files": ["fix.txt"], "checked": "cat fix.txt"}'"#
                            ),
                            .text("Done."),
                        ])
                ]))
            try FileSystem.writeAtomically(
                swarm.root + "/templates/shell-orchestrator.md",
                Array("---\nkind: orchestrator\nslots: 2\ncommand: /bin/sh \"$SWARM_AGENT_DIR/task.md\"\n---\n{{task}}\n".utf8))
            let script = #"""
                if [ -f "$SWARM_AGENT_DIR/children.json" ]; then
                  echo '{"status":"ok","summary":"merged"}' > "$SWARM_RESULTS"; exit 0
                fi
                [ "$SWARM_WAKE" = start ] && swarm spawn --id w1 --role worker --template claude-worker -m "Write fix.txt."
                exit 0
                """#
            try swarm.submit(id: "boss", role: "meta", template: "shell-orchestrator", extra: [("repo", "app")], body: script)
            let run = try await swarm.runUntilIdle(baseURL: model.baseURL)
            #expect(run.status == 0, "swarm run: \(run)\n\(swarm.diagnostics())")
            let w1 = try #require(try await swarm.agent("w1"), "\(swarm.diagnostics())")
            #expect(w1.state == "done", "\(swarm.diagnostics())")
            // the Bash tool ran in the worktree; the change is on the parent's branch, not in main
            let pwd = model.requests().dropFirst().first?.lastToolResult?.split(separator: "\n").first.map(String.init)
            #expect(pwd == swarm.root + "/swarm/agents/w1/worktree", "the Bash tool ran in \(String(describing: pwd))")
            #expect(try git.check(["show", "swarm/boss:fix.txt"], in: repo) == "fixed by claude")
            #expect(try git.check(["log", "-1", "--format=%an", "swarm/w1"], in: repo) == "swarm w1")
            #expect(try git.check(["rev-parse", "main"], in: repo) == main)
            #expect(try git.check(["status", "--porcelain"], in: repo).isEmpty)
        }
    }

    @Test("a Claude Code orchestrator spawns two Claude Code workers and consumes their results")
    func orchestratorSpawnsAndConsumes() async throws {
        try ClaudeRig.requireTools()
        // A real model would write this; it builds the result from children.json.
        let consume = #"""
            python3 -c 'import json; c = json.load(open("children.json"))["children"]; ok = [x for x in c if x["status"] == "fulfilled"]; print(json.dumps({"summary": "; ".join(x["value"]["summary"] for x in ok), "done": [x["id"] for x in ok], "failed": [x["id"] for x in c if x["status"] != "fulfilled"]}))' | swarm result -
            """#
        func worker(_ id: String, _ what: String) -> ClaudeRule {
            ClaudeRule(
                match: ["Agent `\(id)`"],
                steps: [
                    .bash(#"swarm progress --outputs 1 "\#(id): \#(what)""#),
                    .bash(
                        #"swarm result --json '{"summary": "\#(id) did the \#(what)", "files": [], "checked": "read it twice"}'"#
                    ),
                    .text("Done."),
                ])
        }
        try await withClaudeSwarm { swarm in
            let model = try await swarm.startModel(
                "model",
                ClaudeScript(rules: [
                    // the first run: split the goal
                    ClaudeRule(
                        match: ["Agent `boss`", "woken by start"],
                        steps: [
                            .bash(
                                "swarm spawn --role worker --template claude-worker --id w1 -m 'Do the first half.' && swarm spawn --role worker --template claude-worker --id w2 -m 'Do the second half.'",
                                say: "Two independent halves: one worker each."),
                            .bash(
                                "printf 'w1: first half\\nw2: second half\\n' > notes.md && swarm progress --outputs 0 'spawned w1 and w2'"
                            ),
                            .text("Spawned w1 and w2; exiting until they settle."),
                        ]),
                    // every later run (a child settled, a heartbeat): read the fan-in, finish once settled
                    ClaudeRule(
                        match: ["Agent `boss`"],
                        steps: [
                            .bash("cat children.json 2>/dev/null || echo 'no children.json yet'"),
                            .ifResult(
                                contains: #""settled": true"#, then: .bash(consume),
                                else: .text("Children still running; exiting.")),
                            .text("Result written."),
                        ]),
                    worker("w1", "first half"),
                    worker("w2", "second half"),
                ]))
            try swarm.submit(
                id: "boss", role: "root", template: "claude-orchestrator", slots: 2,
                body: "Get both halves done by two workers, then report.")
            let run = try await swarm.runUntilIdle(baseURL: model.baseURL, timeout: 90)
            #expect(run.status == 0, "swarm run: \(run)\n\(swarm.diagnostics())")

            let agents = try await swarm.agents()
            #expect(
                agents.map { "\($0.id)=\($0.state)" }.sorted() == ["boss=done", "w1=done", "w2=done"],
                "\(swarm.diagnostics())")
            for id in ["w1", "w2"] {
                let child = agents.first { $0.id == id }
                #expect(child?.parent == "boss" && child?.depth == 2, "\(id): \(String(describing: child))")
                #expect(FileSystem.exists(swarm.root + "/swarm/agents/boss/children/" + id))
            }
            let fanIn = try ClaudeJSON.parse(try #require(swarm.text("swarm/agents/boss/children.json")))
            #expect(fanIn["settled"]?.bool == true)

            // the orchestrator's result was made from its children's results
            let result = try ClaudeJSON.parse(try #require(swarm.text("swarm/agents/boss/results.json")))
            #expect(result["done"] == .array([.string("w1"), .string("w2")]), "\(result)")
            #expect(result["failed"] == .array([]))
            #expect(result["summary"]?.string == "w1 did the first half; w2 did the second half", "\(result)")
            #expect(swarm.text("swarm/agents/boss/notes.md") == "w1: first half\nw2: second half\n")

            // every run of every agent was a real Claude Code conversation with the fake model
            let requests = model.requests()
            #expect(requests.filter { $0.rule == 0 }.count == 3, "\(requests)")
            #expect(requests.filter { $0.rule == 2 }.count == 3)
            #expect(requests.filter { $0.rule == 3 }.count == 3)
            let consumed = requests.filter { $0.rule == 1 && $0.position == 1 && $0.answer == "tool_use" }
            #expect(consumed.count == 1, "\(requests)")
            #expect(consumed.first?.lastToolResult?.contains("w2 did the second half") == true)
            let bossRuns = ClaudeJSON.lines(swarm.text("swarm/agents/boss/stdout.log") ?? "").filter {
                $0["type"]?.string == "result"
            }
            #expect(bossRuns.count >= 2 && bossRuns.allSatisfy { $0["is_error"]?.bool == false })
        }
    }

    @Test("a worker whose upstream answers 529 is retried on the fallback upstream")
    func overloadedMovesToFallback() async throws {
        try ClaudeRig.requireTools()
        try await withClaudeSwarm { swarm in
            let primary = try await swarm.startModel(
                "primary", ClaudeScript(rules: [ClaudeRule(match: [], steps: [.http(529)])]))
            let fallback = try await swarm.startModel(
                "fallback",
                ClaudeScript(rules: [
                    ClaudeRule(
                        match: ["Agent `w1`"],
                        steps: [
                            .bash(#"swarm progress --outputs 1 "working on $SWARM_UPSTREAM""#),
                            .bash(
                                #"swarm result --json '{"summary": "done on the fallback", "files": [], "checked": "-"}'"#
                            ),
                            .text("Done."),
                        ])
                ]))
            try swarm.setUpstreams([("primary", primary.baseURL), ("fallback", fallback.baseURL)])
            try swarm.submit(id: "w1", role: "worker", template: "claude-worker", body: "Do the work.")
            let run = try await swarm.runUntilIdle(baseURL: nil)
            #expect(run.status == 0, "swarm run: \(run)\n\(swarm.diagnostics())")

            let w1 = try #require(try await swarm.agent("w1"))
            #expect(w1.state == "done", "\(swarm.diagnostics())")
            #expect(w1.attempts == 2)
            #expect(w1.upstream == "fallback")
            #expect(
                swarm.text("swarm/agents/w1/progress.md")?.hasSuffix(" outputs=1 working on fallback\n")
                    == true)
            let meta = try ClaudeJSON.parse(try #require(swarm.text("swarm/agents/w1/meta.json")))
            #expect(meta["lastFailureKind"]?.string == "upstream", "\(meta)")
            #expect(meta["lastFailure"]?.string?.contains("529") == true, "\(meta)")

            // Claude Code itself tried the primary 3 times (two api_retry events), then gave up
            #expect(primary.requests().map(\.answer) == ["error 529", "error 529", "error 529"])
            #expect(fallback.requests().map(\.position) == [0, 1, 2])
            let events = ClaudeJSON.lines(swarm.text("swarm/agents/w1/stdout.log") ?? "")
            let results = events.filter { $0["type"]?.string == "result" }
            #expect(results.map { $0["is_error"]?.bool } == [true, false], "\(results)")
            #expect(results.first?["api_error_status"]?.int == 529)
            #expect(events.filter { $0["subtype"]?.string == "api_retry" }.count == 2)
        }
    }

    @Test("a worker whose upstream answers 401 is not retried, and the upstream is marked out")
    func unauthorizedDisablesUpstream() async throws {
        try ClaudeRig.requireTools()
        try await withClaudeSwarm { swarm in
            // x-should-retry: false, else Claude Code 2.1.330 retries a 401 ten times with
            // backoff (about three minutes) before it gives up.
            let primary = try await swarm.startModel(
                "primary",
                ClaudeScript(rules: [ClaudeRule(match: [], steps: [.http(401, shouldRetry: false)])]))
            let fallback = try await swarm.startModel(
                "fallback", ClaudeScript(rules: [ClaudeRule(match: [], steps: [.text("Never asked.")])]))
            try swarm.setUpstreams([("primary", primary.baseURL), ("fallback", fallback.baseURL)])
            try swarm.submit(id: "w1", role: "worker", template: "claude-worker", body: "Do the work.")
            let run = try await swarm.runUntilIdle(baseURL: nil)
            #expect(run.status == 0, "swarm run: \(run)\n\(swarm.diagnostics())")

            let w1 = try #require(try await swarm.agent("w1"))
            #expect(w1.state == "dead-letter", "\(swarm.diagnostics())")
            #expect(w1.attempts == 1)
            #expect(w1.upstream == "primary")
            #expect(w1.reason?.contains("auth") == true, "\(String(describing: w1.reason))")
            let alerts = try await swarm.alerts()
            let disabled = alerts.filter { $0.kind == "upstream-disabled" }
            #expect(disabled.count == 1, "\(alerts)")
            #expect(disabled.first?.message.contains("upstream primary") == true)
            #expect(alerts.contains { $0.kind == "dead-letter" && $0.agent == "w1" })
            #expect(FileSystem.exists(swarm.root + "/swarm/dead-letter/w1/reason.md"))
            #expect(primary.requests().map(\.answer) == ["error 401"])
            #expect(fallback.requests().isEmpty, "an auth failure must not move to another upstream")

            let last = try #require(ClaudeJSON.lines(swarm.text("swarm/agents/w1/stdout.log") ?? "").last)
            #expect(last["is_error"]?.bool == true)
            #expect(last["api_error_status"]?.int == 401)
        }
    }

    @Test(
        "the recorded failure fixtures still match what Claude Code prints (SWARM_RECORD_CLAUDE_FIXTURES=1 re-records)"
    )
    func failureFixturesStillMatch() async throws {
        try ClaudeRig.requireTools()
        let version = try await ClaudeRig.claudeVersion()
        try #require(
            version.hasPrefix(ClaudeRig.cliVersion + " "),
            "the fixtures are for Claude Code \(ClaudeRig.cliVersion) but scripts/fetch-claude gave \(version): record new ones in Fixtures/claude-<version>/"
        )
        let recording = ProcessEnvironment.snapshot()["SWARM_RECORD_CLAUDE_FIXTURES"] == "1"
        let folder = ClaudeRig.fixturesFolder
        var recorded: [String: ClaudeJSON] = [:]
        if !recording {
            let index = try #require(
                claudeReadText(folder + "/index.json"),
                "no \(folder)/index.json: record the fixtures with SWARM_RECORD_CLAUDE_FIXTURES=1")
            for entry in try ClaudeJSON.parse(index)["cases"]?.arrayValue ?? [] {
                if let name = entry["name"]?.string { recorded[name] = entry }
            }
        }
        let scratch = try ClaudeScratch.make("fixtures")
        defer { scratch.remove() }
        var entries: [ClaudeJSON] = []
        for fixture in ClaudeFixtureCase.all {
            for format in ["json", "stream-json"] {
                let captured = try await fixture.record(format: format, version: version, in: scratch)
                if recording {
                    try FileSystem.makeDirectory(folder)
                    try FileSystem.writeAtomically(
                        folder + "/" + captured.stdoutFile, Array(captured.stdout.utf8))
                } else if let old = recorded[captured.name] {
                    let differences = ClaudeFixtureCase.differences(old, captured.entry)
                    #expect(
                        differences.isEmpty,
                        """
                        Claude Code \(version) no longer prints what Fixtures/claude-\(ClaudeRig.cliVersion)/\(captured.stdoutFile) \
                        recorded for \(captured.name): \(differences.joined(separator: "; ")). If the CLI changed on purpose, \
                        re-record (SWARM_RECORD_CLAUDE_FIXTURES=1 swift test --filter ClaudeAgentTests) and check the \
                        FailureClassifier against the new files. Output now:
                        \(captured.stdout.suffix(3000))
                        """)
                } else {
                    Issue.record(
                        "no recorded fixture \(captured.name) in \(folder)/index.json: re-record with SWARM_RECORD_CLAUDE_FIXTURES=1"
                    )
                }
                entries.append(captured.entry)
            }
        }
        if recording {
            let index = ClaudeJSON.object([
                "cli": .string(version),
                "wheel": .string(
                    "claude-agent-sdk \(ClaudeRig.sdkVersion) (PyPI), claude_agent_sdk/_bundled/claude"),
                "recorded_by": .string(
                    "Tests/EndToEndTests/ClaudeAgentTests.swift (SWARM_RECORD_CLAUDE_FIXTURES=1) against scripts/fake-anthropic.py"
                ),
                "cases": .array(entries),
            ])
            try FileSystem.writeAtomically(folder + "/index.json", Array((index.pretty() + "\n").utf8))
        } else {
            #expect(
                Set(recorded.keys) == Set(entries.compactMap { $0["name"]?.string }),
                "index.json lists other cases than the test records: re-record with SWARM_RECORD_CLAUDE_FIXTURES=1"
            )
        }
    }
}

/// Needs no Claude Code: replays the recorded outputs through the runtime.
@Suite("The runtime classifies every recorded Claude Code failure", .serialized, .timeLimit(.minutes(2)))
struct ClaudeRecordedFailureTests {
    @Test("each fixture, printed by an agent that then exits, lands in the right failure class")
    func recordedFailuresClassify() async throws {
        try #require(
            ClaudeRig.swarm != nil, "no built swarm beside the test executable; build the package first")
        let folder = ClaudeRig.fixturesFolder
        let index = try ClaudeJSON.parse(
            try #require(claudeReadText(folder + "/index.json"), "no \(folder)/index.json"))
        // case -> (lastFailureKind, a word the reason must hold)
        let expected: [String: (kind: String, word: String)] = [
            "ok": ("exit", "without writing results.json"),
            "429-rate-limit": ("upstream", "rate-limited"),
            "529-overloaded": ("upstream", "overloaded"),
            "500-api-error": ("upstream", "overloaded"),
            "401-auth": ("error", "auth"),
            "connection-refused": ("upstream", "connection"),
        ]
        try await withClaudeSwarm { swarm in
            // a copy of the shell template that gives up at once, whatever the class
            let shell = try #require(swarm.text("templates/shell.md"))
            try FileSystem.writeAtomically(
                swarm.root + "/templates/replay.md",
                Array(
                    shell.replacing(
                        "on.exit: retry 1", with: "on.exit: dead-letter\non.upstream: dead-letter"
                    )
                    .replacing("on.killed: retry 1", with: "on.killed: dead-letter").utf8))
            var ids: [String: String] = [:]
            for entry in index["cases"]?.arrayValue ?? [] {
                guard let name = entry["name"]?.string, let file = entry["stdout"]?.string,
                    let exit = entry["exit"]?.int
                else { continue }
                ids[name] = name
                try swarm.submit(
                    id: name, role: "worker", template: "replay",
                    body: "cat '\(folder)/\(file)'\nexit \(exit)")
            }
            try #require(ids.count == 2 * expected.count, "index.json lists \(ids.count) cases")
            let run = try await swarm.runUntilIdle(baseURL: nil)
            #expect(run.status == 0, "swarm run: \(run)")
            for (name, _) in ids.sorted(by: { $0.key < $1.key }) {
                let key =
                    name.hasPrefix("stream-json-") ? String(name.dropFirst(12)) : String(name.dropFirst(5))
                guard let want = expected[key] else {
                    Issue.record("no expectation for fixture \(name)")
                    continue
                }
                let meta = try ClaudeJSON.parse(try #require(swarm.text("swarm/agents/\(name)/meta.json")))
                #expect(meta["state"]?.string == "dead-letter", "\(name): \(meta)")
                #expect(
                    meta["lastFailureKind"]?.string == want.kind, "\(name): \(meta["lastFailure"] ?? .null)")
                #expect(
                    meta["lastFailure"]?.string?.contains(want.word) == true,
                    "\(name): \(meta["lastFailure"] ?? .null) should say \(want.word)")
            }
        }
    }
}

// MARK: - Where things are

enum ClaudeRig {
    static let cliVersion = "2.1.330"
    static let sdkVersion = "0.2.187"

    /// The package root, from this file's path (Tests/EndToEndTests/ClaudeAgentTests.swift).
    static let packageRoot: String = claudeParent(claudeParent(claudeParent(#filePath)))

    static let fixturesFolder = packageRoot + "/Tests/SwarmProtocolTests/Fixtures/claude-\(cliVersion)"

    /// `swarm` beside the test executable (`<scratch>/debug/`), or a few folders up.
    static let swarm: String? = {
        if let explicit = ProcessEnvironment.snapshot()["SWARM_TEST_BINARY"], !explicit.isEmpty {
            return explicit
        }
        guard let executable = FileSystem.readLink("/proc/self/exe") else { return nil }
        var folder = claudeParent(executable)
        for _ in 0..<4 {
            if claudeIsProgram(folder + "/swarm") { return folder + "/swarm" }
            folder = claudeParent(folder)
        }
        return nil
    }()

    static let inheritedPath = ProcessEnvironment.snapshot()["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"

    static let python: String? = {
        for folder in inheritedPath.split(separator: ":") where claudeIsProgram(folder + "/python3") {
            return folder + "/python3"
        }
        return ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: claudeIsProgram)
    }()

    /// The claude binary scripts/fetch-claude already fetched (it never downloads here), or why not.
    static let claude: (path: String?, why: String) = {
        guard let python else { return (nil, "no python3 on PATH") }
        let out = "/tmp/swarm-claude-fetch-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        defer {
            try? FileSystem.remove(out + ".out")
            try? FileSystem.remove(out + ".err")
        }
        guard
            let pid = try? Spawner.spawn(
                SpawnRequest(
                    executable: python, arguments: [packageRoot + "/scripts/fetch-claude", "--no-download"],
                    environment: ["PATH=" + inheritedPath, "HOME=/tmp", "LANG=C.UTF-8"],
                    stdoutPath: out + ".out", stderrPath: out + ".err"))
        else { return (nil, "could not start scripts/fetch-claude") }
        let deadline = Clock.monotonicNanoseconds() + 120_000_000_000
        var exit: SwarmSystem.ExitStatus?
        while exit == nil && Clock.monotonicNanoseconds() < deadline {
            exit = Processes.reap(pid)
            if exit == nil { Clock.sleep(milliseconds: 10) }
        }
        if exit == nil {
            _ = Processes.signalGroup(pid, SIGKILL)
            _ = Processes.reap(pid)
        }
        let path = (claudeReadText(out + ".out") ?? "").split(separator: "\n").first.map(String.init) ?? ""
        if exit == .exited(0), claudeIsProgram(path) { return (path, "") }
        let why = (claudeReadText(out + ".err") ?? "").split(separator: "\n").last.map(String.init)
        return (nil, why ?? "scripts/fetch-claude --no-download failed")
    }()

    /// CI sets SWARM_REQUIRE_CLAUDE=1 after running scripts/fetch-claude: a missing CLI fails there.
    static var required: Bool { ProcessEnvironment.snapshot()["SWARM_REQUIRE_CLAUDE"] == "1" }

    static var shouldRun: Bool { required || (claude.path != nil && python != nil) }

    /// Fails the test when a tool is missing (reached only when the CLI is required).
    static func requireTools() throws {
        try #require(claude.path != nil, "Claude Code \(cliVersion) is required but missing: \(claude.why)")
        try #require(python != nil, "python3 is required for scripts/fake-anthropic.py")
        try #require(swarm != nil, "no built swarm beside the test executable; build the package first")
    }

    static func claudeVersion() async throws -> String {
        let scratch = try ClaudeScratch.make("version")
        defer { scratch.remove() }
        let output = try await claudeRun(
            claude.path!, ["--version"], environment: ["PATH=/usr/bin:/bin", "HOME=" + scratch.path],
            directory: scratch.path)
        return output.stdout.split(separator: "\n").first.map(String.init) ?? ""
    }
}

// MARK: - Small helpers (file-private)

func claudeParent(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
    return String(path[..<slash])
}

func claudeIsProgram(_ path: String) -> Bool {
    FileSystem.statusFollowing(path)?.kind == .regular && access(path, X_OK) == 0
}

func claudeReadText(_ path: String) -> String? {
    (try? FileSystem.readFile(path, limit: 64 << 20)).map { String(decoding: $0, as: UTF8.self) }
}

func claudePause(_ milliseconds: Int) async {
    try? await Task.sleep(for: .milliseconds(milliseconds))
}

/// Runs a program to its end with posix_spawn (killing its process group after `timeout`).
func claudeRun(
    _ executable: String, _ arguments: [String], environment: [String], directory: String? = nil,
    stdin: String = "/dev/null", timeout: Double = 60
) async throws -> CommandOutput {
    try await Run.command(
        executable, arguments, environment: environment, directory: directory, stdin: stdin, timeout: timeout)
}

/// A temp folder of the test's own.
struct ClaudeScratch {
    let path: String

    static func make(_ label: String) throws -> ClaudeScratch {
        let path = "/tmp/swarm-claude-\(label)-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        try FileSystem.makeDirectory(path)
        return ClaudeScratch(path: path)
    }

    func remove() {
        if ProcessEnvironment.snapshot()["SWARM_TEST_KEEP"] == nil { try? FileSystem.removeTree(path) }
    }
}

// MARK: - Any JSON

indirect enum ClaudeJSON: Codable, Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([ClaudeJSON])
    case object([String: ClaudeJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ClaudeJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ClaudeJSON].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    static func parse(_ text: String) throws -> ClaudeJSON {
        try JSONDecoder().decode(ClaudeJSON.self, from: Data(text.utf8))
    }

    /// Every line of `text` that is a JSON object (stream-json, JSON lines).
    static func lines(_ text: String) -> [ClaudeJSON] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{"), let value = try? parse(String(line)), case .object = value else {
                return nil
            }
            return value
        }
    }

    subscript(key: String) -> ClaudeJSON? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var int: Int? {
        if case .number(let value) = self, value == value.rounded() { return Int(value) }
        return nil
    }

    var arrayValue: [ClaudeJSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    var keys: [String] {
        if case .object(let fields) = self { return fields.keys.sorted() }
        return []
    }

    func pretty() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    var description: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }
}

// MARK: - The fake model's script

struct ClaudeScript: Encodable {
    var rules: [ClaudeRule]
}

struct ClaudeRule: Encodable {
    var match: [String]
    var steps: [ClaudeStep]
}

struct ClaudeKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// One scripted answer of scripts/fake-anthropic.py (see the top of that file).
indirect enum ClaudeStep: Encodable, Sendable {
    /// A Bash tool call, with an optional text block before it.
    case bash(String, say: String? = nil)
    /// A plain answer that ends the turn.
    case text(String)
    /// A plain answer given only once a file matches `waitFor` (a glob); the request is
    /// logged as `waiting` at once.
    case textAfter(String, waitFor: String)
    /// An HTTP error with the API's error body; `times` nil: every request at this point.
    case http(Int, times: Int? = nil, retryAfter: String? = nil, shouldRetry: Bool? = nil)
    /// Chooses by the last tool result in the conversation.
    case ifResult(contains: String, then: ClaudeStep, else: ClaudeStep)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: ClaudeKey.self)
        switch self {
        case .bash(let command, let say):
            try container.encode(command, forKey: ClaudeKey("bash"))
            if let say { try container.encode(say, forKey: ClaudeKey("text")) }
        case .text(let text):
            try container.encode(text, forKey: ClaudeKey("text"))
        case .textAfter(let text, let pattern):
            try container.encode(text, forKey: ClaudeKey("text"))
            try container.encode(pattern, forKey: ClaudeKey("wait_for"))
        case .http(let status, let times, let retryAfter, let shouldRetry):
            try container.encode(status, forKey: ClaudeKey("status"))
            if let times { try container.encode(times, forKey: ClaudeKey("times")) }
            if let retryAfter { try container.encode(retryAfter, forKey: ClaudeKey("retry_after")) }
            if let shouldRetry { try container.encode(shouldRetry, forKey: ClaudeKey("should_retry")) }
        case .ifResult(let text, let then, let otherwise):
            try container.encode(text, forKey: ClaudeKey("if_result_contains"))
            try container.encode(then, forKey: ClaudeKey("then"))
            try container.encode(otherwise, forKey: ClaudeKey("else"))
        }
    }

    var json: ClaudeJSON {
        let data = (try? JSONEncoder().encode(self)) ?? Data("null".utf8)
        return (try? JSONDecoder().decode(ClaudeJSON.self, from: data)) ?? .null
    }
}

/// One line of the fake model's --log.
struct ClaudeFakeRequest: Decodable, Sendable, CustomStringConvertible {
    var path: String?
    var rule: Int?
    var position: Int?
    var answer: String?
    var stream: Bool?
    var promptTail: String?
    var lastToolResult: String?
    /// What the conversation gained since its last assistant turn (hook context included).
    var sinceLastTurn: String?
    /// The request's input tokens as the fake counts them.
    var inputTokens: Int?
    /// When the fake logged it (seconds since the Unix epoch).
    var time: Double?

    enum CodingKeys: String, CodingKey {
        case path, rule, position, answer, stream, time
        case promptTail = "prompt_tail"
        case lastToolResult = "last_tool_result"
        case sinceLastTurn = "since_last_turn"
        case inputTokens = "input_tokens"
    }

    var description: String {
        "\(rule.map(String.init) ?? "-")@\(position.map(String.init) ?? "-"):\(answer ?? "?")"
    }
}

/// scripts/fake-anthropic.py running on 127.0.0.1 with one script.
final class ClaudeFakeModel: @unchecked Sendable {
    let pid: Int32
    let port: Int
    let log: String
    private var ended = false

    private init(pid: Int32, port: Int, log: String) {
        self.pid = pid
        self.port = port
        self.log = log
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    static func start(_ script: ClaudeScript, folder: String, name: String) async throws -> ClaudeFakeModel {
        let python = try #require(ClaudeRig.python)
        let scriptPath = folder + "/\(name).script.json"
        let portFile = folder + "/\(name).port"
        let log = folder + "/\(name).requests.jsonl"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileSystem.writeAtomically(scriptPath, Array(try encoder.encode(script)))
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: python,
                arguments: [
                    ClaudeRig.packageRoot + "/scripts/fake-anthropic.py", "--script", scriptPath,
                    "--port-file", portFile,
                    "--log", log, "--lifetime", "180",
                ],
                environment: ["PATH=" + ClaudeRig.inheritedPath, "HOME=" + folder, "LANG=C.UTF-8"],
                workingDirectory: folder, stdoutPath: folder + "/\(name).out",
                stderrPath: folder + "/\(name).err"))
        let deadline = Clock.monotonicNanoseconds() + 20_000_000_000
        while Clock.monotonicNanoseconds() < deadline {
            if let text = claudeReadText(portFile), let port = Int(String(text.filter(\.isNumber))), port > 0
            {
                return ClaudeFakeModel(pid: pid, port: port, log: log)
            }
            if let exit = Processes.reap(pid) {
                throw ClaudeFakeFailed(
                    message:
                        "fake-anthropic.py ended (\(exit)): \(claudeReadText(folder + "/\(name).err") ?? "")")
            }
            await claudePause(10)
        }
        _ = Processes.signal(pid, SIGKILL)
        _ = await Run.waitForExit(pid, timeout: 5)
        throw ClaudeFakeFailed(message: "fake-anthropic.py wrote no port within 20 s")
    }

    func requests() -> [ClaudeFakeRequest] {
        (claudeReadText(log) ?? "").split(separator: "\n").compactMap {
            try? JSONDecoder().decode(ClaudeFakeRequest.self, from: Data($0.utf8))
        }.filter { $0.path?.hasSuffix("/v1/messages") == true }
    }

    func stop() async {
        guard !ended else { return }
        _ = Processes.signal(pid, SIGTERM)
        if await Run.waitForExit(pid, timeout: 5) == nil {
            _ = Processes.signal(pid, SIGKILL)
            _ = await Run.waitForExit(pid, timeout: 5)
        }
        ended = true
    }

    deinit {
        guard !ended else { return }
        _ = Processes.signal(pid, SIGKILL)
        var tries = 0
        while Processes.reap(pid) == nil && tries < 500 {
            Clock.sleep(milliseconds: 2)
            tries += 1
        }
    }
}

struct ClaudeFakeFailed: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

// MARK: - A workspace with real agents

struct ClaudeAgentStatus: Decodable, Sendable {
    var id: String
    var parent: String?
    var state: String
    var depth: Int?
    var attempts: Int
    var upstream: String?
    var reason: String?
    var pid: Int32?
    var start: String?
    var session: String?
    var messages: [MessageLine]?
    var confinement: String?
}

struct ClaudeStatusDocument: Decodable {
    var agents: [ClaudeAgentStatus]
}

struct ClaudeAlert: Decodable, Sendable {
    var kind: String
    var agent: String?
    var message: String
}

struct ClaudeAlertsDocument: Decodable {
    var alerts: [ClaudeAlert]
}

/// A `swarm init` workspace in a temp folder, a private HOME for Claude Code, and the fake
/// models it talks to. `cleanup()` kills what is left and removes the folder.
final class ClaudeSwarm: @unchecked Sendable {
    let base: ClaudeScratch
    var root: String { base.path + "/ws" }
    var home: String { base.path + "/home" }
    private var models: [(name: String, model: ClaudeFakeModel)] = []
    private var runs: [CommandOutput] = []

    private init(base: ClaudeScratch) {
        self.base = base
    }

    static func make() async throws -> ClaudeSwarm {
        let swarm = ClaudeSwarm(base: try ClaudeScratch.make("e2e"))
        try FileSystem.makeDirectory(swarm.home)
        let output = try await swarm.swarmCommand(["init", swarm.root], rooted: false)
        try #require(output.status == 0, "swarm init: \(output)")
        return swarm
    }

    func startModel(_ name: String, _ script: ClaudeScript) async throws -> ClaudeFakeModel {
        let model = try await ClaudeFakeModel.start(script, folder: base.path, name: name)
        models.append((name, model))
        return model
    }

    /// The environment of the daemon, as a person would run it: a PATH on which `claude` is
    /// found, an API key, and optionally ANTHROPIC_BASE_URL. Nothing else is inherited.
    func environment(baseURL: String?) -> [String] {
        let claudeFolder = claudeParent(ClaudeRig.claude.path ?? "/nonexistent/claude")
        var environment = [
            "PATH=\(claudeFolder):\(ClaudeRig.inheritedPath)",
            "HOME=" + home,
            "LANG=C.UTF-8",
            "NO_COLOR=1",
            "ANTHROPIC_API_KEY=sk-ant-test-not-a-real-key",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
        ]
        if let baseURL { environment.append("ANTHROPIC_BASE_URL=" + baseURL) }
        return environment
    }

    /// Sets `upstreams` in swarm.json, each pointing ANTHROPIC_BASE_URL at one URL.
    func setUpstreams(_ upstreams: [(name: String, url: String)]) throws {
        let path = root + "/swarm/swarm.json"
        let text = try #require(claudeReadText(path))
        let list = upstreams.map { #"{"name": "\#($0.name)", "env": {"ANTHROPIC_BASE_URL": "\#($0.url)"}}"# }
        let replaced = text.replacing(
            #""upstreams": []"#, with: "\"upstreams\": [\n    " + list.joined(separator: ",\n    ") + "\n  ]")
        try #require(replaced != text, "swarm.json has no empty upstreams list to replace: \(text)")
        try FileSystem.writeAtomically(path, Array(replaced.utf8))
    }

    /// Drops a task into the inbox (written under a temp name, then renamed in).
    func submit(
        id: String, role: String, template: String, slots: Int? = nil, extra: [(String, String)] = [], body: String
    ) throws {
        var text = "---\nrole: \(role)\ntemplate: \(template)\nid: \(id)\n"
        if let slots { text += "slots: \(slots)\n" }
        for (key, value) in extra { text += "\(key): \(value)\n" }
        text += "---\n\(body)\n"
        let temporary = root + "/swarm/inbox/.\(id).md.tmp"
        try FileSystem.writeAtomically(temporary, Array(text.utf8))
        try FileSystem.rename(temporary, to: root + "/swarm/inbox/\(id).md")
    }

    func swarmCommand(
        _ arguments: [String], rooted: Bool = true, baseURL: String? = nil, timeout: Double = 30
    )
        async throws -> CommandOutput
    {
        let swarm = try #require(ClaudeRig.swarm)
        return try await claudeRun(
            swarm, (rooted ? ["--root", root] : []) + arguments, environment: environment(baseURL: baseURL),
            directory: base.path, timeout: timeout)
    }

    /// `swarm run --until-idle --heartbeat 1s` to its end.
    func runUntilIdle(baseURL: String?, timeout: Double = 60) async throws -> CommandOutput {
        let output = try await swarmCommand(
            ["run", "--until-idle", "--heartbeat", "1s"], baseURL: baseURL, timeout: timeout)
        runs.append(output)
        return output
    }

    func agents() async throws -> [ClaudeAgentStatus] {
        let output = try await swarmCommand(["status", "--json"])
        try #require(output.status == 0, "swarm status --json: \(output)")
        return try JSONDecoder().decode(ClaudeStatusDocument.self, from: Data(output.stdout.utf8)).agents
    }

    func agent(_ id: String) async throws -> ClaudeAgentStatus? {
        try await agents().first { $0.id == id }
    }

    func alerts() async throws -> [ClaudeAlert] {
        let output = try await swarmCommand(["alerts", "--json"])
        try #require(output.status == 0, "swarm alerts --json: \(output)")
        return try JSONDecoder().decode(ClaudeAlertsDocument.self, from: Data(output.stdout.utf8)).alerts
    }

    func text(_ relative: String) -> String? { claudeReadText(root + "/" + relative) }

    /// What a failing test prints: the daemon's output, each agent's logs, each model's requests.
    func diagnostics() -> String {
        var out = "workspace \(root)\n"
        for run in runs { out += "--- swarm run\n\(run)\n" }
        let agents = ((try? FileSystem.entries(of: root + "/swarm/agents")) ?? []).map(\.name).sorted()
        for id in agents {
            for file in ["meta.json", "progress.md", "stdout.log", "stderr.log"] {
                if let text = text("swarm/agents/\(id)/\(file)") {
                    out += "--- \(id)/\(file)\n\(text.suffix(2500))\n"
                }
            }
        }
        for (name, model) in models { out += "--- model \(name): \(model.requests())\n" }
        return out
    }

    func cleanup() async {
        for _ in 0..<100 {
            let left = ProcFS.snapshot().filter { $0.state != "Z" }.compactMap { process -> Int32? in
                guard let environment = ProcFS.environment(of: process.pid) else { return nil }
                return environment.contains("SWARM_ROOT=" + root) ? process.pid : nil
            }
            if left.isEmpty { break }
            for pid in left { _ = Processes.signal(pid, SIGKILL) }
            await claudePause(10)
        }
        for (_, model) in models { await model.stop() }
        models.removeAll()
        base.remove()
    }
}

/// Runs `body` with a fresh ClaudeSwarm, printing its diagnostics when `body` throws.
func withClaudeSwarm(_ body: (ClaudeSwarm) async throws -> Void) async throws {
    let swarm = try await ClaudeSwarm.make()
    do {
        try await body(swarm)
        await swarm.cleanup()
    } catch {
        Issue.record("\(swarm.diagnostics())")
        await swarm.cleanup()
        throw error
    }
}

// MARK: - The failure fixtures

/// One failure the CLI is made to meet, recorded in both output formats.
struct ClaudeFixtureCase: Sendable {
    var name: String
    /// The fake's answer; nil: nothing listens (connection refused).
    var answer: ClaudeStep?
    var extraEnvironment: [String] = []
    var note: String

    static let all: [ClaudeFixtureCase] = [
        ClaudeFixtureCase(
            name: "ok", answer: .text("All done."), note: "a plain answer: success, for contrast"),
        ClaudeFixtureCase(
            name: "429-rate-limit", answer: .http(429, retryAfter: "7", shouldRetry: false),
            note: "429 rate_limit_error with retry-after: 7 and x-should-retry: false"),
        ClaudeFixtureCase(
            name: "529-overloaded", answer: .http(529),
            note: "529 overloaded_error on every request; the CLI gives up after 3 tries by itself"),
        ClaudeFixtureCase(
            name: "500-api-error", answer: .http(500, shouldRetry: false),
            note: "500 api_error with x-should-retry: false"),
        ClaudeFixtureCase(
            name: "401-auth", answer: .http(401, shouldRetry: false),
            note: "401 authentication_error with x-should-retry: false"),
        ClaudeFixtureCase(
            name: "connection-refused", answer: nil, extraEnvironment: ["CLAUDE_CODE_MAX_RETRIES=0"],
            note:
                "nothing listens on the port; CLAUDE_CODE_MAX_RETRIES=0, else it retries for about 3 minutes"),
    ]

    /// The flags of the claude-* templates (minus --add-dir), with the given output format.
    static func arguments(format: String) -> [String] {
        ["-p", "--output-format", format] + (format == "stream-json" ? ["--verbose"] : [])
            + ["--permission-mode", "acceptEdits", "--allowedTools", "Bash,Read,Edit,Write,Glob,Grep"]
    }

    struct Captured {
        var name: String
        var stdoutFile: String
        var stdout: String
        var entry: ClaudeJSON
    }

    /// Runs the CLI against the fake (or nothing) and describes what it printed.
    func record(format: String, version: String, in scratch: ClaudeScratch) async throws -> Captured {
        let name = "\(format)-\(name)"
        let folder = scratch.path + "/" + name
        try FileSystem.makeDirectory(folder + "/home")
        try FileSystem.makeDirectory(folder + "/work")
        try FileSystem.writeAtomically(folder + "/prompt.md", Array("Say hello, then stop.\n".utf8))
        var model: ClaudeFakeModel?
        var baseURL = "http://127.0.0.1:1"
        if let answer {
            let started = try await ClaudeFakeModel.start(
                ClaudeScript(rules: [ClaudeRule(match: [], steps: [answer])]), folder: folder, name: "model")
            model = started
            baseURL = started.baseURL
        }
        let arguments = Self.arguments(format: format)
        let output = try await claudeRun(
            ClaudeRig.claude.path!, arguments,
            environment: [
                "PATH=/usr/bin:/bin", "HOME=\(folder)/home", "LANG=C.UTF-8",
                "ANTHROPIC_API_KEY=sk-ant-test-not-a-real-key",
                "ANTHROPIC_BASE_URL=" + baseURL, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
            ] + extraEnvironment,
            directory: folder + "/work", stdin: folder + "/prompt.md", timeout: 90)
        let requests = model?.requests() ?? []
        await model?.stop()

        let events = ClaudeJSON.lines(output.stdout)
        let result = events.last { $0["type"]?.string == "result" } ?? .null
        var fields: [String: ClaudeJSON] = [:]
        for key in [
            "type", "subtype", "is_error", "api_error_status", "api_error_type", "api_error",
            "terminal_reason",
            "stop_reason", "result",
        ] {
            fields[key] = result[key] ?? .null
        }
        // the message names the fake's port, which differs on every run
        if let text = fields["result"]?.string { fields["result"] = .string(Self.withoutPort(text)) }
        var entry: [String: ClaudeJSON] = [
            "name": .string(name),
            "format": .string(format),
            "note": .string(note),
            "argv": .array((["claude"] + arguments + ["< prompt"]).map(ClaudeJSON.string)),
            "environment": .array(
                ([
                    "ANTHROPIC_BASE_URL=http://127.0.0.1:PORT", "ANTHROPIC_API_KEY=(dummy)",
                    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
                ]
                    + extraEnvironment).map(ClaudeJSON.string)),
            "fake_answer": answer?.json ?? .string("nothing listens"),
            "requests": .number(Double(requests.count)),
            "exit": .number(Double(output.status)),
            "stderr": .string(output.stderr),
            "stdout": .string(name + ".stdout"),
            "result": .object(fields),
            "result_keys": .array(result.keys.map(ClaudeJSON.string)),
        ]
        if format == "stream-json" {
            entry["events"] = .array(
                events.map { event in
                    let type = event["type"]?.string ?? "?"
                    return .string(event["subtype"]?.string.map { "\(type)/\($0)" } ?? type)
                })
            // what the CLI says while it retries, and the synthetic assistant message it ends with
            entry["api_retries"] = .array(
                events.filter { $0["subtype"]?.string == "api_retry" }.map { event in
                    .object([
                        "error_status": event["error_status"] ?? .null, "error": event["error"] ?? .null,
                    ])
                })
            entry["api_error_messages"] = .array(
                events.filter {
                    $0["type"]?.string == "assistant" && $0["is_api_error_message"]?.bool == true
                }.map { event in
                    .object([
                        "error": event["error"] ?? .null,
                        "api_error_status": event["api_error_status"] ?? .null,
                        "api_error_type": event["api_error_type"] ?? .null,
                        "model": event["message"]?["model"] ?? .null,
                    ])
                })
        }
        return Captured(
            name: name, stdoutFile: name + ".stdout", stdout: output.stdout, entry: .object(entry))
    }

    /// `127.0.0.1:41234` becomes `127.0.0.1:PORT`.
    static func withoutPort(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let range = rest.firstRange(of: "127.0.0.1:") {
            out += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            let digits = rest.prefix { $0.isNumber }
            if !digits.isEmpty { out += "PORT" }
            rest = rest.dropFirst(digits.count)
        }
        return out + rest
    }

    /// What differs between a recorded entry and a fresh one, in words; `note` and `argv` are
    /// not compared (they describe, and are rewritten on re-recording).
    static func differences(_ old: ClaudeJSON, _ new: ClaudeJSON) -> [String] {
        var out: [String] = []
        for key in [
            "exit", "requests", "stderr", "events", "api_retries", "api_error_messages", "fake_answer",
        ]
        where old[key] != new[key] {
            out.append("\(key) was \(old[key] ?? .null), now \(new[key] ?? .null)")
        }
        let oldKeys = Set(old["result_keys"]?.arrayValue?.compactMap(\.string) ?? [])
        let newKeys = Set(new["result_keys"]?.arrayValue?.compactMap(\.string) ?? [])
        if oldKeys != newKeys {
            out.append(
                "the result object's keys changed: new \(newKeys.subtracting(oldKeys).sorted()), gone \(oldKeys.subtracting(newKeys).sorted())"
            )
        }
        for key in Set((old["result"]?.keys ?? []) + (new["result"]?.keys ?? [])).sorted()
        where old["result"]?[key] != new["result"]?[key] {
            out.append(
                "result.\(key) was \(old["result"]?[key] ?? .null), now \(new["result"]?[key] ?? .null)")
        }
        return out
    }
}
