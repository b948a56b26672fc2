/// What an inotify watch descriptor stands for.
enum WatchTarget: Equatable {
    case inbox
    case agent(String)
    case spawnRequests(String)
    /// An agent's messages/ folder: a message there may wake an idle orchestrator.
    case messages(String)
    case control
    /// swarm/schedules/: a schedule file was written, renamed or removed.
    case schedules
    /// A one-shot watch on one of the agent's logs: it fires at their next write.
    case log(String)
}

/// The daemon's inotify watches: which descriptor watches what, and which agents' folders
/// and spawn/ folders are watched. Plain bookkeeping; the daemon makes the calls to the
/// kernel and records their results here.
struct WatchTable {
    private var targets: [Int32: WatchTarget] = [:]
    private var agentFolders: [String: Int32] = [:]
    private var spawnFolders: [String: Int32] = [:]
    private var messageFolders: [String: Int32] = [:]
    private var logs: [String: Set<Int32>] = [:]

    /// What `wd` watches, if it is one of ours.
    func target(of wd: Int32) -> WatchTarget? { targets[wd] }

    func watchesFolder(of id: String) -> Bool { agentFolders[id] != nil }
    func watchesSpawnFolder(of id: String) -> Bool { spawnFolders[id] != nil }
    func watchesMessages(of id: String) -> Bool { messageFolders[id] != nil }

    /// Records that `wd` now watches `target`.
    mutating func add(_ wd: Int32, _ target: WatchTarget) {
        targets[wd] = target
        switch target {
        case .agent(let id): agentFolders[id] = wd
        case .spawnRequests(let id): spawnFolders[id] = wd
        case .messages(let id): messageFolders[id] = wd
        case .log(let id): logs[id, default: []].insert(wd)
        case .inbox, .control, .schedules: break
        }
    }

    /// Forgets the log watches of agent `id`; returns their descriptors, for the kernel.
    mutating func removeLogs(_ id: String) -> [Int32] {
        let removed = logs.removeValue(forKey: id) ?? []
        for wd in removed { targets[wd] = nil }
        return removed.sorted()
    }

    /// Forgets the folder watches of agent `id`; returns their descriptors, for the kernel.
    mutating func removeAgent(_ id: String) -> [Int32] {
        let removed = [
            agentFolders.removeValue(forKey: id), spawnFolders.removeValue(forKey: id),
            messageFolders.removeValue(forKey: id),
        ].compactMap { $0 }
        for wd in removed { targets[wd] = nil }
        return removed
    }

    /// The kernel dropped `wd` (IN_IGNORED: its folder is gone); returns what it watched.
    mutating func dropped(_ wd: Int32) -> WatchTarget? {
        guard let target = targets.removeValue(forKey: wd) else { return nil }
        switch target {
        case .agent(let id) where agentFolders[id] == wd: agentFolders[id] = nil
        case .spawnRequests(let id) where spawnFolders[id] == wd: spawnFolders[id] = nil
        case .messages(let id) where messageFolders[id] == wd: messageFolders[id] = nil
        case .log(let id):
            logs[id]?.remove(wd)
            if logs[id]?.isEmpty == true { logs[id] = nil }
        default: break
        }
        return target
    }
}
