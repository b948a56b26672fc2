import FoundationEssentials
import SwarmProtocol
import SwarmRuntime
import SwarmSystem

/// `swarm upstreams [--json]` and `swarm upstream reset NAME`.
enum UpstreamsCommand {
    static func run(_ context: Context) throws {
        let workspace = try context.workspace()
        let configured = (try? FileSystem.readFile(workspace.configPath, limit: 1 << 20))
            .map { ConfigParser.parse($0).config.upstreams } ?? []
        let snapshot = (try? FileSystem.readFile(workspace.upstreamsPath, limit: 1 << 20))
            .flatMap { try? JSONDecoder().decode(UpstreamSnapshot.self, from: Data($0)) }
        let entries = configured.map { upstream in
            snapshot?.upstreams.first { $0.name == upstream.name }
                ?? UpstreamSnapshot.Entry(
                    name: upstream.name, domain: upstream.domain ?? upstream.name, breaker: "closed",
                    openUntil: nil, concurrencyLimit: upstream.concurrency, inFlight: 0, calls: 0,
                    failures: 0, disabled: nil, recentErrors: [])
        }
        if context.has("--json") {
            Output.print(JSONText.encode(["upstreams": entries]))
            return
        }
        if entries.isEmpty {
            Output.print("no upstreams in swarm/swarm.json: every agent inherits the daemon's environment")
            return
        }
        let rows = entries.map(row)
        Output.print(Table.render(header: ["NAME", "DOMAIN", "BREAKER", "LIMIT", "RUNNING", "CALLS", "FAILURES", "LAST ERROR"], rows: rows))
    }

    private static func row(_ e: UpstreamSnapshot.Entry) -> [String] {
        let state = e.disabled == nil ? e.breaker : "disabled"
        let limit = e.concurrencyLimit.map(String.init) ?? "-"
        let last = String((e.disabled ?? e.recentErrors.last ?? "").prefix(60))
        return [e.name, e.domain, state, limit, String(e.inFlight), String(e.calls), String(e.failures), last]
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
            throw SwarmError("no upstream \"\(name)\" in swarm/swarm.json; known: \(names.isEmpty ? "none" : names.joined(separator: ", "))")
        }
        _ = try ControlRequest(verb: .resetUpstream, agent: name).submit(to: workspace)
        Output.print("reset of upstream \(name) requested")
    }
}
