/// Inbox files waiting to be taken in, in the order they were seen; spawn/ folders whose
/// requests wait while the tree takes no writes; and tasks that passed intake, waiting for the
/// scheduler's decision. The loop takes a few files per turn, so that a full inbox never
/// keeps the daemon from starting agents and seeing them finish.
struct IntakeQueue {
    /// Inbox files taken per loop turn: few, so that the loop soon gets back to the folders
    /// made and the agents that ended, and starts the next ones. A batch of 32 left slots
    /// idle for several milliseconds while agents ran, and at the start of a full inbox it
    /// held back the first start by 10-15 ms: the loop read 32 tasks before it saw the first
    /// folder made, and each of its looks into `agents/` waited while ext4 placed a folder.
    static let batch = 4

    private var backlog: [String] = []
    private var queued: Set<String> = []
    private var index = 0
    private var heldParents: Set<String> = []
    private var pending: [String: PreparedTask] = [:]

    /// Inbox files seen and not yet taken.
    var waiting: Int { backlog.count - index }

    /// True when nothing waits: no inbox file, no held spawn folder, no task being decided.
    var isEmpty: Bool { waiting == 0 && heldParents.isEmpty && pending.isEmpty }

    /// Queues inbox file `name`, unless it is queued already.
    mutating func enqueue(_ name: String) {
        guard queued.insert(name).inserted else { return }
        backlog.append(name)
    }

    /// Up to `limit` queued names, oldest first; they leave the queue.
    mutating func take(limit: Int) -> [String] {
        let end = min(backlog.count, index + limit)
        let names = Array(backlog[index..<end])
        for name in names { queued.remove(name) }
        index = end
        if index == backlog.count {
            backlog.removeAll(keepingCapacity: false)
            index = 0
        }
        return names
    }

    /// The spawn/ folder of `parent` has requests that wait until the tree takes writes.
    mutating func hold(spawnFolderOf parent: String) { heldParents.insert(parent) }

    /// The held spawn folders, in order; they leave the queue.
    mutating func takeHeldSpawnFolders() -> [String] {
        defer { heldParents = [] }
        return heldParents.sorted()
    }

    /// A task that passed intake waits for the scheduler (`.accept` or `.refuse`).
    mutating func prepared(_ task: PreparedTask) { pending[task.record.id] = task }

    /// How many tasks that passed intake wait for their folder or the scheduler.
    var undecided: Int { pending.count }

    /// True when a task with `id` waits for the scheduler.
    func isPending(_ id: String) -> Bool { pending[id] != nil }

    /// True when the claimed file at `path` is a task that passed intake and waits (for its
    /// folder or the scheduler): it must not be taken in a second time.
    func holds(claimedPath path: String) -> Bool { pending.values.contains { $0.claimedPath == path } }

    /// The task waiting under `id`, which leaves the queue.
    mutating func decided(_ id: String) -> PreparedTask? { pending.removeValue(forKey: id) }
}
