import SwarmProtocol
import SwarmRuntime
import SwarmSystem

/// Where the calling agent's files are, from the variables the runtime gives every agent.
struct AgentEnvironment {
    var root: String
    var id: String
    var directory: String

    init(_ environment: [String: String]) throws {
        guard let directory = environment["SWARM_AGENT_DIR"], !directory.isEmpty,
            let id = environment["SWARM_AGENT_ID"], !id.isEmpty
        else {
            throw SwarmError(
                "this command is run by agents: SWARM_AGENT_DIR and SWARM_AGENT_ID are not set; "
                    + "the runtime sets them when it starts an agent")
        }
        self.directory = directory
        self.id = id
        self.root = environment["SWARM_ROOT"] ?? ""
    }

    var files: AgentFiles { AgentFiles(directory) }

    /// The contract of the agent's template, if it declares one.
    func contract() -> ResultContract? {
        guard !root.isEmpty, let record = MetaStore.record(id, in: Workspace(root: root)) else { return nil }
        let path = Workspace(root: root).templatePath(record.template)
        guard let bytes = try? FileSystem.readFile(path, limit: Catalog.fileLimit),
            let template = try? TemplateParser.parse(name: record.template, bytes: bytes)
        else { return nil }
        return template.contract
    }
}

/// The commands agents run: progress, result, spawn, ask.
enum AgentCommands {
    static func progress(_ context: Context) throws {
        let path: String
        if let explicit = context.environment["SWARM_PROGRESS"], !explicit.isEmpty {
            path = explicit
        } else {
            path = try AgentEnvironment(context.environment).files.progress
        }
        var outputs: Int?
        if let text = context.option("--outputs") {
            guard let n = Int(text), n >= 0 else {
                throw UsageError("--outputs needs a whole number, not \(text)")
            }
            outputs = n
        }
        var tokens: Int64?
        if let text = context.option("--tokens") {
            guard let n = Int64(text), n >= 0 else {
                throw UsageError("--tokens needs a whole number, not \(text)")
            }
            tokens = n
        }
        var cost: Double?
        if let text = context.option("--cost") {
            guard let usd = Double(text), usd >= 0, usd.isFinite else {
                throw UsageError("--cost needs an amount in US dollars such as 0.25, not \(text)")
            }
            cost = usd
        }
        let line = ProgressLine(
            timeMilliseconds: Clock.wallMilliseconds(), outputs: outputs, status: context.positionals[0],
            tokens: tokens, cost: cost)
        do {
            try FileSystem.append(path, Array(line.formatted().utf8))
        } catch {
            throw SwarmError("cannot append to \(path): \(error)")
        }
    }

    static func result(_ context: Context) throws {
        let agent = try AgentEnvironment(context.environment)
        let path =
            context.environment["SWARM_RESULTS"].flatMap { $0.isEmpty ? nil : $0 } ?? agent.files.results
        var object: JSONObject
        let given: [UInt8]?
        if let text = context.option("--json") {
            if !context.positionals.isEmpty { throw UsageError("give either FILE, - or --json TEXT") }
            given = Array(text.utf8)
        } else if let file = context.positionals.first {
            do {
                given =
                    file == "-"
                    ? StandardStreams.readAll(0, limit: 4 << 20)
                    : try FileSystem.readFile(file, limit: 4 << 20)
            } catch {
                throw SwarmError("cannot read \(file): \(error)")
            }
        } else {
            given = nil
        }
        if let given {
            let value: JSONValue
            do {
                value = try JSON.parse(given)
            } catch {
                throw SwarmError("the result is not valid JSON: \(error.description)")
            }
            guard let parsed = value.objectValue else {
                throw SwarmError(
                    "a result must be a JSON object, not \(value.typeName); wrap it, e.g. {\"value\": ...}")
            }
            object = parsed
        } else {
            object = JSONObject()
        }
        if let status = context.option("--status") {
            guard status == "ok" || status == "error" else {
                throw UsageError("--status must be ok or error, not \(status)")
            }
            object["status"] = .string(status)
        }
        if let kind = context.option("--error-kind") {
            object["error_kind"] = .string(kind)
            if object["status"] == nil { object["status"] = .string("error") }
        }
        if let message = context.option("--error") { object["error"] = .string(message) }
        if object["status"] == nil { object["status"] = .string("ok") }
        let value = JSONValue.object(object)
        if object["status"]?.stringValue != "error", let contract = agent.contract() {
            let violations = contract.violations(in: value)
            if !violations.isEmpty {
                throw SwarmError(
                    "the result breaks the template's contract and was not written: "
                        + violations.joined(separator: "; ") + "; expected shape: \(contract.text)")
            }
        }
        if FileSystem.exists(path) {
            throw SwarmError("\(path) already exists; a result is written once, at the end")
        }
        do {
            try FileSystem.writeAtomically(
                path, JSON.encodeBytes(value, pretty: true, sortKeys: false), durable: true)
        } catch {
            throw SwarmError("cannot write \(path): \(error)")
        }
    }

    static func spawn(_ context: Context) throws {
        let agent = try AgentEnvironment(context.environment)
        let folder = agent.files.spawn
        try? FileSystem.makeDirectory(folder)
        let workspace = Workspace(root: agent.root)
        let prefix = String(agent.id.prefix(48))
        let (id, text) = try TaskComposer.compose(
            context, idPrefix: prefix,
            taken: { id in
                FileSystem.exists(folder + "/" + id + ".md")
                    || FileSystem.exists(workspace.agentDirectory(id))
                    || FileSystem.exists(workspace.claimedDirectory(parent: agent.id) + "/" + id + ".md")
                    || FileSystem.exists(agent.files.refused + "/" + id + ".md")
            })
        do {
            try FileSystem.writeAtomically(folder + "/" + id + ".md", Array(text.utf8))
        } catch {
            throw SwarmError("cannot write the request into \(folder): \(error)")
        }
        Output.print(id)
    }

    static func ask(_ context: Context) throws {
        let agent = try AgentEnvironment(context.environment)
        let files = agent.files
        let question = context.positionals[0]
        let open = (try? FileSystem.readFile(files.question, limit: 1 << 20)).map {
            String(decoding: $0, as: UTF8.self).trimmingTrailing()
        }
        let answered = FileSystem.exists(files.answer)
        if open != question || answered {
            if answered { archiveAnsweredQuestion(files) }
            do {
                try FileSystem.writeAtomically(files.question, Array((question + "\n").utf8))
            } catch {
                throw SwarmError("cannot write \(files.question): \(error)")
            }
        }
        guard context.has("--wait") else { return }
        var timeout: Int64?
        if let text = context.option("--timeout") {
            guard let ms = DurationText.parse(text) else {
                throw UsageError("--timeout \(text) is not a duration")
            }
            timeout = ms
        }
        Output.print(try waitForAnswer(files, timeout: timeout))
    }

    /// Moves an answered question and its answer aside as question.N.md and answer.N.md, so
    /// that a new question.md is one without an answer.
    static func archiveAnsweredQuestion(_ files: AgentFiles) {
        var n = 1
        while FileSystem.exists(files.directory + "/question.\(n).md") { n += 1 }
        try? FileSystem.rename(files.question, to: files.directory + "/question.\(n).md")
        try? FileSystem.rename(files.answer, to: files.directory + "/answer.\(n).md")
    }

    /// Blocks until answer.md appears (inotify on the agent's folder) and returns it.
    static func waitForAnswer(_ files: AgentFiles, timeout: Int64?) throws -> String {
        let deadline = timeout.map { Clock.wallMilliseconds() + $0 }
        do {
            let inotify = try Inotify()
            let epoll = try Epoll()
            _ = try inotify.add(files.directory, mask: [.closeWrite, .movedTo])
            try epoll.add(inotify.rawValue, token: 1)
            while true {
                if let bytes = try? FileSystem.readFile(files.answer, limit: 1 << 20) {
                    return String(decoding: bytes, as: UTF8.self).trimmingTrailing()
                }
                var wait: Int32 = 1000
                if let deadline {
                    let left = deadline - Clock.wallMilliseconds()
                    if left <= 0 { throw SwarmError("no answer within the timeout") }
                    wait = Int32(min(left, 1000))
                }
                _ = try epoll.wait(timeoutMilliseconds: wait)
                _ = try inotify.read()
            }
        } catch let error as SwarmError {
            throw error
        } catch {
            throw SwarmError("cannot wait for \(files.answer): \(error)")
        }
    }
}

extension String {
    func trimmingTrailing() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == " " { s = s.dropLast() }
        return String(s)
    }
}
