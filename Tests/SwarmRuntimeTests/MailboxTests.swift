@preconcurrency import Glibc
import SwarmCore
import SwarmProtocol
import SwarmSystem
import Testing

@testable import SwarmRuntime

/// One agent's messages folder, with real files; the session reader; the run's briefing.
@Suite struct MailboxTests {
    static func record(_ state: AgentState = .running, kind: AgentKind = .worker) -> AgentRecord {
        var r = AgentRecord(
            id: "w", parent: nil, depth: 1, kind: kind, role: "worker", template: "shell", priority: .normal,
            slots: 0, policy: .standard, createdAt: 0)
        r.state = state
        r.active = state == .running
        return r
    }

    @Test func postReadAndMark() throws {
        try withTemporaryFolder { folder in
            let mailbox = Mailbox(AgentFiles(folder))
            let first = try mailbox.post("turn left", now: 1_000, tieBreaker: "1")
            let second = try mailbox.post("then right", now: 1_000, tieBreaker: "1")
            #expect(first != second, "the same time and tie-breaker never replace a message")
            #expect(mailbox.unread().map(\.text) == ["turn left", "then right"])
            try mailbox.markDelivered(first, Receipt(time: 2_000, channel: .command))
            #expect(mailbox.unread().map(\.name) == [second])
            let statuses = mailbox.statuses(for: Self.record())
            #expect(statuses.map(\.status.word) == ["delivered", "pending"])
            #expect(read(mailbox.folder + "/" + first + ".delivered")?.hasPrefix("delivered ") == true)
            #expect(mailbox.pendingCount(for: Self.record()) == 1)
            // the same folder for an agent that ended: what it never read is undeliverable, and says why
            let ended = mailbox.statuses(for: Self.record(.done))
            #expect(ended.map(\.status.word) == ["delivered", "undeliverable"])
            #expect(ended.last?.status.sentence.contains("the agent ended (done)") == true)
        }
    }

    /// Files a person (or anyone) may leave there: each is listed with its problem, none
    /// blocks (a FIFO is never opened for a blocking read) and none is in the way of a good one.
    @Test func hostileFiles() throws {
        try withTemporaryFolder { folder in
            let files = AgentFiles(folder)
            let box = files.messages
            try write(box + "/a-good.md", "hello\n")
            try write(box + "/b-huge.md", String(repeating: "x", count: Message.sizeLimit + 10))
            try FileSystem.writeAtomically(box + "/c-binary.md", [0x61, 0, 0x62])
            try FileSystem.symlink(target: "/etc/passwd", at: box + "/d-link.md")
            #expect(mkfifo(box + "/e-fifo.md", 0o600) == 0)
            try FileSystem.makeDirectory(box + "/f-folder.md")
            try write(box + "/g-empty.md", "")
            try write(box + "/a-good.md.delivered", "garbage receipt")
            let mailbox = Mailbox(files)
            let statuses = mailbox.statuses(for: Self.record())
            #expect(
                statuses.map(\.entry.name) == [
                    "a-good.md", "b-huge.md", "c-binary.md", "d-link.md", "e-fifo.md", "f-folder.md",
                    "g-empty.md",
                ])
            #expect(statuses.first?.status == .pending(note: nil), "an unreadable receipt is no receipt")
            #expect(
                statuses.dropFirst().allSatisfy { $0.status.word == "undeliverable" },
                "\(statuses.map(\.status))")
            #expect(mailbox.unread().map(\.name) == ["a-good.md"])
            #expect(statuses[1].status.sentence.contains("over the limit"))
            #expect(statuses[3].status.sentence.contains("cannot be read"))
        }
    }

    @Test func aMissingFolderHasNoMessages() throws {
        try withTemporaryFolder { folder in
            #expect(Mailbox(AgentFiles(folder + "/nowhere")).entries().isEmpty)
        }
    }

    /// messages/ as a symbolic link to another folder is never read or written through.
    @Test func aLinkedFolderIsNoMailbox() throws {
        try withTemporaryFolder { folder in
            try write(folder + "/elsewhere/secret.md", "not for you\n")
            try FileSystem.makeDirectory(folder + "/agent")
            try FileSystem.symlink(target: folder + "/elsewhere", at: folder + "/agent/messages")
            let mailbox = Mailbox(AgentFiles(folder + "/agent"))
            #expect(mailbox.entries().isEmpty)
            #expect(throws: Errno.self) { try mailbox.post("hello", now: 1, tieBreaker: "1") }
            #expect(FileSystem.exists(folder + "/elsewhere/secret.md"))
            #expect((try? FileSystem.entries(of: folder + "/elsewhere"))?.count == 1)
        }
    }

    /// The init line the real CLI printed (fixture), a result line, and lines that are not.
    @Test func sessionFromOutput() throws {
        let folder = String(#filePath.dropLast("SwarmRuntimeTests/MailboxTests.swift".count))
        let initLine = try #require(
            read(folder + "SwarmProtocolTests/Fixtures/claude-2.1.330/hooks/stream-json-init.stdout"))
        let recorded = try #require(SessionReader.session(inOutput: initLine))
        #expect(initLine.contains("\"session_id\":\"\(recorded)\""))
        let later = initLine + #"{"type":"result","subtype":"success","session_id":"later-1"}"# + "\n"
        #expect(SessionReader.session(inOutput: later) == "later-1")
        #expect(SessionReader.session(inOutput: #"{"type":"assistant","session_id":"x"}"#) == nil)
        #expect(SessionReader.session(inOutput: #"{"type":"result","session_id":"; rm -rf /"}"#) == nil)
        #expect(SessionReader.session(inOutput: "no json here\n") == nil)
    }

    /// A fresh run gets the unread messages appended to task.md; a resumed one a note in
    /// resume.md; both write the runtime's receipts; a hooks template gets its settings.
    @Test func briefing() throws {
        try withTemporaryFolder { folder in
            let files = AgentFiles(folder)
            try write(files.task, "the brief\n")
            let mailbox = Mailbox(files)
            _ = try mailbox.post("use the new API", now: 5_000, tieBreaker: "1")
            var writer = TreeWriter()
            var template = Template(name: "t", command: "run")
            template.messages = .hooks
            template.resume = "run --resume"
            var record = Self.record()
            record.attempts = 1
            record.runs = 1
            let fresh = try #require(
                RunBriefing.prepare(
                    record, template: template, wake: [.start], files: files, swarm: "/bin/swarm",
                    writer: &writer, now: 6_000))
            #expect(fresh.start == .fresh)
            let brief = try #require(read(files.task))
            #expect(
                brief.hasPrefix("the brief\n") && brief.contains("use the new API")
                    && brief.contains("before run 1"))
            #expect(mailbox.unread().isEmpty)
            #expect(
                mailbox.statuses(for: record).first?.status.sentence.contains("by the brief of run 1") == true
            )
            #expect(read(files.hookSettings)?.contains("'/bin/swarm' messages --hook") == true)

            _ = try mailbox.post("and hurry", now: 7_000, tieBreaker: "1")
            record.attempts = 2
            record.runs = 2
            record.session = "s-1"
            record.lastFailureKind = .killed
            record.lastFailure = "killed: no sign of life for 3 heartbeats"
            let resumed = try #require(
                RunBriefing.prepare(
                    record, template: template, wake: [.start], files: files, swarm: "/bin/swarm",
                    writer: &writer, now: 8_000))
            #expect(resumed.start == .resume(session: "s-1", why: "killed: no sign of life for 3 heartbeats"))
            let note = try #require(read(files.resumeNote))
            #expect(
                note.contains("no sign of life") && note.contains("and hurry")
                    && !note.contains("use the new API"))
            #expect(read(files.task) == brief, "a resumed run leaves the brief as it was")
            #expect(mailbox.unread().isEmpty)
        }
    }
}

/// A brief that is a shell script gets its messages as comments, never as commands.
@Suite struct ScriptBriefTests {
    @Test(arguments: [
        ("/bin/sh task.md", true), ("sh task.md", true), ("bash task.md", true),
        ("claude -p < task.md", false), ("cat task.md", false), ("swarm sim", false),
        (#"/bin/sh "$SWARM_AGENT_DIR/task.md""#, true), (#"claude -p < "$SWARM_AGENT_DIR/task.md""#, false),
    ])
    func runsAsScript(command: String, script: Bool) {
        #expect(RunBriefing.runsAsScript(command) == script)
    }

    @Test func messagesInAScriptAreComments() {
        let section = RunBriefing.commented(
            RunBriefing.messagesSection([(name: "m.md", text: "rm -rf /\ntouch pwned")], run: 2))
        for line in section.split(separator: "\n") { #expect(line.hasPrefix("# "), "\(line)") }
        #expect(section.contains("# rm -rf /") && section.hasSuffix("\n"))
    }
}
