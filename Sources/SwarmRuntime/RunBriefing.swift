import SwarmCore
import SwarmProtocol
import SwarmSystem

/// What a run is told before it starts, beyond the brief rendered at intake: the messages
/// people sent since the last run, why the attempt before was interrupted when this run
/// continues its session, and, for `messages: hooks` templates, the Claude Code settings that
/// deliver messages during the run.
///
/// Its writes, through the `TreeWriter`, in this order: the note or brief, then the receipts
/// (`NAME.briefed`) of the messages in it, so that a crash in between delivers those messages
/// once more and loses none.
///
/// - A fresh run with unread messages: they are appended to task.md under "Messages from a
///   person", which stays there for every later run (an orchestrator's wake-ups read it
///   again). A brief that the command runs as a shell script (`/bin/sh task.md`, `sh task.md`,
///   `bash task.md`: the `shell` template) gets them as comment lines, so that no text of a
///   message is ever run as a command.
/// - A resumed run: resume.md holds the note (why the last attempt ended, that this run
///   continues it) and the unread messages; the template's `resume:` command reads it.
struct RunBriefing {
    /// How the run begins.
    var start: RunStart

    /// Prepares the run of `record` woken for `wake`. Returns nil when a write did not land
    /// (the tree takes no writes; the start is then held like any other).
    static func prepare(
        _ record: AgentRecord, template: Template, wake: [WakeReason], files: AgentFiles, swarm: String,
        writer: inout TreeWriter, now: Millis
    ) -> RunBriefing? {
        let start = ResumeRule.start(for: record, wake: wake, canResume: template.resume != nil)
        if template.messages == .hooks {
            let command = Shell.quote(swarm) + " messages --hook"
            let settings = ClaudeHook.settings(command: command, timeout: hookTimeout)
            guard writer.replace(files.hookSettings, with: Array(settings.utf8), now: now) else { return nil }
        }
        let mailbox = Mailbox(files)
        let unread = mailbox.unread().map { (name: $0.name, text: $0.text) }
        switch start {
        case .resume(_, let why):
            let note = resumeNote(why: why, attempt: record.attempts, messages: unread)
            guard writer.replace(files.resumeNote, with: Array(note.utf8), now: now) else { return nil }
        case .fresh:
            guard !unread.isEmpty else { return RunBriefing(start: start) }
            // a brief that cannot be read is left alone: the messages wait for the next run
            guard let brief = try? FileSystem.readFile(files.task, limit: 4 << 20) else {
                return RunBriefing(start: start)
            }
            var section = messagesSection(unread, run: record.runs)
            if runsAsScript(template.command) { section = commented(section) }
            let text = String(decoding: brief, as: UTF8.self) + section
            guard writer.replace(files.task, with: Array(text.utf8), now: now) else { return nil }
        }
        let receipt = Receipt(time: now, channel: .brief(run: record.runs))
        for message in unread {
            writer.replace(
                mailbox.folder + "/" + message.name + Message.briefedSuffix, with: Array(receipt.line.utf8),
                now: now)
        }
        return RunBriefing(start: start)
    }

    /// Seconds Claude Code gives one hook call.
    static let hookTimeout = 10

    /// The note a resumed run reads instead of the brief.
    static func resumeNote(why: String, attempt: Int, messages: [(name: String, text: String)]) -> String {
        var text = """
            # Resumed: attempt \(attempt) continues your session

            Your last attempt was interrupted before it finished: \(why).
            This run continues the same conversation; everything above is still yours.
            Check what you had done (your files, progress.md), then go on from there and finish
            as your brief says (`swarm result` at the end).

            """
        if !messages.isEmpty {
            text += "\n## Messages from a person, sent meanwhile\n"
            for message in messages { text += "\n--- message \(message.name)\n\(message.text)\n" }
        }
        return text
    }

    /// True when `command` runs task.md as a shell script (`task.md` or a path ending in it,
    /// quoted or not: `/bin/sh "$SWARM_AGENT_DIR/task.md"`).
    static func runsAsScript(_ command: String) -> Bool {
        let words = command.split(separator: " ").map { $0.filter { $0 != "\"" && $0 != "'" } }
        guard words.count >= 2, let task = words.firstIndex(where: { $0 == "task.md" || $0.hasSuffix("/task.md") }),
            task > 0
        else { return false }
        let shell = words[task - 1].split(separator: "/").last.map(String.init) ?? ""
        return ["sh", "bash", "dash", "zsh"].contains(shell)
    }

    /// `text` with every line turned into a shell comment.
    static func commented(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { "# " + $0 }.joined(
            separator: "\n") + "\n"
    }

    /// The section appended to task.md for the messages a fresh run gets.
    static func messagesSection(_ messages: [(name: String, text: String)], run: Int) -> String {
        var text = "\n## Messages from a person (before run \(run))\n"
        for message in messages { text += "\n--- message \(message.name)\n\(message.text)\n" }
        return text
    }
}
