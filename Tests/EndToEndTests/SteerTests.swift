@preconcurrency import Glibc
import SwarmSystem
import Testing

/// Messages from people to running agents (`swarm say`, `swarm messages`, the next brief, an
/// idle orchestrator's wake-up), with the real binary, real shell agents and a real daemon.
@Suite("Steering agents with messages", .serialized, .timeLimit(.minutes(1)))
struct SteerTests {
    static func shellTask(_ id: String, _ script: String) -> String {
        TestWorkspace.task([("role", "worker"), ("template", "shell"), ("id", id)], script)
    }

    /// Nanoseconds on the wall clock, as `date +%s%N` prints them.
    static func wallNanos() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    @Test("a running shell agent gets a message through swarm messages, and its receipt says delivered")
    func aRunningAgentHearsAMessage() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon(["--heartbeat", "1s"])
            // polls every 20 ms; notes when it first printed something
            let script = """
                for i in $(seq 500); do
                  swarm messages >> heard.txt
                  if grep -q "turn left" heard.txt; then date +%s%N > heard-at; break; fi
                  sleep 0.02
                done
                echo '{"status": "ok"}' > results.json
                """
            try ws.drop("l.md", Self.shellTask("listener", script))
            #expect(try await ws.waitForState("listener", ["running"]))
            let sent = Self.wallNanos()
            let say = try await ws.swarm("say", "listener", "turn left at the next file")
            #expect(say.status == 0, "\(say)")
            #expect(say.stdout.contains("listener: queued as messages/"), "\(say)")
            #expect(try await ws.waitForState("listener", ["done"]), "\(ws.diagnostics())")
            let heard = try #require(ws.text("swarm/agents/listener/heard.txt"))
            #expect(
                heard.contains("--- message ") && heard.contains("turn left at the next file"), "\(heard)")
            #expect(heard.components(separatedBy: "turn left").count == 2, "printed once: \(heard)")
            let at = try #require(
                Int64(ws.text("swarm/agents/listener/heard-at")?.split(separator: "\n").first ?? ""))
            print(
                "say -> swarm messages printed it: \((at - sent) / 1_000_000) ms (the agent polls every 20 ms)"
            )
            let listener = try #require(try await ws.agent("listener"))
            let message = try #require(listener.messages?.first)
            #expect(
                message.status == "delivered" && message.receipt.hasSuffix(" by swarm messages"), "\(message)"
            )
            #expect(listener.unread == 0)
            let receipts = ws.entries("swarm/agents/listener/messages").filter { $0.hasSuffix(".delivered") }
            #expect(receipts.count == 1)
            let text = try await ws.swarm("status", "listener")
            #expect(text.stdout.contains("messages:\n  \(message.name)  delivered "), "\(text)")
        }
    }

    @Test("a message left unread when a run fails goes into the next run's brief")
    func unreadMessagesGoIntoTheNextBrief() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon(["--heartbeat", "1s"])
            // attempt 1 waits for a message without reading it, then fails; attempt 2 finds it
            // in its brief (as comment lines: this brief is a script)
            let script = """
                if [ "$SWARM_ATTEMPT" = 1 ]; then
                  until ls messages/*.md >/dev/null 2>&1; do sleep 0.02; done
                  exit 1
                fi
                grep -q '^# use the blue folder' task.md && echo '{"status": "ok"}' > results.json
                """
            try ws.drop("r.md", Self.shellTask("retrier", script))
            #expect(try await ws.waitForState("retrier", ["running"]))
            #expect(try await ws.swarm("say", "retrier", "use the blue folder").status == 0)
            #expect(try await ws.waitForState("retrier", ["done"], timeout: 20), "\(ws.diagnostics())")
            let agent = try #require(try await ws.agent("retrier"))
            #expect(agent.attempts == 2)
            #expect(agent.start == "fresh", "the shell template has no resume: command")
            let receipt = try #require(agent.messages?.first?.receipt)
            #expect(
                receipt.hasPrefix("delivered ") && receipt.hasSuffix(" by the brief of run 2"), "\(receipt)")
            let brief = try #require(ws.text("swarm/agents/retrier/task.md"))
            #expect(
                brief.contains("# ## Messages from a person (before run 2)")
                    && brief.contains("# use the blue folder"), "\(brief)")
        }
    }

    @Test(
        "swarm say refuses unknown and ended agents, empty and huge messages; an unread message of an ended agent is undeliverable"
    )
    func badInputIsRefused() async throws {
        try await withWorkspace { ws in
            let unknown = try await ws.swarm("say", "nobody", "hello")
            #expect(unknown.status == 2 && unknown.stderr.contains("no agent nobody"), "\(unknown)")
            let nobodyAtAll = try await ws.swarm("say", "--all", "hello")
            #expect(nobodyAtAll.status == 2, "\(nobodyAtAll)")
            try await ws.startDaemon(["--heartbeat", "1s"])
            let script = """
                until ls messages/*.md >/dev/null 2>&1; do sleep 0.02; done
                echo '{"status": "ok"}' > results.json
                """
            try ws.drop("d.md", Self.shellTask("deaf", script))
            #expect(try await ws.waitForState("deaf", ["running"]))
            let empty = try await ws.swarm("say", "deaf", "   ")
            #expect(empty.status == 2 && empty.stderr.contains("empty"), "\(empty)")
            let huge = try await ws.swarm("say", "deaf", String(repeating: "x", count: 65 * 1024))
            #expect(huge.status == 2 && huge.stderr.contains("64 KiB"), "\(huge)")
            #expect(
                ws.entries("swarm/agents/deaf/messages").isEmpty, "nothing was written for a refused message")
            #expect(try await ws.swarm("say", "deaf", "you will not read this").status == 0)
            #expect(try await ws.waitForState("deaf", ["done"]))
            let ended = try await ws.swarm("say", "deaf", "too late")
            #expect(ended.status == 2 && ended.stderr.contains("has ended (done)"), "\(ended)")
            let deaf = try #require(try await ws.agent("deaf"))
            #expect(deaf.messages?.map(\.status) == ["undeliverable"])
            #expect(
                deaf.messages?.first?.receipt.contains("the agent ended (done) before reading it") == true)
        }
    }

    @Test("hostile files in messages/ are listed as undeliverable and never block delivery or the daemon")
    func hostileMessageFiles() async throws {
        try await withWorkspace { ws in
            let daemon = try await ws.startDaemon(["--heartbeat", "1s"])
            let script = """
                until [ -f go ]; do sleep 0.02; done
                for i in $(seq 200); do
                  swarm messages >> heard.txt
                  grep -q "the real one" heard.txt && break
                  sleep 0.02
                done
                echo '{"status": "ok"}' > results.json
                """
            try ws.drop("h.md", Self.shellTask("hardy", script))
            #expect(try await ws.waitForState("hardy", ["running"]))
            let box = ws.path("swarm/agents/hardy/messages")
            try FileSystem.makeDirectory(box)
            #expect(mkfifo(box + "/a-fifo.md", 0o600) == 0)
            try FileSystem.symlink(target: "/etc/passwd", at: box + "/b-link.md")
            try FileSystem.makeDirectory(box + "/c-folder.md")
            try ws.write("swarm/agents/hardy/messages/d-huge.md", String(repeating: "y", count: 1 << 20))
            try ws.write("swarm/agents/hardy/messages/e-binary.md", bytes: [0x00, 0xFF, 0x01])
            try ws.write("swarm/agents/hardy/messages/f-good.md", "the real one\n")
            try ws.write("swarm/agents/hardy/go", "")
            #expect(try await ws.waitForState("hardy", ["done"]), "\(ws.diagnostics())")
            let heard = ws.text("swarm/agents/hardy/heard.txt") ?? ""
            #expect(
                heard.contains("the real one") && !heard.contains("root:") && !heard.contains("yyyy"),
                "\(heard)")
            let statuses = try #require(try await ws.agent("hardy")?.messages).map {
                "\($0.name)=\($0.status)"
            }
            #expect(
                statuses == [
                    "a-fifo.md=undeliverable", "b-link.md=undeliverable", "c-folder.md=undeliverable",
                    "d-huge.md=undeliverable", "e-binary.md=undeliverable", "f-good.md=delivered",
                ], "\(statuses)")
            #expect(Processes.isAlive(daemon.pid), "the daemon still runs")
        }
    }

    @Test("swarm say --all and --children-of reach every agent that has not ended")
    func severalAtOnce() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon(["--heartbeat", "1s"])
            let script = """
                for i in $(seq 500); do
                  swarm messages >> heard.txt
                  grep -q "everyone stop" heard.txt && break
                  sleep 0.02
                done
                echo '{"status": "ok"}' > results.json
                """
            for id in ["one", "two"] { try ws.drop("\(id).md", Self.shellTask(id, script)) }
            #expect(try await ws.waitForStates(["one", "two"], ["running"]))
            let parentless = try await ws.swarm("say", "--children-of", "one", "x")
            #expect(parentless.status == 2 && parentless.stderr.contains("no child"), "\(parentless)")
            let all = try await ws.swarm("say", "--all", "everyone", "stop")
            #expect(all.status == 0, "\(all)")
            #expect(try await ws.waitForStates(["one", "two"], ["done"]), "\(ws.diagnostics())")
            for id in ["one", "two"] {
                #expect(try await ws.agent(id)?.messages?.map(\.status) == ["delivered"], "\(id)")
            }
        }
    }

    @Test("an idle orchestrator is woken with message, and reads it in its brief")
    func anIdleOrchestratorIsWoken() async throws {
        let script = """
            echo "$SWARM_WAKE" >> wakes.txt
            if grep -q '^# wrap it up' task.md; then echo '{"status": "ok"}' > results.json; fi
            exit 0
            """
        try await withWorkspace(files: scriptedOrchestrator) { ws in
            try await ws.startDaemon(["--heartbeat", "30s"])
            try dropBoss(ws, script)
            #expect(try await bossIsIdleAfterItsStart(ws), "\(ws.diagnostics())")
            let say = try await ws.swarm("say", "boss", "wrap it up")
            #expect(say.status == 0, "\(say)")
            #expect(try await ws.waitForState("boss", ["done"]), "\(ws.diagnostics())")
            #expect(ws.text("swarm/agents/boss/wakes.txt") == "start\nmessage\n")
            #expect(
                try await ws.agent("boss")?.messages?.first?.receipt.hasSuffix("by the brief of run 2")
                    == true)
        }
    }

    @Test(
        "a message sent while no daemon runs wakes an idle orchestrator once a daemon starts after a kill -9")
    func aMessageOutlivesADaemonCrash() async throws {
        let script = """
            echo "$SWARM_WAKE" >> wakes.txt
            if grep -q '^# carry on' task.md; then echo '{"status": "ok"}' > results.json; fi
            exit 0
            """
        try await withWorkspace(files: scriptedOrchestrator) { ws in
            try await ws.startDaemon(["--heartbeat", "30s"])
            try dropBoss(ws, script)
            #expect(try await bossIsIdleAfterItsStart(ws), "\(ws.diagnostics())")
            await ws.crashDaemons()
            let say = try await ws.swarm("say", "boss", "carry on")
            #expect(say.status == 0, "\(say)")
            #expect(try await ws.agent("boss")?.messages?.first?.status == "pending")
            let top = try await ws.swarm("top")
            #expect(top.stdout.contains("[1 unread]"), "\(top)")
            let unread = try await ws.agent("boss")?.unread
            #expect(unread == 1)
            try await ws.startDaemon(["--heartbeat", "30s"])
            #expect(try await ws.waitForState("boss", ["done"]), "\(ws.diagnostics())")
            #expect(ws.text("swarm/agents/boss/wakes.txt") == "start\nmessage\n")
        }
    }

    @Test("a message an orchestrator's run left unread wakes it again as soon as the run ends")
    func aMessageLeftUnreadInARunWakesTheOrchestrator() async throws {
        let script = """
            echo "$SWARM_WAKE" >> wakes.txt
            if grep -q '^# keep going' task.md; then echo '{"status": "ok"}' > results.json; exit 0; fi
            if [ "$SWARM_WAKE" = start ]; then until ls messages/*.md >/dev/null 2>&1; do sleep 0.02; done; fi
            exit 0
            """
        try await withWorkspace(files: scriptedOrchestrator) { ws in
            try await ws.startDaemon(["--heartbeat", "30s"])
            try dropBoss(ws, script)
            #expect(
                try await eventually(timeout: 15) { try await ws.agent("boss")?.pid != nil },
                "\(ws.diagnostics())")
            #expect(try await ws.swarm("say", "boss", "keep going").status == 0)
            #expect(try await ws.waitForState("boss", ["done"]), "\(ws.diagnostics())")
            #expect(ws.text("swarm/agents/boss/wakes.txt") == "start\nmessage\n")
        }
    }

    @Test(
        "swarm messages --hook answers a malformed call, or one without an agent, with nothing and exit 0 at once"
    )
    func malformedHookCallsNeverBlock() async throws {
        try await withWorkspace { ws in
            let folder = ws.path("swarm/agents/h")
            try ws.write("swarm/agents/h/messages/m.md", "hello\n")
            let agent =
                SwarmBinary.environment + [
                    "SWARM_AGENT_DIR=" + folder, "SWARM_AGENT_ID=h", "SWARM_ROOT=" + ws.root,
                ]
            let calls: [(String, [UInt8])] = [
                ("empty", []), ("garbage", Array("not json at all".utf8)), ("binary", [0xFF, 0x00, 0xFE]),
                ("other event", Array(#"{"hook_event_name": "PreToolUse"}"#.utf8)),
                ("huge", [UInt8](repeating: 0x7B, count: 20 << 20)),
            ]
            for (name, bytes) in calls {
                try ws.write("call-\(name.replacing(" ", with: "-"))", bytes: bytes)
                let output = try await Run.command(
                    SwarmBinary.path, ["messages", "--hook"], environment: agent,
                    stdin: ws.path("call-\(name.replacing(" ", with: "-"))"), timeout: 10)
                #expect(
                    output.status == 0 && output.stdout.isEmpty && output.stderr.isEmpty, "\(name): \(output)"
                )
            }
            try ws.write("call-stop", #"{"hook_event_name": "Stop", "stop_hook_active": false}"#)
            let lost = try await Run.command(
                SwarmBinary.path, ["messages", "--hook"], environment: SwarmBinary.environment,
                stdin: ws.path("call-stop"), timeout: 10)
            #expect(
                lost.status == 0 && lost.stdout.isEmpty && lost.stderr.isEmpty, "no agent variables: \(lost)")
            #expect(!ws.exists("swarm/agents/h/messages/m.md.delivered"), "nothing was handed over")
            let stop = try await Run.command(
                SwarmBinary.path, ["messages", "--hook"], environment: agent, stdin: ws.path("call-stop"),
                timeout: 10)
            #expect(
                stop.status == 0 && stop.stdout.contains(#""decision":"block""#)
                    && stop.stdout.contains("hello"), "\(stop)")
            #expect(
                ws.text("swarm/agents/h/messages/m.md.delivered")?.hasSuffix("by the Stop hook\n") == true)
            let again = try await Run.command(
                SwarmBinary.path, ["messages", "--hook"], environment: agent, stdin: ws.path("call-stop"),
                timeout: 10)
            #expect(again.status == 0 && again.stdout.isEmpty, "a second stop lets it stop: \(again)")
        }
    }

    @Test("a queued shell agent gets a message in its first brief, and swarm messages still prints it")
    func aQueuedAgentGetsItInItsBriefAndFromSwarmMessages() async throws {
        try await withWorkspace(config: ["maxSlots": "3", "reserve": "2"]) { ws in
            try await ws.startDaemon(["--heartbeat", "1s"])
            try ws.drop(
                "b.md",
                Self.shellTask(
                    "blocker",
                    "until [ -f go ]; do sleep 0.02; done\necho '{\"status\": \"ok\"}' > results.json\n"))
            #expect(try await ws.waitForState("blocker", ["running"]))
            let script = """
                for i in $(seq 200); do
                  swarm messages >> heard.txt
                  grep -q "north" heard.txt && break
                  sleep 0.02
                done
                echo '{"status": "ok"}' > results.json
                """
            try ws.drop("q.md", Self.shellTask("later", script))
            #expect(try await ws.waitForState("later", ["queued"]))
            #expect(try await ws.swarm("say", "later", "head north").status == 0)
            #expect(try await ws.agent("later")?.messages?.first?.receipt.contains("next run") == true)
            try ws.write("swarm/agents/blocker/go", "")
            #expect(try await ws.waitForState("later", ["done"]), "\(ws.diagnostics())")
            #expect(ws.text("swarm/agents/later/heard.txt")?.contains("head north") == true)
            #expect(ws.text("swarm/agents/later/task.md")?.contains("# head north") == true)
            let receipt = try #require(try await ws.agent("later")?.messages?.first?.receipt)
            #expect(receipt.hasSuffix("by the brief of run 1"), "the first receipt: \(receipt)")
            #expect(
                ws.exists(
                    "swarm/agents/later/messages/"
                        + (try await ws.agent("later")?.messages?.first?.name ?? "") + ".delivered"))
        }
    }
}

/// A shell orchestrator template whose task text is its script (`/bin/sh task.md`).
private let scriptedOrchestrator = [
    "templates/shell-orchestrator.md":
        "---\nkind: orchestrator\ncommand: /bin/sh task.md\nslots: 1\n---\n{{task}}\n"
]

/// Drops orchestrator `boss` of `scriptedOrchestrator`, running `script`.
private func dropBoss(_ ws: TestWorkspace, _ script: String) throws {
    try ws.drop(
        "boss.md",
        TestWorkspace.task([("role", "meta"), ("template", "shell-orchestrator"), ("id", "boss")], script))
}

/// True once `boss` is idle (running, no process) after a first run woken for `start` only.
private func bossIsIdleAfterItsStart(_ ws: TestWorkspace) async throws -> Bool {
    try await eventually(timeout: 15) {
        let boss = try await ws.agent("boss")
        return boss?.state == "running" && boss?.pid == nil
            && ws.text("swarm/agents/boss/wakes.txt") == "start\n"
    }
}
