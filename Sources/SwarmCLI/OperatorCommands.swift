import SwarmCore
import SwarmProtocol
import SwarmRuntime
import SwarmScaffold
import SwarmSystem

/// `swarm init [DIR]`.
enum InitCommand {
    static func run(_ context: Context) throws {
        let root = Workspace.absolute(context.positionals.first ?? ".")
        var created: [String] = []
        for file in Scaffold.files {
            let path = root + "/" + file.path
            if FileSystem.exists(path) { continue }
            if let slash = path.lastIndex(of: "/") {
                try? FileSystem.makeDirectory(String(path[..<slash]))
            }
            do {
                try FileSystem.createExclusive(path, Array(file.contents.utf8))
            } catch {
                throw SwarmError("cannot create \(path): \(error); check that the folder is writable")
            }
            created.append(file.path)
        }
        Output.print(
            created.isEmpty
                ? "\(root) already holds a workspace; nothing was changed"
                : "created \(created.count) file(s) in \(root); next: `swarm run` there, then drop tasks into swarm/inbox/")
    }
}

/// `swarm run`.
enum RunCommand {
    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        var options = DaemonOptions()
        options.untilIdle = context.has("--until-idle")
        options.verbose = context.has("--verbose")
        if let text = context.option("--heartbeat") {
            guard let ms = DurationText.parse(text), ms > 0 else {
                throw UsageError("--heartbeat \(text) is not a duration; write e.g. 250ms, 30s, 15m or 2h")
            }
            options.heartbeat = ms
        }
        if let text = context.option("--poll") {
            guard let ms = DurationText.parse(text), ms > 0 else {
                throw UsageError("--poll \(text) is not a duration; write e.g. 500ms or 2s")
            }
            options.poll = ms
        }
        if let format = context.option("--log-format") {
            guard let parsed = Logger.Format(rawValue: format) else {
                throw UsageError("--log-format must be text or json, not \(format)")
            }
            options.logFormat = parsed
        }
        let daemon = try Daemon(workspace: workspace, options: options)
        try daemon.run()
    }
}

/// `swarm submit`: one task into the inbox, atomically.
enum SubmitCommand {
    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        var skip: Set<String> = []
        while true {
            let explicit = context.option("--id") != nil
            let (id, text) = try TaskComposer.compose(context, idPrefix: nil, taken: { id in
                skip.contains(id) || FileSystem.exists(workspace.agentDirectory(id))
                    || FileSystem.exists(workspace.inbox + "/" + id + ".md")
            })
            let path = workspace.inbox + "/" + id + ".md"
            let temporary = workspace.inbox + "/.\(id).md.submit-\(Processes.currentID)"
            do {
                try FileSystem.writeAtomically(temporary, Array(text.utf8), durable: true)
                try FileSystem.rename(temporary, to: path, replace: false)
                try FileSystem.syncDirectory(workspace.inbox)
                Output.print(id)
                return
            } catch let error where error == .fileExists && !explicit {
                try? FileSystem.remove(temporary)
                skip.insert(id)
            } catch {
                try? FileSystem.remove(temporary)
                throw SwarmError("cannot write \(path): \(error)")
            }
        }
    }
}

/// Builds a task file from `-m TEXT` or FILE plus the command's options; used by `submit` and
/// `spawn`.
enum TaskComposer {
    static func compose(_ context: Context, idPrefix: String?, taken: (String) -> Bool) throws -> (String, String) {
        var fields: [(String, String)] = []
        var body: String
        if let message = context.option("-m") {
            if !context.positionals.isEmpty { throw UsageError("give either FILE or -m TEXT, not both") }
            body = message
        } else if let file = context.positionals.first {
            let bytes: [UInt8]
            do {
                bytes = file == "-" ? StandardStreams.readAll(0, limit: 1 << 20) : try FileSystem.readFile(file, limit: 1 << 20)
            } catch {
                throw SwarmError("cannot read \(file): \(error)")
            }
            let matter = try FrontMatter.parse(bytes, listKeys: ["inputs", "acceptance"])
            fields = matter.fields.map { ($0.key, $0.value) }
            body = matter.body
        } else {
            throw UsageError("give the task as FILE (or - for stdin) or as -m TEXT")
        }
        for (flag, key) in [("--role", "role"), ("--template", "template"), ("--priority", "priority"), ("--slots", "slots"), ("--id", "id")] {
            if let value = context.option(flag) {
                fields.removeAll { $0.0 == key }
                fields.append((key, value))
            }
        }
        if !fields.contains(where: { $0.0 == "role" }) { fields.insert(("role", "worker"), at: 0) }
        if !fields.contains(where: { $0.0 == "template" }) { fields.insert(("template", "sim-worker"), at: 1) }
        var id = fields.first { $0.0 == "id" }?.1
        if id == nil {
            let generated = uniqueID(prefix: idPrefix ?? AgentID.slug(fromFileName: String(body.prefix(40))), taken: taken)
            fields.append(("id", generated))
            id = generated
        }
        var text = "---\n"
        for (key, value) in fields { text += "\(key): \(value)\n" }
        text += "---\n" + body + (body.hasSuffix("\n") ? "" : "\n")
        do {
            _ = try TaskParser.parse(fileName: "task.md", bytes: Array(text.utf8))
        } catch {
            throw SwarmError("the task is not valid: \(error.description)")
        }
        return (id ?? "", text)
    }

    static func uniqueID(prefix: String, taken: (String) -> Bool) -> String {
        let base = String(prefix.prefix(40)).trimmingCharacters(in: "-")
        var n = 1
        while true {
            let candidate = "\(base.isEmpty ? "task" : base)-\(n)"
            if !taken(candidate) { return candidate }
            n += 1
        }
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}

/// `swarm kill`, `swarm retry`, `swarm ack`: requests to the daemon, through swarm/control/.
enum ControlCommand {
    static func run(_ context: Context, verb: ControlRequest.Verb) throws {
        let workspace = try context.workspace()
        let id = context.positionals[0]
        if let problem = AgentID.problem(with: id) { throw UsageError("\"\(id)\" is not an agent id: \(problem)") }
        guard let record = MetaStore.record(id, in: workspace) else {
            throw SwarmError("no agent \(id) in \(workspace.root); `swarm status` lists them")
        }
        switch verb {
        case .kill where record.state.isSettled:
            throw SwarmError("\(id) has already ended (\(record.state.rawValue)); nothing to kill")
        case .retry where !record.state.isSettled || record.state == .done:
            throw SwarmError(
                "\(id) is \(record.state.rawValue); only failed, killed, dead-letter or skipped tasks can be retried")
        case .ack where record.state != .done:
            throw SwarmError("\(id) is \(record.state.rawValue); only a done agent's result can be acknowledged")
        default:
            break
        }
        if verb == .retry, let parent = record.parent,
            let orchestrator = MetaStore.read(workspace.agentFiles(parent).meta), orchestrator.state.isSettled
        {
            throw SwarmError(
                "\(id) was requested by \(parent), which has ended (\(orchestrator.state.rawValue)); "
                    + "retry \(parent) instead, or submit the task again")
        }
        _ = try ControlRequest(verb: verb, agent: id).submit(to: workspace)
        let running = Flock.isHeld(workspace.daemonLockPath)
        Output.print(
            running
                ? "\(verb.rawValue) \(id): requested"
                : "\(verb.rawValue) \(id): requested; no daemon runs now, so it happens when `swarm run` starts")
    }
}

/// `swarm answer ID TEXT`.
enum AnswerCommand {
    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        let id = context.positionals[0]
        if let problem = AgentID.problem(with: id) { throw UsageError("\"\(id)\" is not an agent id: \(problem)") }
        let files = workspace.agentFiles(id)
        guard FileSystem.exists(files.meta) else {
            throw SwarmError("no agent \(id) in \(workspace.root); `swarm status` lists them")
        }
        guard FileSystem.exists(files.question) else {
            throw SwarmError("\(id) has not asked a question (no question.md); nothing to answer")
        }
        let text = context.positionals[1]
        do {
            try FileSystem.writeAtomically(files.answer, Array((text.hasSuffix("\n") ? text : text + "\n").utf8), durable: true)
        } catch {
            throw SwarmError("cannot write \(files.answer): \(error)")
        }
        Output.print("answered \(id)")
    }
}
