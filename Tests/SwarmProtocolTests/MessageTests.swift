@preconcurrency import Glibc
import SwarmProtocol
import Testing

/// The bytes of a fixture file under Fixtures/claude-2.1.330/hooks/.
func hookFixture(_ name: String) throws -> [UInt8] {
    let folder = String(#filePath.dropLast("MessageTests.swift".count))
    return try readWholeFile(folder + "Fixtures/claude-2.1.330/hooks/" + name)
}

struct FixtureMissing: Error { var path: String }

/// Message files, receipts, and the Claude Code hook calls of Claude Code 2.1.330.
@Suite struct MessageTests {
    @Test(arguments: [
        ("20261202T070105.123Z-42.md", true), ("note.txt", true), ("turn-left", true),
        (".20261202T070105.123Z-42.md.say", false), ("a.md.delivered", false), ("a.md.briefed", false),
        ("a.md~", false), ("a.md.swp", false), ("a.tmp", false), ("#a.md#", false), ("4913", false),
        ("", false),
    ])
    func namesOfMessages(name: String, isMessage: Bool) {
        #expect(Message.isMessage(name) == isMessage)
    }

    @Test func namesSortInTheOrderSent() {
        let first = Message.name(sentAt: 1_795_000_000_000, tieBreaker: "9")
        let second = Message.name(sentAt: 1_795_000_000_001, tieBreaker: "1")
        let taken = Message.name(sentAt: 1_795_000_000_000, tieBreaker: "9", sequence: 1)
        #expect(first < taken && taken < second && first.hasSuffix("-9-000.md") && !first.contains(":"))
        #expect(Message.isMessage(first))
    }

    @Test func textOfAMessage() {
        #expect(
            Message.text(of: utf8("\u{FEFF}turn left\r\nat the next file\n\n"))
                == .success("turn left\nat the next file"))
    }

    @Test(arguments: [
        ("empty", [UInt8](), "empty"), ("blank", utf8("  \n\t\n"), "empty"),
        ("binary", [0x61, 0x00, 0x62], "NUL"), ("not UTF-8", [0x61, 0xFF, 0x62], "UTF-8"),
        ("huge", [UInt8](repeating: 0x61, count: Message.sizeLimit + 1), "65536"),
    ])
    func messagesThatCannotBeDelivered(name: String, bytes: [UInt8], fragment: String) throws {
        guard case .failure(let problem) = Message.text(of: bytes) else {
            Issue.record("\(name) was accepted")
            return
        }
        #expect(problem.reason.contains(fragment), "\(problem.reason)")
    }

    @Test func receiptsReadBack() {
        for channel in [DeliveryChannel.command, .toolHook, .stopHook, .brief(run: 3)] {
            let receipt = Receipt(time: 1_795_000_000_123, channel: channel)
            #expect(receipt.line.hasPrefix("delivered 20") && receipt.line.hasSuffix("\n"))
            #expect(Receipt.parse(receipt.line) == receipt)
        }
        for bad in [
            "", "delivered", "delivered yesterday by swarm messages", "sent 2026-12-02T07:00:00.000Z by x",
            "delivered 2026-12-02T07:00:00.000Z by carrier pigeon",
        ] {
            #expect(Receipt.parse(bad) == nil, "\(bad)")
        }
        #expect(
            MessageStatus.delivered(Receipt(time: 0, channel: .command)).sentence
                == "delivered 1970-01-01T00:00:00.000Z by swarm messages")
    }

    /// The calls recorded from the real CLI parse as the events they are.
    @Test func recordedHookCallsParse() throws {
        let post = try #require(ClaudeHook.parse(try hookFixture("post-tool-use.stdin.json")))
        #expect(post.event == .postToolUse && post.sessionID?.isEmpty == false && !post.stopHookActive)
        let stop = try #require(ClaudeHook.parse(try hookFixture("stop.stdin.json")))
        #expect(stop.event == .stop && !stop.stopHookActive)
        let again = try #require(ClaudeHook.parse(try hookFixture("stop-active.stdin.json")))
        #expect(again.event == .stop && again.stopHookActive)
    }

    /// Anything else is no call: the hook then prints nothing.
    @Test(arguments: [
        "", "not json", "[]", "{}", #"{"hook_event_name": 3}"#, #"{"hook_event_name": "PreToolUse"}"#,
        #"{"hook_event_name": "SessionStart", "session_id": "x"}"#, "{\"hook_event_name\": \"Stop\"",
    ])
    func malformedHookCalls(input: String) {
        #expect(ClaudeHook.parse(utf8(input)) == nil)
    }

    /// The answers have the shapes the real CLI acted on (see the fixtures' README).
    @Test func hookAnswers() throws {
        let post = try JSON.parse(utf8(ClaudeHook.output(.postToolUse, text: "turn \"left\"\n")))
        #expect(post["hookSpecificOutput"]?["hookEventName"]?.stringValue == "PostToolUse")
        #expect(post["hookSpecificOutput"]?["additionalContext"]?.stringValue == "turn \"left\"\n")
        let stop = try JSON.parse(utf8(ClaudeHook.output(.stop, text: "read it")))
        #expect(stop["decision"]?.stringValue == "block" && stop["reason"]?.stringValue == "read it")
        let settings = try JSON.parse(
            utf8(ClaudeHook.settings(command: "'/bin/swarm' messages --hook", timeout: 10)))
        for event in ["PostToolUse", "Stop"] {
            let hook = settings["hooks"]?[event]?.arrayValue?.first?["hooks"]?.arrayValue?.first
            #expect(hook?["type"]?.stringValue == "command", "\(event)")
            #expect(hook?["command"]?.stringValue == "'/bin/swarm' messages --hook")
            #expect(hook?["timeout"]?.intValue == 10)
        }
        #expect(settings["hooks"]?["PostToolUse"]?.arrayValue?.first?["matcher"]?.stringValue == "*")
    }

    @Test func templateKeys() throws {
        let template = try TemplateParser.parse(
            name: "t",
            bytes: utf8(
                "---\ncommand: claude -p < task.md\nmessages: hooks\nresume: claude -p --resume \"$SWARM_SESSION_ID\" < resume.md\n---\nbrief\n"
            ))
        #expect(template.messages == .hooks)
        #expect(template.resume == "claude -p --resume \"$SWARM_SESSION_ID\" < resume.md")
        #expect(template.hookProblems.map(\.key) == ["command", "resume"])
        let passed = try TemplateParser.parse(
            name: "t",
            bytes: utf8("---\ncommand: claude --settings \"$SWARM_HOOK_SETTINGS\"\nmessages: hooks\n---\n"))
        #expect(passed.hookProblems.isEmpty)
        let plain = try TemplateParser.parse(name: "t", bytes: utf8("---\ncommand: x\n---\n"))
        #expect(plain.messages == .command && plain.resume == nil)
        let bad = utf8("---\ncommand: x\nmessages: pigeon\n---\n")
        let error = failure { () throws(ProtocolError) in try TemplateParser.parse(name: "t", bytes: bad) }
        #expect(error?.line == 3 && error?.description.contains("hooks or command") == true)
    }
}

/// What Claude Code prints when `--resume` names a session it cannot find (its HOME or
/// working directory changed): no upstream failure, so the run fails as `exit` and, having
/// been a resume, the retry starts fresh.
@Suite struct ResumeFailureTests {
    @Test func aMissingSessionIsNoUpstreamFailure() throws {
        let stdout = try hookFixture("resume-missing-session.stdout")
        #expect(String(decoding: stdout, as: UTF8.self).contains("No conversation found with session ID"))
        #expect(FailureClassifier.classify(stdout: stdout, stderr: [], exitCode: 1) == nil)
    }
}
