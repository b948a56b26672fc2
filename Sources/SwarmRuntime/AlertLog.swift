import SwarmCore
import SwarmProtocol
import SwarmSystem

/// alerts.jsonl: one JSON object per line, appended with a single write each; plus the
/// optional alert command of swarm.json, run for every alert.
struct AlertLog {
    let workspace: Workspace
    var command: String?
    var baseEnvironment: [String]
    private var hooks: [Hook] = []
    private var failureReported = false

    /// How long an alert command may run before it is killed.
    static let hookLimit: Millis = 10_000

    /// One running alert command.
    private struct Hook {
        var pid: Int32
        var deadline: Millis
    }

    init(workspace: Workspace, command: String?, baseEnvironment: [String]) {
        self.workspace = workspace
        self.command = command
        self.baseEnvironment = baseEnvironment
    }

    /// The line written for `alert`.
    static func line(_ alert: Alert) -> String {
        var object = JSONObject()
        object["time"] = .string(Timestamp.iso8601(milliseconds: alert.time))
        object["kind"] = .string(alert.kind.rawValue)
        object["agent"] = alert.agent.map { .string($0) } ?? .null
        object["message"] = .string(alert.message)
        return JSON.encode(.object(object), pretty: false, sortKeys: false)
            .trimmingTrailingNewlines() + "\n"
    }

    /// Records the alert (through `writer`, which keeps it in order while alerts.jsonl takes no
    /// writes) and starts the alert command: the alert's JSON line on its stdin (a pipe, so
    /// that a full disk cannot keep it from the command), the same fields in `SWARM_ALERT_*`
    /// variables. It is never waited for; one that runs longer than `hookLimit` is killed, and
    /// a failing command is reported once.
    mutating func record(_ alert: Alert, writer: inout TreeWriter, log: Logger, now: Millis) {
        let text = Self.line(alert)
        writer.append(workspace.alertsPath, Array(text.utf8), now: now)
        log.info("alert \(alert.kind) \(alert.agent ?? "-"): \(alert.message)")
        guard let command, !command.isEmpty else { return }
        var environment = baseEnvironment
        environment.append("SWARM_ALERT_KIND=" + alert.kind.rawValue)
        environment.append("SWARM_ALERT_AGENT=" + (alert.agent ?? ""))
        environment.append("SWARM_ALERT_MESSAGE=" + alert.message)
        environment.append("SWARM_ALERT_JSON=" + text.trimmingTrailingNewlines())
        environment.append("SWARM_ROOT=" + workspace.root)
        do {
            let input = try Pipe.filled(with: Array(text.utf8))
            let request = SpawnRequest(
                executable: "/bin/sh", arguments: ["-c", command], environment: environment,
                workingDirectory: workspace.root, stdoutPath: nil, stderrPath: nil,
                passedDescriptors: [0: input.rawValue])
            let pid = try Spawner.spawn(request)
            hooks.append(Hook(pid: pid, deadline: now + Self.hookLimit))
        } catch {
            reportFailure("the alert command could not be started: \(error)", log: log)
        }
    }

    /// Collects alert commands that have ended, kills those past their time limit, and
    /// reports the first failure (and only that one, so a broken command cannot flood the log).
    mutating func reap(now: Millis, log: Logger) {
        var running: [Hook] = []
        var failures: [String] = []
        for hook in hooks {
            if let status = Processes.reap(hook.pid) {
                if status != .exited(0) { failures.append("the alert command ended with \(status)") }
                continue
            }
            if now >= hook.deadline {
                _ = Processes.signalGroup(hook.pid, Signal.kill)
                failures.append("the alert command ran longer than \(Self.hookLimit / 1000) s and was killed")
            }
            running.append(hook)
        }
        hooks = running
        for failure in failures { reportFailure(failure, log: log) }
    }

    /// How long a stopping daemon waits for alert commands still running, so that the alerts
    /// of its last moments (a `--until-idle` run's final dead-letter) are delivered too.
    static let shutdownGrace: Millis = 2_000

    /// The daemon is stopping: waits up to `shutdownGrace` for the alert commands still
    /// running, then kills the rest.
    mutating func stopAll(log: Logger) {
        let deadline = Clock.wallMilliseconds() + Self.shutdownGrace
        while !hooks.isEmpty && Clock.wallMilliseconds() < deadline {
            reap(now: Clock.wallMilliseconds(), log: log)
            if !hooks.isEmpty { Clock.sleep(milliseconds: 5) }
        }
        for hook in hooks {
            _ = Processes.signalGroup(hook.pid, Signal.kill)
            _ = Processes.reap(hook.pid)
        }
        hooks = []
    }

    /// When the next running alert command reaches its time limit.
    var nextDeadline: Millis? { hooks.map(\.deadline).min() }

    private mutating func reportFailure(_ message: String, log: Logger) {
        guard !failureReported else { return }
        failureReported = true
        log.error("\(message) (\(command ?? "")); further failures of it are not reported")
    }
}
