import SwarmCore
import SwarmProtocol
import SwarmRuntime
import SwarmSystem

/// `swarm top`: a live, full-screen view of every agent that redraws when the tree changes
/// (inotify on swarm/, never a timer). Keys: arrows or j/k select, K kill, a answer, l logs,
/// q quit. The terminal is restored on exit, on Ctrl-C and on SIGTERM.
enum TopCommand {
    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        guard Terminal.isTerminal(1), Terminal.isTerminal(0), context.environment["TERM"] != "dumb" else {
            Output.print(TopScreen(workspace: workspace, colour: false).render(rows: 40, columns: 120, selected: 0, notice: nil).text)
            return
        }
        var view = TopView(workspace: workspace, colour: Output.colourEnabled(context.environment))
        try view.loop()
    }
}

/// One frame of `swarm top`, as plain lines (colour codes only when asked).
struct TopScreen {
    let workspace: Workspace
    let colour: Bool

    struct Frame {
        var text: String
        var ids: [String]
    }

    func render(rows: Int, columns: Int, selected: Int, notice: String?) -> Frame {
        let records = MetaStore.snapshot(workspace).records
        let config = (try? FileSystem.readFile(workspace.configPath, limit: 1 << 20)).map { ConfigParser.parse($0).config } ?? .standard
        let budgets = StatusView.budgets(records, limits: Limits(config))
        let top = budgets.first { $0.holder == "" }
        let now = Clock.wallMilliseconds()
        var lines: [String] = []
        let counts = Dictionary(grouping: records, by: \.state).mapValues(\.count)
        let summary = AgentState.allCases.compactMap { state in counts[state].map { "\(state.rawValue) \($0)" } }.joined(separator: ", ")
        lines.append(clip("swarm top  \(workspace.root)  slots \(gauge(top?.used ?? 0, top?.total ?? config.maxSlots))  \(summary)", columns))
        let orchestrators = budgets.filter { !$0.holder.isEmpty }
        if !orchestrators.isEmpty {
            let text = orchestrators.map { "\($0.holder) \(gauge($0.used, $0.total))" }.joined(separator: "  ")
            lines.append(clip("budgets: " + text, columns))
        }
        let branches = records.contains { $0.git != nil }
        let header = pad("ID", 24) + pad("ROLE", 10) + pad("STATE", 12) + pad("AGE", 7) + pad("QUIET", 7) + pad("OUT", 5) + (branches ? pad("BRANCH", 26) : "") + "LAST STATUS"
        lines.append(clip(header, columns))
        let order = ordered(records)
        let room = max(1, rows - lines.count - 5)
        let first = max(0, min(selected - room + 1, order.count - room))
        var ids: [String] = []
        for (index, item) in order.enumerated() {
            ids.append(item.record.id)
            guard index >= first && index < first + room else { continue }
            let r = item.record
            let files = workspace.agentFiles(r.id)
            let progress = StatusView.lastProgress(files)
            let quiet = r.active ? lastSign(files).map { age(now - $0) } ?? "-" : "-"
            let unread = r.state.isSettled ? 0 : Mailbox(files).pendingCount(for: r)
            let status =
                (unread > 0 ? "[\(unread) unread] " : "")
                + (r.state == .waiting
                ? "? " + question(files)
                : (r.state.isSettled && r.state != .done
                    ? r.lastFailure ?? "" : progress?.status ?? r.jobState.map { "Slurm: " + $0 } ?? ""))
            var line = pad(String(repeating: "  ", count: item.level) + r.id, 24) + pad(r.role, 10) + pad(r.state.rawValue, 12)
            line += pad(age(now - r.createdAt), 7) + pad(quiet, 7) + pad(progress?.outputs.map(String.init) ?? "-", 5)
            if branches { line += pad(StatusView.branchLabel(r) ?? "-", 26) }
            line += status
            line = clip(line, columns)
            if index == selected { line = colour ? "\u{1B}[7m" + line + "\u{1B}[0m" : "> " + String(line.dropFirst(2)) }
            else if colour, let code = StateColour.code(r.state.rawValue) { line = "\u{1B}[\(code)m" + line + "\u{1B}[0m" }
            lines.append(line)
        }
        if order.isEmpty { lines.append("(no agents yet: drop a task into \(workspace.inbox)/)") }
        lines.append("")
        let alerts = recentAlerts(3)
        for alert in alerts { lines.append(clip("! " + alert, columns)) }
        lines.append(clip(notice ?? "q quit  j/k select  K kill  a answer  l logs", columns))
        return Frame(text: lines.prefix(rows).joined(separator: "\n"), ids: ids)
    }

    /// Agents in tree order (children under their parent), with their depth for indenting.
    func ordered(_ records: [AgentRecord]) -> [(record: AgentRecord, level: Int)] {
        let byParent = Dictionary(grouping: records, by: { $0.parent ?? "" })
        var out: [(AgentRecord, Int)] = []
        func walk(_ r: AgentRecord, _ level: Int) {
            out.append((r, level))
            for kid in byParent[r.id] ?? [] { walk(kid, level + 1) }
        }
        for r in byParent[""] ?? [] { walk(r, 0) }
        return out
    }

    private func lastSign(_ files: AgentFiles) -> Int64? {
        [files.progress, files.stdout, files.stderr].compactMap { FileSystem.status($0)?.modifiedNanos }.max().map { $0 / 1_000_000 }
    }

    private func question(_ files: AgentFiles) -> String {
        (try? FileSystem.readFile(files.question, limit: 4096)).map { String(decoding: $0, as: UTF8.self).trimmingTrailing() } ?? ""
    }

    private func recentAlerts(_ count: Int) -> [String] {
        guard let bytes = try? FileSystem.readTail(workspace.alertsPath, maxBytes: 8192) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").suffix(count).compactMap { line in
            guard let value = try? JSON.parse(Array(line.utf8)) else { return nil }
            return "\(value["kind"]?.stringValue ?? "") \(value["agent"]?.stringValue ?? "-"): \(value["message"]?.stringValue ?? "")"
        }
    }

    func gauge(_ used: Int, _ total: Int) -> String {
        let width = min(max(total, 1), 12)
        let filled = total > 0 ? min(width, (used * width + total - 1) / total) : 0
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(used)/\(total)"
    }

    func age(_ ms: Int64) -> String {
        let s = max(0, ms / 1000)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        return "\(s / 3600)h"
    }

    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? String(text.prefix(width - 1)) + " " : text + String(repeating: " ", count: width - text.count)
    }

    func clip(_ text: String, _ columns: Int) -> String {
        text.count > columns ? String(text.prefix(max(1, columns))) : text
    }
}

/// The interactive loop: alternate screen, raw keys, redraw on events.
struct TopView {
    let workspace: Workspace
    let screen: TopScreen
    var selected = 0
    var ids: [String] = []
    var notice: String?

    init(workspace: Workspace, colour: Bool) {
        self.workspace = workspace
        self.screen = TopScreen(workspace: workspace, colour: colour)
    }

    mutating func loop() throws {
        let signals: SignalChannel
        do {
            signals = try SignalChannel([Signal.interrupt, Signal.terminate, Signal.windowChanged])
        } catch {
            throw SwarmError("cannot take the terminal's signals: \(error)")
        }
        let inotify: Inotify
        do {
            inotify = try Inotify()
        } catch {
            throw SwarmError("cannot watch \(workspace.swarmDirectory): \(error)")
        }
        let epoll: Epoll
        do {
            epoll = try Epoll()
        } catch {
            throw SwarmError("cannot set up the live view: \(error)")
        }
        do {
            _ = try inotify.add(workspace.swarmDirectory, mask: [.closeWrite, .movedTo, .create, .delete])
            try? FileSystem.makeDirectory(workspace.agentsDirectory)
            _ = try inotify.add(workspace.agentsDirectory, mask: [.create, .delete])
            try epoll.add(inotify.rawValue, token: 1)
            try epoll.add(signals.rawValue, token: 2)
            try epoll.add(0, token: 3)
        } catch {
            throw SwarmError("cannot set up the live view: \(error)")
        }
        guard let token = Terminal.enterRawMode(0) else {
            throw SwarmError("cannot switch the terminal to raw mode; try `swarm status`")
        }
        StandardStreams.write(1, "\u{1B}[?1049h\u{1B}[?25l")
        defer {
            StandardStreams.write(1, "\u{1B}[?25h\u{1B}[?1049l")
            Terminal.restore(token)
        }
        draw()
        while true {
            let ready = (try? epoll.wait(timeoutMilliseconds: 5_000)) ?? []
            var redraw = ready.isEmpty
            for source in ready {
                switch source {
                case 1:
                    _ = try? inotify.read()
                    redraw = true
                case 2:
                    for signal in signals.read() where signal != Signal.windowChanged { return }
                    redraw = true
                default:
                    let keys = StandardStreams.readAvailable(0)
                    if keys.isEmpty || !handle(keys, token: token) { return }
                    redraw = true
                }
            }
            if redraw { draw() }
        }
    }

    private mutating func draw() {
        let size = Terminal.size(1) ?? (rows: 24, columns: 80)
        let frame = screen.render(rows: size.rows, columns: size.columns, selected: selected, notice: notice)
        ids = frame.ids
        if selected >= ids.count { selected = max(0, ids.count - 1) }
        let body = frame.text.split(separator: "\n", omittingEmptySubsequences: false).map { $0 + "\u{1B}[K" }.joined(separator: "\r\n")
        StandardStreams.write(1, "\u{1B}[H" + body + "\u{1B}[J")
    }

    /// Handles keys; false means quit.
    private mutating func handle(_ keys: [UInt8], token: RawModeToken) -> Bool {
        notice = nil
        switch keys {
        case [0x71], [0x51], [0x03]: return false
        case [0x6A], [0x1B, 0x5B, 0x42]: selected = min(selected + 1, max(0, ids.count - 1))
        case [0x6B], [0x1B, 0x5B, 0x41]: selected = max(selected - 1, 0)
        case [0x4B]: act(.kill)
        case [0x61]: answer(token)
        case [0x6C]: showLogs()
        default: break
        }
        return true
    }

    private mutating func act(_ verb: ControlRequest.Verb) {
        guard selected < ids.count else { return }
        let id = ids[selected]
        do {
            _ = try ControlRequest(verb: verb, agent: id).submit(to: workspace)
            notice = "\(verb.rawValue) \(id): requested"
        } catch {
            notice = "cannot \(verb.rawValue) \(id): \(error)"
        }
    }

    private mutating func answer(_ token: RawModeToken) {
        guard selected < ids.count else { return }
        let id = ids[selected]
        let files = workspace.agentFiles(id)
        guard FileSystem.exists(files.question), !FileSystem.exists(files.answer) else {
            notice = "\(id) is not waiting for an answer"
            return
        }
        Terminal.restore(token)
        StandardStreams.write(1, "\u{1B}[?25h\r\nAnswer for \(id): ")
        var text: [UInt8] = []
        while true {
            let chunk = StandardStreams.readAvailable(0)
            if chunk.isEmpty { break }
            if let end = chunk.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
                text += chunk[..<end]
                break
            }
            text += chunk
        }
        _ = Terminal.enterRawMode(0)
        StandardStreams.write(1, "\u{1B}[?25l")
        let answer = String(decoding: text, as: UTF8.self)
        guard !answer.isEmpty else {
            notice = "no answer given"
            return
        }
        do {
            try FileSystem.writeAtomically(files.answer, Array((answer + "\n").utf8), durable: true)
            notice = "answered \(id)"
        } catch {
            notice = "cannot write \(files.answer): \(error)"
        }
    }

    private mutating func showLogs() {
        guard selected < ids.count else { return }
        let files = workspace.agentFiles(ids[selected])
        let tail = [files.stderr, files.stdout, files.progress].compactMap { path -> String? in
            guard let bytes = try? FileSystem.readTail(path, maxBytes: 400), !bytes.isEmpty else { return nil }
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n").last.map(String.init)
        }
        notice = tail.isEmpty ? "\(ids[selected]): no output yet" : "\(ids[selected]): " + tail.joined(separator: " | ")
    }
}
