import SwarmCore
import SwarmProtocol
import SwarmSystem

/// Everything a launch depends on besides the agent's record and template.
struct LaunchContext: Sendable {
    var workspace: Workspace
    var config: SwarmConfig
    /// The daemon's environment without SWARM_ variables, the `swarm` binary first on PATH.
    var baseEnvironment: [String]
    /// The Landlock ABI the kernel offers; 0 without Landlock.
    var landlockABI: Int
    /// HOME of the daemon's environment: `~` in a template's `writes`.
    var home: String?
    /// The `swarm` executable (the hooks of `messages: hooks` runs call it).
    var swarm: String = "swarm"
}

/// A run ready to hand to a launcher.
struct LaunchPlan: Sendable {
    var spec: LaunchSpec
    /// How the run is confined.
    var confinement: RunConfinement
    /// The paths granted beyond the agent's own folder (for the daemon's warnings).
    var granted: [String]
    /// What the template asked for that this kernel cannot enforce, for the daemon's warning
    /// (`confinement: warn` runs the agent without it).
    var unenforced: [String] = []
}

/// The pure part of starting a run: record + template + configuration -> `LaunchSpec`, with
/// the environment of CLI.md, the upstream's overlay, a private HOME and the confinement.
/// No file is touched here.
enum LaunchPlanner {
    /// The plan for one run of `record` woken for `wake`, begun as `start` says (a resumed
    /// run runs the template's `resume:` command), or why it cannot run. With a `worktree`,
    /// the run works there instead of the template's `workdir`, and may write what a commit
    /// in it needs.
    static func plan(
        _ record: AgentRecord, template: Template, wake: [WakeReason], start: RunStart = .fresh,
        context: LaunchContext, worktree: WorktreeGrant? = nil
    ) -> Result<LaunchPlan, SwarmError> {
        let files = context.workspace.agentFiles(record.id)
        let upstream = record.upstream.flatMap { context.config.upstream(named: $0) }
        let workdir = worktree?.folder ?? template.workdir.map { resolve($0, root: context.workspace.root) }
        let granted =
            (worktree?.writable ?? workdir.map { [$0] } ?? [])
            + template.writes.map { grantedPath($0, context: context) }
        var environment = environment(for: record, wake: wake, upstream: upstream, context: context)
        if let worktree {
            // git in the worktree must find the worktree, not what the daemon's caller pointed at
            environment.removeAll {
                $0.hasPrefix("GIT_DIR=") || $0.hasPrefix("GIT_WORK_TREE=") || $0.hasPrefix("GIT_INDEX_FILE=")
                    || $0.hasPrefix("GIT_COMMON_DIR=") || $0.hasPrefix("GIT_OBJECT_DIRECTORY=")
            }
            environment.append("SWARM_WORKTREE=" + worktree.folder)
            environment.append("SWARM_BRANCH=" + GitBinding.branch(of: record.id))
        }
        let privateHome = template.privateHome ? files.directory + "/home" : nil
        if let privateHome {
            // a HOME of its own; the XDG folders fall back to it (TMPDIR is private already)
            let replaced: Set<String> = [
                "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
            ]
            environment.removeAll { replaced.contains(String($0.prefix { $0 != "=" })) }
            environment.append("HOME=" + privateHome)
        }
        var command = upstream?.command ?? template.command
        if case .resume(let session, _) = start, upstream?.command == nil, let resume = template.resume {
            command = resume
            environment.append("SWARM_SESSION_ID=" + session)
        }
        if template.messages == .hooks { environment.append("SWARM_HOOK_SETTINGS=" + files.hookSettings) }
        let abi = context.landlockABI
        let confinement: RunConfinement
        var rules: Landlock.Rules?
        var unenforced: [String] = []
        switch (context.config.confinement, abi) {
        case (.off, _):
            confinement = .off
        case (.require, 0):
            return .failure(SwarmError("swarm.json requires confinement, but this kernel offers no Landlock"))
        case (_, 0):
            confinement = .none
        default:
            let reads = AccessPlanner.readRule(
                task: record.reads, template: template.reads, workspace: context.config.reads)
            let network = AccessPlanner.networkRule(
                task: record.network, template: template.network, workspace: context.config.network)
            let made = Landlock.Rules(
                writable: [files.directory] + granted,
                readable: AccessPlanner.readable(
                    reads, root: context.workspace.root, environment: environment, home: context.home,
                    resolve: { grantedPath($0, context: context) }
                ).map { $0 + (record.git.map { [$0.repo] } ?? []) },
                connectPorts: AccessPlanner.connectPorts(network, environment: environment),
                scoped: true)
            var restrictions: RunConfinement.Restrictions = made.readable == nil ? [] : .reads
            if made.connectPorts != nil {
                if abi >= Landlock.networkABI {
                    restrictions.insert(.network)
                } else if context.config.confinement == .require {
                    return .failure(
                        SwarmError(
                            "swarm.json requires confinement and \(template.name) asks for network: \(network.text), "
                                + "but this kernel's Landlock (ABI \(abi)) has no TCP rules (ABI 4, Linux 6.7)"
                        ))
                } else {
                    unenforced.append(
                        "network: \(network.text) needs Landlock ABI 4 (Linux 6.7); this kernel offers ABI \(abi), "
                            + "so its agents may connect anywhere")
                }
            }
            if abi >= Landlock.scopeABI {
                restrictions.insert(.signals)
            } else {
                unenforced.append(
                    "keeping signals within an agent needs Landlock ABI 6 (Linux 6.12); this kernel offers "
                        + "ABI \(abi), so its agents may signal other processes of this user")
            }
            (confinement, rules) = (.landlock(abi: abi, restrictions: restrictions), made)
        }
        let spec = LaunchSpec(
            id: record.id, command: command,
            workingDirectory: workdir ?? files.directory, environment: environment, files: files,
            rules: rules, privateHome: privateHome, landlockABI: abi)
        return .success(
            LaunchPlan(spec: spec, confinement: confinement, granted: granted, unenforced: unenforced))
    }

    /// The environment of CLI.md for one run: the daemon's, the upstream's overlay (its
    /// `unset` names removed), then the SWARM_ variables.
    static func environment(
        for record: AgentRecord, wake: [WakeReason], upstream: Upstream?, context: LaunchContext
    ) -> [String] {
        let files = context.workspace.agentFiles(record.id)
        var environment = context.baseEnvironment
        if let upstream {
            let replaced = Set(upstream.unset + Array(upstream.env.keys))
            environment.removeAll { entry in
                replaced.contains(String(entry.prefix { $0 != "=" }))
            }
            environment += upstream.env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        }
        environment.append("SWARM_ROOT=" + context.workspace.root)
        environment.append("SWARM_AGENT_ID=" + record.id)
        environment.append("SWARM_AGENT_DIR=" + files.directory)
        environment.append("SWARM_PARENT_ID=" + (record.parent ?? ""))
        environment.append("SWARM_DEPTH=\(record.depth)")
        environment.append("SWARM_SLOTS=\(record.kind == .orchestrator ? record.slots : 0)")
        environment.append("SWARM_PROGRESS=" + files.progress)
        environment.append("SWARM_RESULTS=" + files.results)
        environment.append("SWARM_UPSTREAM=" + (record.upstream ?? ""))
        environment.append("SWARM_ATTEMPT=\(record.attempts)")
        environment.append("SWARM_WAKE=" + wake.words)
        environment.append("TMPDIR=" + files.temporary)
        return environment
    }

    /// A path from a template: absolute as is, otherwise relative to the workspace root.
    static func resolve(_ path: String, root: String) -> String {
        path.hasPrefix("/") ? path : root + "/" + path
    }

    /// A template's `writes` entry as a path: absolute as is, `~` and `~/...` in the daemon's
    /// HOME, anything else relative to the workspace root.
    static func grantedPath(_ path: String, context: LaunchContext) -> String {
        if path == "~" { return context.home ?? "/" }
        if path.hasPrefix("~/"), let home = context.home { return home + path.dropFirst(1) }
        return resolve(path, root: context.workspace.root)
    }
}
