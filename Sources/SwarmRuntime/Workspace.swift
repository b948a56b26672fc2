import SwarmProtocol
import SwarmSystem

/// The paths of one workspace tree, and how to find it.
public struct Workspace: Sendable, Equatable {
    /// The workspace root (holds AGENTS.md, roles/, templates/ and swarm/).
    public let root: String

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    public var swarmDirectory: String { root + "/swarm" }
    public var configPath: String { swarmDirectory + "/swarm.json" }
    public var inbox: String { swarmDirectory + "/inbox" }
    public var claimed: String { swarmDirectory + "/claimed" }
    public var rejected: String { swarmDirectory + "/rejected" }
    public var agentsDirectory: String { swarmDirectory + "/agents" }
    public var deadLetter: String { swarmDirectory + "/dead-letter" }
    public var statePath: String { swarmDirectory + "/state.json" }
    public var alertsPath: String { swarmDirectory + "/alerts.jsonl" }
    /// Runtime-owned history of the run, one line per change (`EventLog`); `.1` is the previous
    /// file after a rotation.
    public var eventsPath: String { swarmDirectory + "/events.jsonl" }
    /// Runtime-owned snapshot of every upstream's health.
    public var upstreamsPath: String { swarmDirectory + "/upstreams.json" }
    public var daemonLockPath: String { swarmDirectory + "/daemon.lock" }
    /// Person-owned schedule files, `NAME.md` (with the runtime's `NAME.md.error` beside a
    /// broken one).
    public var schedulesDirectory: String { swarmDirectory + "/schedules" }
    /// Runtime-owned: what each schedule decided and skipped, and when it fires next.
    public var schedulesStatePath: String { swarmDirectory + "/schedules.json" }
    /// Requests from the command line to the daemon (`swarm kill`, `swarm retry`, `swarm ack`).
    public var controlDirectory: String { swarmDirectory + "/control" }
    public var rolesDirectory: String { root + "/roles" }
    public var templatesDirectory: String { root + "/templates" }

    /// The claimed-task folder for tasks from the inbox (`_inbox`) or from one parent.
    public func claimedDirectory(parent: String?) -> String {
        claimed + "/" + (parent ?? "_inbox")
    }

    public func agentDirectory(_ id: String) -> String { agentsDirectory + "/" + id }
    public func agentFiles(_ id: String) -> AgentFiles { AgentFiles(agentDirectory(id)) }
    public func rolePath(_ role: String) -> String { rolesDirectory + "/" + role + ".md" }
    public func templatePath(_ name: String) -> String { templatesDirectory + "/" + name + ".md" }

    /// The workspace named by `--root`, else `$SWARM_ROOT`, else the nearest ancestor of the
    /// current directory that holds swarm/swarm.json.
    public static func locate(explicit: String?, environment: [String: String]) throws(SwarmError)
        -> Workspace
    {
        if let explicit { return try checked(absolute(explicit), origin: "--root") }
        if let fromEnvironment = environment["SWARM_ROOT"], !fromEnvironment.isEmpty {
            return try checked(absolute(fromEnvironment), origin: "SWARM_ROOT")
        }
        var directory = FileSystem.currentDirectory()
        while true {
            if FileSystem.statusFollowing(directory + "/swarm/swarm.json") != nil {
                return Workspace(root: directory)
            }
            guard let slash = directory.lastIndex(of: "/"), directory != "/" else { break }
            directory = slash == directory.startIndex ? "/" : String(directory[..<slash])
        }
        throw SwarmError(
            "no workspace here: no swarm/swarm.json in this folder or any above it; "
                + "run `swarm init` to make one, or pass --root DIR")
    }

    private static func checked(_ root: String, origin: String) throws(SwarmError) -> Workspace {
        guard FileSystem.statusFollowing(root + "/swarm/swarm.json") != nil else {
            throw SwarmError(
                "\(origin) names \(root), which has no swarm/swarm.json; "
                    + "run `swarm init \(root)` first")
        }
        return Workspace(root: root)
    }

    /// `path` made absolute against the current directory.
    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        let base = FileSystem.currentDirectory()
        return path == "." ? base : base + "/" + path
    }
}

/// The files inside one agent's folder.
public struct AgentFiles: Sendable, Equatable {
    public let directory: String
    public init(_ directory: String) { self.directory = directory }
    public var task: String { directory + "/task.md" }
    public var meta: String { directory + "/meta.json" }
    public var progress: String { directory + "/progress.md" }
    public var results: String { directory + "/results.json" }
    public var question: String { directory + "/question.md" }
    public var answer: String { directory + "/answer.md" }
    public var stdout: String { directory + "/stdout.log" }
    public var stderr: String { directory + "/stderr.log" }
    /// The agent's folder is also its lock: flocked by the runtime and handed to the agent as
    /// descriptor 3, held exactly as long as a process of the agent lives.
    public var lock: String { directory }
    public var spawn: String { directory + "/spawn" }
    /// Messages from people (`swarm say`), with their receipts.
    public var messages: String { directory + "/messages" }
    /// What a resumed run reads: why it was interrupted, and the messages since.
    public var resumeNote: String { directory + "/resume.md" }
    /// The Claude Code settings of a `messages: hooks` run (its hooks).
    public var hookSettings: String { directory + "/hooks.json" }
    public var refused: String { directory + "/refused" }
    public var children: String { directory + "/children" }
    public var fanIn: String { directory + "/children.json" }
    public var temporary: String { directory + "/tmp" }
    /// Written by a Slurm job's script when the command ends: its exit status.
    public var exitStatus: String { directory + "/exit-status" }
    /// Written by a Slurm job step started with srun: the id of its job.
    public var slurmJob: String { directory + "/slurm-job" }
    /// Runtime-owned: how the agent's branch last landed (code fan-in through git).
    public var mergeReport: String { directory + "/merge.json" }
}

/// An error a person reads: what happened and what to do. Printed as `swarm: <message>`.
public struct SwarmError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// True when the cause is outside the request and likely to pass (a cluster controller
    /// that does not answer): the same request may well succeed later.
    public var transient = false
    public init(_ message: String, transient: Bool = false) {
        self.message = message
        self.transient = transient
    }
    public var description: String { message }
}
