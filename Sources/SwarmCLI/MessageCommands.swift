import SwarmCore
import SwarmProtocol
import SwarmRuntime
import SwarmSystem

/// `swarm say [--all | --children-of ID] [ID] TEXT`: a message from a person to running agents.
enum SayCommand {
    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        let everyone = context.has("--all")
        let parent = context.option("--children-of")
        let group = everyone || parent != nil
        if everyone && parent != nil { throw UsageError("give --all or --children-of ID, not both") }
        guard group || context.positionals.count == 2 else {
            throw UsageError("give the agent's ID and the TEXT")
        }
        let text = try messageText(context.positionals.dropFirst(group ? 0 : 1).joined(separator: " "))
        let targets = try recipients(
            workspace, id: group ? nil : context.positionals[0], everyone: everyone, parent: parent)
        let now = Clock.wallMilliseconds()
        let tieBreaker = String(Processes.currentID)
        for record in targets {
            let mailbox = Mailbox(workspace.agentFiles(record.id))
            do {
                let name = try mailbox.post(text, now: now, tieBreaker: tieBreaker)
                Output.print("\(record.id): queued as messages/\(name) (\(record.state.rawValue))")
            } catch {
                throw SwarmError("cannot write a message into \(mailbox.folder): \(error)")
            }
        }
    }

    /// The text to send: the argument, or standard input for `-`; refused when empty, not text
    /// or over the limit.
    private static func messageText(_ argument: String) throws -> String {
        let raw =
            argument == "-" ? StandardStreams.readAll(0, limit: Message.sizeLimit + 1) : Array(argument.utf8)
        switch Message.text(of: raw) {
        case .success(let text): return text
        case .failure(let problem): throw UsageError("the message cannot be sent: \(problem.reason)")
        }
    }

    /// The agents the message goes to; unknown or settled ones are refused (exit status 2).
    private static func recipients(
        _ workspace: Workspace, id: String?, everyone: Bool, parent: String?
    ) throws -> [AgentRecord] {
        if let id {
            let record = try known(workspace, id)
            if record.state.isSettled {
                throw UsageError(
                    "\(id) has ended (\(record.state.rawValue)); a message would never be read. "
                        + "`swarm retry \(id)` first, or submit a new task")
            }
            return [record]
        }
        let records = MetaStore.snapshot(workspace).records.filter { !$0.state.isSettled }
        if let parent {
            _ = try known(workspace, parent)
            let children = records.filter { $0.parent == parent }
            if children.isEmpty { throw UsageError("\(parent) has no child that is still running or queued") }
            return children
        }
        if records.isEmpty { throw UsageError("no agent is running or queued; nothing to send to") }
        return records
    }

    private static func known(_ workspace: Workspace, _ id: String) throws -> AgentRecord {
        if let problem = AgentID.problem(with: id) {
            throw UsageError("\"\(id)\" is not an agent id: \(problem)")
        }
        guard let record = MetaStore.record(id, in: workspace) else {
            throw UsageError("no agent \(id) in \(workspace.root); `swarm status` lists them")
        }
        return record
    }
}

/// `swarm messages [--hook] [--json]`, run by an agent: prints its unread messages and writes
/// their receipts.
enum MessagesCommand {
    static func run(_ context: Context) throws {
        if context.has("--hook") {
            hook(context)
            return
        }
        let agent = try AgentEnvironment(context.environment)
        let mailbox = Mailbox(agent.files)
        // the ones already in a brief too: the agent asks, and a script's brief shows it nothing
        let unread = mailbox.unread(includingBriefed: true)
        let now = Clock.wallMilliseconds()
        for message in unread {
            let shown: String
            if context.has("--json") {
                var object = JSONObject()
                object["name"] = .string(message.name)
                object["text"] = .string(message.text)
                shown = JSON.encode(.object(object), pretty: false, sortKeys: true) + "\n"
            } else {
                shown = "--- message \(message.name) from a person\n\(message.text)\n"
            }
            guard StandardStreams.send(1, shown) else { return }
            do {
                try mailbox.markDelivered(message.name, Receipt(time: now, channel: .command))
            } catch {
                throw SwarmError("cannot write the receipt of \(message.name) in \(mailbox.folder): \(error)")
            }
        }
    }

    /// `--hook`: answers a Claude Code hook call. Whatever goes wrong (no agent variables, a
    /// malformed call, an unreadable folder) it prints nothing and returns, so that the agent
    /// goes on as if there were no hook.
    private static func hook(_ context: Context) {
        guard !Terminal.isTerminal(0), let agent = try? AgentEnvironment(context.environment),
            let call = ClaudeHook.parse(StandardStreams.readAll(0, limit: ClaudeHook.inputLimit))
        else { return }
        let mailbox = Mailbox(agent.files)
        let unread = mailbox.unread()
        guard !unread.isEmpty else { return }
        let intro =
            call.event == .stop
            ? "Before you stop: a person sent you \(unread.count == 1 ? "a message" : "\(unread.count) messages") "
                + "you have not read. Read, act on what it asks, then finish as your brief says."
            : "A person sent you \(unread.count == 1 ? "a message" : "\(unread.count) messages") while you worked. "
                + "Take it into account from now on."
        let text = ([intro] + unread.map { "--- message \($0.name)\n\($0.text)" }).joined(separator: "\n\n")
        guard StandardStreams.send(1, ClaudeHook.output(call.event, text: text)) else { return }
        let receipt = Receipt(
            time: Clock.wallMilliseconds(), channel: call.event == .stop ? .stopHook : .toolHook)
        for message in unread { try? mailbox.markDelivered(message.name, receipt) }
    }
}
