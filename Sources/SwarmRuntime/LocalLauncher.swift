import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Starts agents on this machine: vfork (and, confined, Landlock) + exec into a new session,
/// through `/bin/sh -c` unless the command is plain words (`PlainCommand`); the child takes
/// the lock on the agent's folder as descriptor 3, so the kernel holds it exactly as long as
/// the agent's processes live, and no other process ever holds a copy.
struct LocalLauncher: AgentLauncher {
    let workspace: Workspace
    /// The device files every confined agent may write, opened once for all rulesets.
    let devices = Landlock.SharedPaths(Landlock.deviceFiles)
    /// The system folders every `reads: system` agent may read, opened once for all rulesets.
    let systemFolders = Landlock.SharedPaths(AccessPlanner.systemFolders(), readOnly: true)

    /// Starts the command; returns its process. The caller watches the pid for its exit.
    func start(_ spec: LaunchSpec, as kind: LauncherKind = .local, now: Millis = 0) -> LaunchOutcome {
        do {
            return .started(.process(try spawn(spec)))
        } catch {
            return .failed(error.message)
        }
    }

    /// Starts the command; returns its pid.
    func spawn(_ spec: LaunchSpec) throws(SwarmError) -> Int32 {
        try? FileSystem.makeDirectory(spec.files.temporary)
        if let home = spec.privateHome { try? FileSystem.makeDirectory(home) }
        var request = SpawnRequest(
            executable: "/bin/sh", arguments: ["-c", spec.command],
            environment: spec.environment, workingDirectory: spec.workingDirectory,
            stdoutPath: spec.files.stdout, stderrPath: spec.files.stderr)
        if let words = PlainCommand.words(spec.command, environment: spec.environment),
            let program = Processes.locateProgram(
                words[0], environment: spec.environment, workingDirectory: spec.workingDirectory)
        {
            // what the shell would do with a command of plain words, without starting one
            request.executable = program
            request.name = words[0]
            request.arguments = Array(words.dropFirst())
        }
        do {
            guard let rules = spec.rules else {
                return try Spawner.spawnAgent(request, lockPath: spec.files.lock)
            }
            // confined between fork and exec: the ruleset is built here and applied by the
            // child before the command runs its first instruction
            let ruleset: FileDescriptor
            do {
                ruleset = try Landlock.ruleset(
                    rules, abi: spec.landlockABI,
                    shared: rules.readable == nil ? [devices] : [devices, systemFolders])
            } catch {
                throw SwarmError("cannot confine \(spec.id): \(error)")
            }
            return try Spawner.spawnAgent(request, lockPath: spec.files.lock, ruleset: ruleset.rawValue)
        } catch let failure as AgentSpawnError {
            switch (failure.step, failure.error) {
            case (.lock, .wouldBlock):
                throw SwarmError(
                    "a process of an earlier run of \(spec.id) still holds the lock on its folder; "
                        + "stop it with `swarm kill \(spec.id)`")
            case (.lock, let error):
                throw SwarmError("cannot lock \(spec.files.lock): \(error)")
            case (.directory, let error):
                throw SwarmError("cannot enter \(spec.workingDirectory) for \(spec.id): \(error)")
            case (.confinement, let error):
                throw SwarmError("cannot confine \(spec.id): \(error)")
            case (_, let error):
                throw SwarmError(
                    "cannot start \(request.executable) for \(spec.id) in \(spec.workingDirectory): \(error)")
            }
        } catch let error as SwarmError {
            throw error
        } catch {
            throw SwarmError("cannot start \(request.executable) for \(spec.id): \(error)")
        }
    }

    /// SIGTERM, or with `force` SIGKILL, to every process of the run (`signalTree`).
    func stop(id: String, run: Run?, force: Bool) -> String {
        let signalled = signalTree(id: id, pid: run?.pid, force ? Signal.kill : Signal.terminate)
        if force && signalled == 0 { return "" }
        return "\(force ? "SIGKILL" : "SIGTERM") to \(signalled) process(es)"
    }

    /// Sends `signal` to every process of the agent: its session (the agent leads a new one)
    /// and any process that carries its identity in the environment (detached grandchildren).
    func signalTree(id: String, pid: Int32?, _ signal: Int32) -> Int {
        var sessions = Set<Int32>()
        if let pid { sessions.insert(pid) }
        let members = ProcFS.members(
            sessions: sessions,
            markers: ["SWARM_ROOT=" + workspace.root, "SWARM_AGENT_ID=" + id])
        if let pid { _ = Processes.signalGroup(pid, signal) }
        for member in members where member != Processes.currentID {
            _ = Processes.signal(member, signal)
        }
        return members.count
    }

    /// The process that leads the agent's session (the command the runtime started), found
    /// by the identity every agent process carries in its environment; nil when it is gone.
    func leader(of id: String) -> Int32? {
        let members = ProcFS.members(
            sessions: [], markers: ["SWARM_ROOT=" + workspace.root, "SWARM_AGENT_ID=" + id])
        return members.first { ProcFS.entry(of: $0)?.session == $0 }
    }

    /// True while some process, any process, holds the lock on the agent's folder: what a
    /// run that ended may have left behind.
    func lockHeld(_ id: String) -> Bool {
        Flock.isHeld(workspace.agentFiles(id).lock)
    }

    /// True while the agent's run goes on: its folder's lock is held, and a process of the
    /// run's own session (`session`, the pid the run started as), or a descendant of one,
    /// has the folder open. Another agent that opens and flocks this folder holds the lock
    /// but is none of those, so it cannot make the run look alive. Without a session (a
    /// first run's pid is recorded a moment after its start) the processes that carry the
    /// agent's identity in their environment count instead.
    func isRunning(_ id: String, session: Int32?) -> Bool {
        let lock = workspace.agentFiles(id).lock
        guard Flock.isHeld(lock), let folder = FileSystem.statusFollowing(lock) else { return false }
        let members = ProcFS.members(
            sessions: session.map { [$0] } ?? [],
            markers: session == nil ? ["SWARM_ROOT=" + workspace.root, "SWARM_AGENT_ID=" + id] : [])
        return members.contains { ProcFS.hasOpen(folder, pid: $0) }
    }
}
