import SwarmProtocol
import SwarmSystem

/// How a started run is known to the daemon: a process on this machine (watched through its
/// pidfd) or a Slurm batch job (watched through `squeue`).
enum RunHandle: Sendable, Equatable {
    case process(Int32)
    case job(String)
}

/// One run of an agent's command: the launcher that started it travels with it, so that
/// stopping it never has to guess.
struct Run: Sendable, Equatable {
    var launcher: LauncherKind
    var handle: RunHandle

    /// The process of a run on this machine (an srun step's `srun` included).
    var pid: Int32? { if case .process(let pid) = handle { pid } else { nil } }
    /// The batch job of a run Slurm started.
    var job: String? { if case .job(let job) = handle { job } else { nil } }
}

/// A watched process: the pidfd that becomes readable when the agent's command exits.
final class ProcessWatch {
    let id: String
    let pid: Int32
    /// The pidfd's number, or -1 when none could be opened (then the heartbeat polls).
    let raw: Int32
    private let descriptor: FileDescriptor?
    /// False for agents adopted after a restart: they are not our children.
    let ownChild: Bool

    init(id: String, pid: Int32, raw: Int32, descriptor: consuming FileDescriptor?, ownChild: Bool) {
        self.id = id
        self.pid = pid
        self.raw = raw
        self.descriptor = descriptor
        self.ownChild = ownChild
    }
}

/// The runs the daemon watches, by agent, and the pidfds of those on this machine by their
/// epoll token. A run is in the table from its start (or adoption) until its end is seen.
struct RunTable {
    /// Tokens below this are the daemon's own descriptors (inotify, signals).
    static let firstToken: UInt64 = 16

    private var runs: [String: Run] = [:]
    private var watches: [UInt64: ProcessWatch] = [:]
    private var tokens: [String: UInt64] = [:]
    private var nextToken = Self.firstToken

    /// The run of agent `id`, if one is watched.
    subscript(id: String) -> Run? { runs[id] }

    /// Every watched run, by agent.
    var all: [String: Run] { runs }

    /// True when no process is watched.
    var hasNoProcesses: Bool { watches.isEmpty }

    /// Agents whose run is a batch job, with the job.
    var jobs: [(id: String, job: String)] {
        runs.compactMap { id, run in run.job.map { (id, $0) } }.sorted { $0.id < $1.id }
    }

    /// Records `run` of agent `id`; returns the token to watch its pidfd under, for a process.
    mutating func insert(_ id: String, _ run: Run) -> UInt64? {
        runs[id] = run
        guard run.pid != nil else { return nil }
        let token = nextToken
        nextToken += 1
        tokens[id] = token
        return token
    }

    /// Records the pidfd watch of the process under `token` (from `insert`).
    mutating func watch(_ watch: ProcessWatch, token: UInt64) {
        watches[token] = watch
    }

    /// The process watched under `token`.
    func process(token: UInt64) -> ProcessWatch? { watches[token] }

    /// The process watch of agent `id`'s run.
    func process(of id: String) -> ProcessWatch? { tokens[id].flatMap { watches[$0] } }

    /// Forgets agent `id`'s run; returns its process watch, whose pidfd the caller takes off
    /// epoll.
    @discardableResult
    mutating func remove(_ id: String) -> ProcessWatch? {
        runs[id] = nil
        guard let token = tokens.removeValue(forKey: id) else { return nil }
        return watches.removeValue(forKey: token)
    }
}
