import SwarmCore
import SwarmProtocol
import SwarmRuntime
import SwarmSystem

/// `swarm status [ID] [--json]`.
enum StatusCommand {
    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        var records = MetaStore.snapshot(workspace).records
        if let id = context.positionals.first {
            records = records.filter { $0.id == id }
            if records.isEmpty {
                throw SwarmError("no agent \(id) in \(workspace.root); `swarm status` lists them")
            }
        }
        let summaries = StatusView.summaries(
            records, workspace: workspace, upstreams: UpstreamsCommand.snapshot(workspace))
        if context.has("--json") {
            let agents = zip(records, summaries).map { record, summary -> JSONValue in
                var object = summary.json.objectValue ?? JSONObject()
                let mailbox = Mailbox(workspace.agentFiles(record.id))
                let messages = mailbox.json(for: record)
                object["messages"] = messages
                object["unread"] = .integer(
                    Int64(messages.arrayValue?.filter { $0["status"]?.stringValue == "pending" }.count ?? 0))
                return .object(object)
            }
            Output.print(JSON.encode(.object(["agents": .array(agents)])))
            return
        }
        if summaries.isEmpty {
            Output.print("no agents yet; drop a task into \(workspace.inbox)/ or use `swarm submit`")
            return
        }
        let colour = Output.colourEnabled(context.environment)
        // the BRANCH column only when an agent works on a repository
        let branches = summaries.contains { $0.branch != nil }
        let header =
            [
                "ID", "STATE", "ROLE", "KIND", "DEPTH", "SLOTS", "TRIES", "PID", "CONFINED", "OUT",
                "LAST PROGRESS",
            ] + (branches ? ["BRANCH"] : []) + ["STATUS"]
        let rows = summaries.map { s -> [String] in
            var row: [String] = [
                s.id, s.state, s.role, s.kind, String(s.depth),
                s.kind == "orchestrator" ? String(s.slots) : "-",
                String(s.attempts), s.pid.map(String.init) ?? s.job.map { "job " + $0 } ?? "-",
                s.confinement ?? "-", s.outputs.map(String.init) ?? "-",
                s.lastProgress.map(shortTime) ?? "-",
            ]
            if branches { row.append(branchCell(s)) }
            let status: String = s.waiting ?? s.reason ?? s.status ?? s.jobState.map { "Slurm: " + $0 } ?? ""
            row.append(String(status.prefix(60)))
            return row
        }
        Output.print(
            Table.render(
                header: header, rows: rows, colour: colour ? { row in StateColour.code(row[1]) } : nil))
        if context.positionals.first != nil, let record = records.first {
            printMessages(of: record, workspace: workspace)
        }
    }

    /// `swarm status ID`: how its runs began, and each message with its receipt.
    private static func printMessages(of record: AgentRecord, workspace: Workspace) {
        var out = ""
        if record.runs > 0 {
            out += "last run: " + (record.resumed ? "resumed its session" : "started fresh")
            out += record.session.map { " (session \($0))" } ?? ""
            out += "\n"
        }
        let messages = Mailbox(workspace.agentFiles(record.id)).statuses(for: record)
        if !messages.isEmpty {
            out += "messages:\n"
            for item in messages { out += "  \(item.entry.name)  \(item.status.sentence)\n" }
        }
        if !out.isEmpty { Output.print(String(out.dropLast())) }
    }

    /// `swarm/<id>@<first 8 of its head>`, or `-`.
    static func branchCell(_ s: AgentSummary) -> String {
        guard let branch = s.branch else { return "-" }
        return branch + "@" + String(s.head?.prefix(8) ?? "?")
    }

    static func shortTime(_ iso: String) -> String {
        guard let t = iso.firstIndex(of: "T") else { return iso }
        return String(iso[iso.index(after: t)...].prefix(8))
    }
}

/// A plain text table, padded by column; colour (when asked) wraps a whole row.
enum Table {
    static func render(header: [String], rows: [[String]], colour: (([String]) -> String?)? = nil) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count {
                widths[i] = max(widths[i], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }
        var out = line(header) + "\n"
        for row in rows {
            if let colour, let code = colour(row) {
                out += "\u{1B}[\(code)m" + line(row) + "\u{1B}[0m\n"
            } else {
                out += line(row) + "\n"
            }
        }
        return out
    }
}

/// The colour of a state on a terminal.
enum StateColour {
    static func code(_ state: String) -> String? {
        switch state {
        case "running": "32"
        case "waiting": "33;1"
        case "failed", "killed", "dead-letter": "31"
        case "queued": "36"
        default: nil
        }
    }
}

/// `swarm tree [--json]`.
enum TreeCommand {
    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        let records = MetaStore.snapshot(workspace).records
        let config =
            (try? FileSystem.readFile(workspace.configPath, limit: 1 << 20)).map {
                ConfigParser.parse($0).config
            } ?? .standard
        let limits = Limits(config)
        let budgets = Dictionary(
            StatusView.budgets(records, limits: limits).map { ($0.holder, $0) },
            uniquingKeysWith: { a, _ in a })
        let byParent = Dictionary(grouping: records, by: { $0.parent ?? "" })
        let top = budgets[""] ?? BudgetSummary(holder: "", used: 0, total: limits.maxSlots)
        if context.has("--json") {
            func node(_ r: AgentRecord) -> TreeNode {
                TreeNode(
                    id: r.id, role: r.role, kind: r.kind.rawValue, state: r.state.rawValue, depth: r.depth,
                    budget: r.kind == .orchestrator
                        ? budgets[r.id].map { TreeBudget(used: $0.used, total: $0.total) } : nil,
                    children: (byParent[r.id] ?? []).map(node))
            }
            let tree = TreeDocument(
                budget: TreeBudget(used: top.used, total: top.total), reserve: limits.reserve,
                agents: (byParent[""] ?? []).map(node))
            Output.print(JSON.encode(tree.json))
            return
        }
        var out =
            "\(workspace.root)  [\(top.used)/\(top.total) slots, \(limits.reserve) reserved for urgent work]\n"
        func walk(_ r: AgentRecord, _ prefix: String, _ last: Bool) {
            let budget =
                r.kind == .orchestrator ? budgets[r.id].map { "  [\($0.used)/\($0.total) slots]" } ?? "" : ""
            out +=
                prefix + (last ? "└─ " : "├─ ")
                + "\(r.id)  \(r.state.rawValue)  \(r.role)/\(r.template)\(budget)\n"
            let kids = byParent[r.id] ?? []
            for (i, kid) in kids.enumerated() {
                walk(kid, prefix + (last ? "   " : "│  "), i == kids.count - 1)
            }
        }
        let roots = byParent[""] ?? []
        for (i, r) in roots.enumerated() { walk(r, "", i == roots.count - 1) }
        if roots.isEmpty { out += "(no agents yet)\n" }
        Output.print(out)
    }
}

/// A subtree's slots in `swarm tree --json`.
struct TreeBudget {
    var used: Int
    var total: Int

    var json: JSONValue { ["used": .integer(Int64(used)), "total": .integer(Int64(total))] }
}

/// One agent of `swarm tree --json`, with its children.
struct TreeNode {
    var id: String
    var role: String
    var kind: String
    var state: String
    var depth: Int
    var budget: TreeBudget?
    var children: [TreeNode]

    var json: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        o["role"] = .string(role)
        o["kind"] = .string(kind)
        o["state"] = .string(state)
        o["depth"] = .integer(Int64(depth))
        if let budget { o["budget"] = budget.json }
        o["children"] = .array(children.map(\.json))
        return .object(o)
    }
}

/// `swarm tree --json`: the whole tree's budget and the top-level agents.
struct TreeDocument {
    var budget: TreeBudget
    var reserve: Int
    var agents: [TreeNode]

    var json: JSONValue {
        ["budget": budget.json, "reserve": .integer(Int64(reserve)), "agents": .array(agents.map(\.json))]
    }
}

/// `swarm alerts [--follow] [--json]`.
enum AlertsCommand {
    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        let json = context.has("--json")
        let follow = context.has("--follow")
        var offset = 0
        func emit(all: Bool) {
            let bytes = (try? FileSystem.readFile(workspace.alertsPath, limit: 64 << 20)) ?? []
            guard bytes.count > offset else { return }
            var end = bytes.count
            while end > offset, bytes[end - 1] != 0x0A { end -= 1 }
            let text = String(decoding: bytes[offset..<end], as: UTF8.self)
            offset = end
            let lines = text.split(separator: "\n").map(String.init)
            if json && !follow {
                Output.print("{\"alerts\": [" + lines.joined(separator: ",\n") + "]}")
                return
            }
            for line in lines {
                if json {
                    Output.print(line)
                } else if let value = try? JSON.parse(Array(line.utf8)) {
                    let agent = value["agent"]?.stringValue ?? "-"
                    Output.print(
                        "\(value["time"]?.stringValue ?? "")  \(value["kind"]?.stringValue ?? "")  \(agent)  \(value["message"]?.stringValue ?? "")"
                    )
                }
            }
        }
        emit(all: true)
        if json && !follow && offset == 0 { Output.print("{\"alerts\": []}") }
        guard follow else { return }
        try FileWatcher.follow([workspace.swarmDirectory]) { emit(all: false) }
    }
}

/// `swarm logs ID [--follow]`.
enum LogsCommand {
    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        let id = context.positionals[0]
        if let problem = AgentID.problem(with: id) {
            throw UsageError("\"\(id)\" is not an agent id: \(problem)")
        }
        let files = workspace.agentFiles(id)
        guard FileSystem.exists(files.meta) else {
            throw SwarmError("no agent \(id) in \(workspace.root); `swarm status` lists them")
        }
        let sources = [("progress", files.progress), ("stdout", files.stdout), ("stderr", files.stderr)]
        var offsets = [Int64](repeating: 0, count: sources.count)
        func emit(headers: Bool) {
            for (i, (label, path)) in sources.enumerated() {
                guard let read = try? FileSystem.readSkippingHoles(path, from: offsets[i], limit: 64 << 20),
                    read.end > offsets[i]
                else { continue }
                offsets[i] = read.end
                let text = LogsCommand.text(read.pieces)
                if headers {
                    Output.print("==> \(label) (\(path)) <==\n" + text)
                } else {
                    for line in text.split(separator: "\n") { Output.print("[\(label)] \(line)") }
                }
            }
        }
        emit(headers: true)
        guard context.has("--follow") else { return }
        try FileWatcher.follow([files.directory]) { emit(headers: false) }
    }

    /// Pieces of a log as printed: the bytes as text, and for each hole the runtime punched
    /// to cap the log (logHead, logTail) one line of its own saying how much was dropped there.
    static func text(_ pieces: [FilePiece]) -> String {
        var text = ""
        for piece in pieces {
            switch piece {
            case .bytes(let bytes):
                text += String(decoding: bytes, as: UTF8.self)
            case .hole(let length):
                if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
                text += "[swarm: \(length) bytes dropped here to cap the log]\n"
            }
        }
        return text
    }
}
