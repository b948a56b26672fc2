import SwarmCore
import SwarmProtocol
import SwarmSystem

/// One schedule as `swarm schedules` shows it: read from the schedule file, the tree (its last
/// firing, derived by `FiringLedger`) and `swarm/schedules.json` (skips, and the running
/// daemon's next firing).
public struct ScheduleSummary: Sendable, Equatable {
    /// The last firing and how it stands.
    public struct Last: Sendable, Equatable {
        public var id: String
        /// The agent's state, `pending` (its task file waits for intake) or `rejected`.
        public var state: String
        /// Why it failed or was rejected, when it did.
        public var reason: String?
    }

    public var name: String
    /// `every:` as written (nil for a broken file).
    public var every: String?
    public var periodMilliseconds: Int64?
    public var catchUp: String?
    public var whenChanged: [String]
    /// The `when-changed:` paths that do not exist (they count as unchanged).
    public var missing: [String]
    /// When it fires next, at the earliest: the running daemon's plan, or (with no daemon) when a
    /// daemon started now would fire it.
    public var next: Int64?
    public var last: Last?
    /// Firings so far: the number of the last one.
    public var firings: Int
    public var skips: [ScheduleSkip: Int]
    /// What is wrong with the file; the schedule does not fire while it is set.
    public var problem: String?
    /// The daemon's last note about a firing (a write that failed, a walk that was cut).
    public var note: String?

    /// The summary as `swarm schedules --json` prints it.
    public var json: JSONValue {
        var object = JSONObject()
        object["name"] = .string(name)
        object["file"] = .string("swarm/schedules/\(name).md")
        object["every"] = every.map { .string($0) } ?? .null
        object["period_ms"] = periodMilliseconds.map { .integer($0) } ?? .null
        object["catch_up"] = catchUp.map { .string($0) } ?? .null
        object["when_changed"] = .array(whenChanged.map { .string($0) })
        object["missing"] = .array(missing.map { .string($0) })
        object["next"] = next.map { .string(Timestamp.iso8601(milliseconds: $0)) } ?? .null
        if let last {
            var lastObject = JSONObject()
            lastObject["id"] = .string(last.id)
            lastObject["state"] = .string(last.state)
            lastObject["reason"] = last.reason.map { .string($0) } ?? .null
            object["last"] = .object(lastObject)
        } else {
            object["last"] = .null
        }
        object["firings"] = .integer(Int64(firings))
        var skipObject = JSONObject()
        for reason in ScheduleSkip.allCases {
            skipObject[reason.rawValue] = .integer(Int64(skips[reason] ?? 0))
        }
        object["skips"] = .object(skipObject)
        object["problem"] = problem.map { .string($0) } ?? .null
        object["note"] = note.map { .string($0) } ?? .null
        return .object(object)
    }
}

/// `swarm schedules`: every schedule file with its next firing, last firing and skips.
public enum ScheduleView {
    /// Whether a daemon runs on the tree, and the schedules.
    public static func summaries(_ workspace: Workspace, now: Int64) -> (
        daemon: Bool, schedules: [ScheduleSummary]
    ) {
        let running = Flock.isHeld(workspace.daemonLockPath)
        let state = (try? FileSystem.readFile(workspace.schedulesStatePath, limit: 1 << 20)).flatMap {
            try? JSON.parse($0)
        }
        let configured = (try? FileSystem.readFile(workspace.configPath, limit: 1 << 20))
            .map { ConfigParser.parse($0).config.heartbeatMilliseconds }
        let heartbeat = state?["heartbeat_ms"]?.intValue ?? configured ?? 900_000
        let agentIDs = ((try? FileSystem.entries(of: workspace.agentsDirectory)) ?? [])
            .filter { $0.kind == .directory && !$0.name.hasPrefix(".") }.map(\.name)
        let ledger = FiringLedger.scan(workspace, agentIDs: agentIDs)
        var catalog = Catalog(workspace: workspace)
        let summaries = ScheduleFile.names(in: workspace).map { name in
            summary(
                name, workspace: workspace, state: state?["schedules"]?[name], running: running,
                heartbeat: heartbeat,
                ledger: ledger, catalog: &catalog, now: now)
        }
        return (running, summaries)
    }

    private static func summary(
        _ name: String, workspace: Workspace, state: JSONValue?, running: Bool, heartbeat: Int64,
        ledger: FiringLedger, catalog: inout Catalog, now: Int64
    ) -> ScheduleSummary {
        let path = ScheduleFile.path(name, in: workspace)
        let result = ScheduleFile.read(name, path: path, stamp: FileSystem.status(path), catalog: &catalog)
        let spec = try? result.get()
        var skips: [ScheduleSkip: Int] = [:]
        for reason in ScheduleSkip.allCases {
            if let count = state?["skips"]?[reason.rawValue]?.intValue { skips[reason] = Int(count) }
        }
        let firing = ledger.last(of: name)
        var out = ScheduleSummary(
            name: name, every: spec.map { $0.period.description },
            periodMilliseconds: spec.map { max(1, $0.period.milliseconds(heartbeat: heartbeat)) },
            catchUp: spec?.catchUp.rawValue, whenChanged: spec?.whenChanged ?? [],
            missing: (spec?.whenChanged ?? []).filter {
                FileSystem.status(ChangeWalk.resolve($0, in: workspace)) == nil
            },
            next: nil, last: firing.map { last($0, workspace: workspace) }, firings: firing?.number ?? 0,
            skips: skips,
            problem: result.failureMessage, note: state?["note"]?.stringValue)
        guard let spec, let period = out.periodMilliseconds else { return out }
        if running, let planned = state?["next"]?.stringValue.flatMap(Timestamp.parse) {
            out.next = planned
        } else {
            let slot = firing.flatMap { FiringLedger.slot(of: $0, schedule: name, period: period) }
            let clock = ScheduleClock(
                period: period, catchUp: spec.catchUp, lastFiring: slot,
                decided: state?["decided"]?.stringValue.flatMap(Timestamp.parse), watchingSince: now)
            out.next = SchedulePlanner.nextFiring(clock, now: now)
        }
        return out
    }

    /// How the firing `firing` stands.
    private static func last(_ firing: FiringLedger.Firing, workspace: Workspace) -> ScheduleSummary.Last {
        switch firing.place {
        case .agent:
            guard let record = MetaStore.record(firing.id, in: workspace) else {
                return .init(id: firing.id, state: "pending", reason: nil)
            }
            return .init(id: firing.id, state: record.state.rawValue, reason: record.lastFailure)
        case .inbox, .claimed:
            return .init(id: firing.id, state: "pending", reason: nil)
        case .rejected:
            let name = String(firing.path.split(separator: "/").last ?? "")
            let explanation =
                (try? FileSystem.readFile(
                    workspace.rejected + "/" + Intake.shortened(name) + ".error", limit: 4096))
                .map { String(decoding: $0, as: UTF8.self) }
            let reason = explanation?.split(separator: "\n").first.map(String.init)
            return .init(id: firing.id, state: "rejected", reason: reason)
        }
    }
}

extension Result where Failure == SwarmError {
    /// The error's message, or nil for a success.
    fileprivate var failureMessage: String? {
        if case .failure(let error) = self { return error.message }
        return nil
    }
}
