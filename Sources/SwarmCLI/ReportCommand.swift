import SwarmCore
import SwarmProtocol
import SwarmReport
import SwarmRuntime
import SwarmSystem

/// `swarm report [--out FILE] [--json]`: the run as one self-contained HTML page (or its data
/// as JSON), read from the tree alone, with or without a daemon running.
enum ReportCommand {
    /// The most of events.jsonl(.1) and alerts.jsonl read (their newest part).
    static let historyLimit = 32 << 20
    /// The most of each dead letter's reason.md shown.
    static let reasonLimit = 64 << 10
    /// Where the page goes without `--out`.
    static let defaultFile = "report.html"

    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        let data = ReportBuilder.build(load(workspace))
        let json = context.has("--json")
        let text = json ? JSON.encode(data.json) : ReportPage(data).render()
        let target = context.option("--out") ?? (json ? "-" : defaultFile)
        if target == "-" {
            Output.print(text)
            return
        }
        do {
            try FileSystem.writeAtomically(target, Array(text.utf8))
        } catch {
            throw SwarmError(
                "cannot write the report to \(target): \(error); name a folder that exists and is writable")
        }
        if !json {
            Output.print("\(target): \(data.rows.count) agents, \(data.failures.count) failed attempts")
        }
    }

    /// Everything the report needs, from the tree: records, history, alerts, budgets,
    /// dead letters. Missing files are empty; torn lines are skipped by the parsers.
    static func load(_ workspace: Workspace) -> ReportInput {
        let records = MetaStore.snapshot(workspace).records
        let rotated = newest(workspace.eventsPath + ".1")
        let events = HistoryEvent.parseAll(rotated + [UInt8(ascii: "\n")] + newest(workspace.eventsPath))
        let alerts = ReportAlert.parseAll(newest(workspace.alertsPath))
        let config =
            (try? FileSystem.readFile(workspace.configPath, limit: 1 << 20)).map {
                ConfigParser.parse($0).config
            }
            ?? ConfigParser.parse(Array("{}".utf8)).config
        var deadLetters: [String: String] = [:]
        for entry in (try? FileSystem.entries(of: workspace.deadLetter)) ?? []
        where entry.kind == .directory && !entry.name.hasPrefix(".") {
            let path = workspace.deadLetter + "/" + entry.name + "/reason.md"
            let bytes = (try? FileSystem.readTail(path, maxBytes: reasonLimit)) ?? []
            deadLetters[entry.name] = String(decoding: bytes, as: UTF8.self)
        }
        return ReportInput(
            records: records, events: events, alerts: alerts, maxSlots: config.maxSlots,
            reserve: config.reserve,
            upstreams: config.upstreams.map { ($0.name, $0.domain ?? $0.name) }, deadLetters: deadLetters,
            root: workspace.root, generatedAt: Clock.wallMilliseconds(),
            live: Flock.isHeld(workspace.daemonLockPath))
    }

    /// The newest `historyLimit` bytes of `path` (a first line cut in two is skipped later).
    private static func newest(_ path: String) -> [UInt8] {
        (try? FileSystem.readTail(path, maxBytes: historyLimit)) ?? []
    }
}
