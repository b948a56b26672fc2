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
    private var sequence = 0
    private var failureReported = false

    /// How long an alert command may run before it is killed.
    static let hookLimit: Millis = 10_000
    /// How long a stopping daemon waits for running alert commands before it kills them.
    static let stopGrace: Millis = 1_000

    /// One running alert command.
    private struct Hook {
        var pid: Int32
        var deadline: Millis
        var input: String
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
        object["kind"] = .string(alert.kind)
        object["agent"] = alert.agent.map { .string($0) } ?? .null
        object["message"] = .string(alert.message)
        return JSON.encode(.object(object), pretty: false, sortKeys: false)
            .trimmingTrailingNewlines() + "\n"
    }

    /// Records the alert and starts the alert command: the alert's JSON line on its stdin,
    /// the same fields in `SWARM_ALERT_*` variables. It is never waited for; one that runs
    /// longer than `hookLimit` is killed, and a failing command is reported once.
    mutating func record(_ alert: Alert, log: Logger, now: Millis) {
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
        let input = workspace.swarmDirectory + "/.alert-\(alert.time)-\(sequence)"
        sequence += 1
        do {
            try FileSystem.writeAtomically(input, Array(text.utf8))
            let request = SpawnRequest(
                executable: "/bin/sh", arguments: ["-c", command], environment: environment,
                workingDirectory: workspace.root, stdinPath: input, stdoutPath: nil, stderrPath: nil,
                passedDescriptors: [:])
            let pid = try Spawner.spawn(request)
            hooks.append(Hook(pid: pid, deadline: now + Self.hookLimit, input: input))
        } catch {
            try? FileSystem.remove(input)
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
                try? FileSystem.remove(hook.input)
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

    /// The daemon is stopping: gives the alert commands still running up to `stopGrace` to
    /// end (an alert raised just before the stop gets its command run), then kills the rest,
    /// and removes their input.
    mutating func stopAll() {
        var waited: Millis = 0
        while !hooks.isEmpty && waited < Self.stopGrace {
            hooks.removeAll { hook in
                guard Processes.reap(hook.pid) != nil else { return false }
                try? FileSystem.remove(hook.input)
                return true
            }
            if hooks.isEmpty { break }
            Clock.sleep(milliseconds: 5)
            waited += 5
        }
        for hook in hooks {
            _ = Processes.signalGroup(hook.pid, Signal.kill)
            _ = Processes.reap(hook.pid)
            try? FileSystem.remove(hook.input)
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
