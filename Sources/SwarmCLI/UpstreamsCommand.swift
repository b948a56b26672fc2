import SwarmProtocol
import SwarmRuntime
import SwarmSystem

/// `swarm upstreams [--json]` and `swarm upstream reset NAME`.
enum UpstreamsCommand {
    /// upstreams.json as the daemon last wrote it, if it can be read.
    static func snapshot(_ workspace: Workspace) -> UpstreamSnapshot? {
        (try? FileSystem.readFile(workspace.upstreamsPath, limit: 1 << 20))
            .flatMap { try? JSON.parse($0) }.flatMap(UpstreamSnapshot.init(json:))
    }

    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        let configured =
            (try? FileSystem.readFile(workspace.configPath, limit: 1 << 20))
            .map { ConfigParser.parse($0).config.upstreams } ?? []
        let snapshot = snapshot(workspace)
        let entries = configured.map { upstream in
            snapshot?.upstreams.first { $0.name == upstream.name }
                ?? UpstreamSnapshot.Entry(
                    name: upstream.name, domain: upstream.domain ?? upstream.name, breaker: "closed",
                    openUntil: nil, concurrencyLimit: upstream.concurrency, inFlight: 0, calls: 0,
                    failures: 0, disabled: nil, recentErrors: [])
        }
        if context.has("--json") {
            Output.print(JSON.encode(["upstreams": .array(entries.map(\.json))]))
            return
        }
        if entries.isEmpty {
            Output.print("no upstreams in swarm/swarm.json: every agent inherits the daemon's environment")
            return
        }
        let pages = Dictionary(
            configured.map { ($0.name, $0.statusPage != nil) }, uniquingKeysWith: { a, _ in a })
        let rows = entries.map { row($0, hasPage: pages[$0.name] ?? false) }
        Output.print(
            Table.render(
                header: [
                    "NAME", "DOMAIN", "HEALTH", "BREAKER", "LIMIT", "RUNNING", "CALLS", "FAILURES",
                    "STATUS PAGE",
                    "LAST ERROR",
                ], rows: rows))
    }

    private static func row(_ e: UpstreamSnapshot.Entry, hasPage: Bool) -> [String] {
        let state = e.disabled == nil ? e.breaker : "disabled"
        let limit = e.concurrencyLimit.map(String.init) ?? "-"
        var health = e.health ?? state
        if health == "parked" { health += e.parkedUntil.map { " until " + clock($0) } ?? " until reset" }
        let last = String((e.parked ?? e.disabled ?? e.recentErrors.last ?? "").prefix(60))
        return [
            e.name, e.domain, health, state, limit, String(e.inFlight), String(e.calls), String(e.failures),
            pageCell(e, hasPage: hasPage), last,
        ]
    }

    /// "major at 12:03:04: Claude API: major outage; ...", "unknown (timed out) at ...", or "-".
    private static func pageCell(_ e: UpstreamSnapshot.Entry, hasPage: Bool) -> String {
        guard let page = e.page else { return hasPage ? "not read yet" : "-" }
        let at = e.pageAt.map { " at " + clock($0) } ?? ""
        let detail = e.pageDetail.map { page == "unknown" ? " (\($0))" : ": \($0)" } ?? ""
        return String((page + at + detail).prefix(70))
    }

    /// `12:03:04` of an ISO-8601 time (UTC).
    private static func clock(_ iso: String) -> String {
        let parts = iso.split(separator: "T")
        guard parts.count == 2 else { return iso }
        return String(parts[1].prefix(8))
    }

    static func reset(_ context: Context) throws {
        guard context.positionals[0] == "reset" else {
            throw UsageError("`swarm upstream` knows one action: reset NAME")
        }
        let workspace = try context.workspace()
        let name = context.positionals[1]
        let bytes = (try? FileSystem.readFile(workspace.configPath, limit: 1 << 20)) ?? []
        let names = ConfigParser.parse(bytes).config.upstreams.map(\.name)
        guard names.contains(name) else {
            throw SwarmError(
                "no upstream \"\(name)\" in swarm/swarm.json; known: \(names.isEmpty ? "none" : names.joined(separator: ", "))"
            )
        }
        _ = try ControlRequest(verb: .resetUpstream, agent: name).submit(to: workspace)
        Output.print("reset of upstream \(name) requested")
    }
}
