import SwarmCore
import SwarmProtocol
import SwarmSystem

/// alerts.jsonl: one JSON object per line, appended with a single write each; plus the
/// optional alert command of swarm.json, run for every alert.
struct AlertLog {
    let workspace: Workspace
    var command: String?
    var baseEnvironment: [String]
    private var hooks: [Int32] = []

    init(workspace: Workspace, command: String?, baseEnvironment: [String]) {
        self.workspace = workspace
        self.command = command
        self.baseEnvironment = baseEnvironment
    }

    /// The line written for `alert`.
    static func line(_ alert: Alert) -> String {
        var object = JSONObject()
        object["time"] = .string(Timestamp.iso8601(milliseconds: alert.time))
        object["kind"] = .string(alert.kind)
        object["agent"] = alert.agent.map { .string($0) } ?? .null
        object["message"] = .string(alert.message)
        return JSON.encode(.object(object), pretty: false, sortKeys: false)
            .trimmingTrailingNewlines() + "\n"
    }

    /// Records the alert and starts the alert command (never waited for).
    mutating func record(_ alert: Alert, log: Logger) {
        let text = Self.line(alert)
        do {
            try FileSystem.append(workspace.alertsPath, Array(text.utf8))
        } catch {
            log.error("cannot append to \(workspace.alertsPath): \(error)")
        }
        log.info("alert \(alert.kind) \(alert.agent ?? "-"): \(alert.message)")
        guard let command, !command.isEmpty else { return }
        var environment = baseEnvironment
        environment.append("SWARM_ALERT_KIND=" + alert.kind)
        environment.append("SWARM_ALERT_AGENT=" + (alert.agent ?? ""))
        environment.append("SWARM_ALERT_MESSAGE=" + alert.message)
        environment.append("SWARM_ALERT_JSON=" + text.trimmingTrailingNewlines())
        environment.append("SWARM_ROOT=" + workspace.root)
        let request = SpawnRequest(
            executable: "/bin/sh", arguments: ["-c", command], environment: environment,
            workingDirectory: workspace.root, stdoutPath: nil, stderrPath: nil,
            passedDescriptors: [:])
        do {
            hooks.append(try Spawner.spawn(request))
        } catch {
            log.error("the alert command could not be started: \(error)")
        }
    }

    /// Collects alert commands that have ended, so none is left a zombie.
    mutating func reap() {
        hooks.removeAll { Processes.reap($0) != nil }
    }
}
