import FoundationEssentials
@preconcurrency import Glibc
import SwarmSystem
import Testing

// Messages and resume with the real Claude Code CLI inside `swarm run`, the unchanged
// claude-worker template (but for a short backoff where a retry is waited for), and the
// scripted fake API on 127.0.0.1 (see ClaudeAgentTests.swift for the rig).

@Suite(
    "Real Claude Code agents steered by messages and resumed", .serialized, .timeLimit(.minutes(2)),
    .enabled(
        if: ClaudeRig.shouldRun,
        Comment(rawValue: "needs Claude Code \(ClaudeRig.cliVersion) and python3 (\(ClaudeRig.claude.why))")))
struct ClaudeSteerTests {
    /// Polls `condition` every 20 ms for up to `seconds`.
    static func waitFor(_ seconds: Double = 60, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        while Clock.monotonicNanoseconds() < deadline {
            if try await condition() { return true }
            await claudePause(20)
        }
        return false
    }

    static func wallSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// The claude-worker template with `backoff` instead of its own, and without `resume:`
    /// when `resume` is false.
    static func workerTemplate(_ swarm: ClaudeSwarm, name: String, backoff: String, resume: Bool) throws {
        let text = try #require(swarm.text("templates/claude-worker.md"))
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines = lines.map { $0.hasPrefix("backoff:") ? "backoff: \(backoff)" : $0 }
        if !resume { lines.removeAll { $0.hasPrefix("resume:") } }
        try FileSystem.writeAtomically(
            swarm.root + "/templates/\(name).md", Array(lines.joined(separator: "\n").utf8))
    }

    @Test("a message sent while a Claude Code worker runs reaches the model after its next tool call")
    func messageReachesTheModelAfterAToolCall() async throws {
        try ClaudeRig.requireTools()
        try await withClaudeSwarm { swarm in
            let model = try await swarm.startModel(
                "model",
                ClaudeScript(rules: [
                    ClaudeRule(
                        match: ["Agent `w1`"],
                        steps: [
                            .bash(
                                "until ls messages/*.md >/dev/null 2>&1; do sleep 0.02; done; echo a message came"
                            ),
                            .bash(
                                #"swarm result --json '{"summary": "heard it", "files": [], "checked": "read the hook context"}'"#
                            ),
                            .text("Done."),
                        ])
                ]))
            try swarm.submit(
                id: "w1", role: "worker", template: "claude-worker", body: "Wait for word from a person.")
            async let run = swarm.runUntilIdle(baseURL: model.baseURL, timeout: 90)
            let running = await Self.waitFor {
                model.requests().contains { $0.position == 0 && $0.answer == "tool_use" }
            }
            #expect(running, "\(swarm.diagnostics())")
            let sent = Self.wallSeconds()
            let say = try await swarm.swarmCommand(["say", "w1", "the secret word is pineapple"])
            #expect(say.status == 0, "\(say)")
            let output = try await run
            #expect(output.status == 0, "\(output)\n\(swarm.diagnostics())")
            #expect(try await swarm.agent("w1")?.state == "done", "\(swarm.diagnostics())")

            let requests = model.requests()
            let next = try #require(requests.first { $0.position == 1 }, "\(requests)")
            let seen = next.sinceLastTurn ?? ""
            #expect(seen.contains("PostToolUse:Bash hook additional context"), "\(seen)")
            #expect(seen.contains("the secret word is pineapple"), "\(seen)")
            #expect(
                requests.filter { ($0.sinceLastTurn ?? "").contains("pineapple") }.count == 1,
                "delivered once")
            if let time = next.time {
                print(
                    "say -> the model saw it (next request after the tool call): \(Int((time - sent) * 1000)) ms"
                )
            }
            let message = try #require(try await swarm.agent("w1")?.messages?.first)
            #expect(
                message.status == "delivered" && message.receipt.hasSuffix("by the PostToolUse hook"),
                "\(message)")
        }
    }

    @Test("a message sent as a Claude Code worker is about to stop sends it back to read it")
    func messageAtStopMakesItContinue() async throws {
        try ClaudeRig.requireTools()
        try await withClaudeSwarm { swarm in
            let folder = swarm.root + "/swarm/agents/w2/messages"
            let model = try await swarm.startModel(
                "model",
                ClaudeScript(rules: [
                    ClaudeRule(
                        match: ["Agent `w2`"],
                        steps: [
                            .bash(
                                #"swarm result --json '{"summary": "first pass", "files": [], "checked": "nothing yet"}'"#
                            ),
                            // the final answer waits until the message is there: the Stop hook comes next
                            .textAfter("Done.", waitFor: folder + "/*.md"),
                            .bash(
                                "echo read the message; swarm progress --outputs 1 'went on after the message'"
                            ),
                            .text("Now really done."),
                        ])
                ]))
            try swarm.submit(id: "w2", role: "worker", template: "claude-worker", body: "Report and stop.")
            async let run = swarm.runUntilIdle(baseURL: model.baseURL, timeout: 90)
            let aboutToStop = await Self.waitFor {
                model.requests().contains { $0.position == 1 && $0.answer == "waiting" }
            }
            #expect(aboutToStop, "\(swarm.diagnostics())")
            let say = try await swarm.swarmCommand(["say", "w2", "before you go: check the spelling"])
            #expect(say.status == 0, "\(say)")
            let output = try await run
            #expect(output.status == 0, "\(output)\n\(swarm.diagnostics())")

            let requests = model.requests()
            let after = try #require(requests.first { $0.position == 2 }, "it stopped: \(requests)")
            #expect(
                after.sinceLastTurn?.contains("Stop hook feedback") == true, "\(after.sinceLastTurn ?? "")")
            #expect(after.sinceLastTurn?.contains("before you go: check the spelling") == true)
            #expect(requests.contains { $0.position == 3 })
            #expect(swarm.text("swarm/agents/w2/progress.md")?.contains("went on after the message") == true)
            let message = try #require(try await swarm.agent("w2")?.messages?.first)
            #expect(
                message.status == "delivered" && message.receipt.hasSuffix("by the Stop hook"), "\(message)")
        }
    }

    /// Two workers run the same script and are killed (kill -9 of the whole process group)
    /// while their second tool call runs: `resumed` (claude-worker's resume:) continues its
    /// session, `fresh` (the same template without resume:) starts over.
    @Test(
        "a Claude Code worker killed mid-run continues its session on retry, for fewer input tokens than a fresh start"
    )
    func killedWorkerResumes() async throws {
        try ClaudeRig.requireTools()
        try await withClaudeSwarm { swarm in
            try Self.workerTemplate(swarm, name: "claude-worker-quick", backoff: "100ms..200ms", resume: true)
            try Self.workerTemplate(
                swarm, name: "claude-worker-fresh", backoff: "100ms..200ms", resume: false)
            func steps(_ id: String) -> [ClaudeStep] {
                [
                    .bash("swarm progress --outputs 1 'read the code'"),
                    .bash(#"touch step-two; if [ "$SWARM_ATTEMPT" = 1 ]; then sleep 600; fi; echo step two"#),
                    .bash(
                        #"swarm result --json '{"summary": "\#(id) finished", "files": [], "checked": "it ran"}'"#
                    ),
                    // a resumed session may hold one more turn than the kill left on screen
                    // (Claude Code adds "No response requested." after an interrupted tool
                    // call, and may have saved the interrupted turn or not): the result again,
                    // if it is missing, then the end
                    .bash(
                        #"[ -f results.json ] || swarm result --json '{"summary": "\#(id) finished", "files": [], "checked": "it ran"}'"#
                    ),
                    .text("Done."),
                ]
            }
            let model = try await swarm.startModel(
                "model",
                ClaudeScript(rules: [
                    ClaudeRule(match: ["Agent `resumed`"], steps: steps("resumed")),
                    ClaudeRule(match: ["Agent `fresh`"], steps: steps("fresh")),
                ]))
            try swarm.submit(
                id: "resumed", role: "worker", template: "claude-worker-quick", body: "Work in two steps.")
            try swarm.submit(
                id: "fresh", role: "worker", template: "claude-worker-fresh", body: "Work in two steps.")
            async let run = swarm.runUntilIdle(baseURL: model.baseURL, timeout: 100)
            for id in ["resumed", "fresh"] {
                let sleeping = await Self.waitFor {
                    FileSystem.exists(swarm.root + "/swarm/agents/\(id)/step-two")
                }
                #expect(sleeping, "\(swarm.diagnostics())")
                let pid = try #require(try await swarm.agent(id)?.pid, "\(id) has no pid")
                #expect(Processes.signalGroup(pid, SIGKILL), "kill -9 of \(id)'s process group")
            }
            let output = try await run
            #expect(output.status == 0, "\(output)\n\(swarm.diagnostics())")
            let agents = try await swarm.agents()
            let resumed = try #require(agents.first { $0.id == "resumed" })
            let fresh = try #require(agents.first { $0.id == "fresh" })
            #expect(resumed.state == "done" && resumed.attempts == 2, "\(swarm.diagnostics())")
            #expect(fresh.state == "done" && fresh.attempts == 2, "\(swarm.diagnostics())")
            #expect(resumed.start == "resume" && fresh.start == "fresh")
            #expect(resumed.session?.isEmpty == false)
            let note = swarm.text("swarm/agents/resumed/resume.md") ?? ""
            #expect(note.contains("interrupted") && note.contains("killed by SIGKILL"), "\(note)")

            // the retried attempts' requests, by rule (0: resumed, 1: fresh)
            let requests = model.requests()
            let retried = Dictionary(grouping: requests.filter { $0.rule != nil }, by: { $0.rule! })
            let resumedRetry = (retried[0] ?? []).dropFirst(2)
            let freshRetry = (retried[1] ?? []).dropFirst(2)
            let resumedFrom = resumedRetry.first?.position ?? 0
            #expect(resumedFrom >= 2, "the fake saw the earlier conversation: \(Array(resumedRetry))")
            #expect(
                resumedRetry.first?.sinceLastTurn?.contains("Resumed: attempt 2 continues your session")
                    == true)
            #expect(freshRetry.map(\.position) == [0, 1, 2, 3, 4], "\(Array(freshRetry))")
            let resumedTokens = resumedRetry.compactMap(\.inputTokens).reduce(0, +)
            let freshTokens = freshRetry.compactMap(\.inputTokens).reduce(0, +)
            print(
                "retry input tokens: resumed \(resumedTokens) in \(resumedRetry.count) requests, fresh \(freshTokens) in \(freshRetry.count)"
            )
            #expect(resumedTokens > 0 && resumedTokens < freshTokens)
        }
    }
}
