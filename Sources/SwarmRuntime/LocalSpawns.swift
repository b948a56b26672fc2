import SwarmSystem

/// Starts of local runs, made off the daemon's loop on lanes of `BackgroundWork`, each new
/// process handed to a continuation on the loop's thread.
///
/// A start waits for its child: `vfork` returns only once the child has executed the command
/// (after opening its logs, taking its place in a new session and, confined, applying its
/// Landlock ruleset), a good part of a millisecond. On a lane of its own that wait overlaps
/// with the loop's work: the loop reaps, judges and takes in tasks meanwhile. A small pool of
/// lanes lets a burst of starts overlap with each other as well.
///
/// A start is not stopped when the daemon stops: one under way runs to its end and its agent
/// is left running like the others; one still waiting for a lane never starts.
final class LocalSpawns {
    /// Starts at once.
    static let lanes = 4

    private let background: BackgroundWork
    private var freeLanes: [String]
    /// Starts waiting for a free lane, oldest first, each with what sends it on a lane.
    private var waiting: [(id: String, send: (String) -> Void)] = []
    /// The agents whose start is under way or waits for a lane.
    private(set) var starting: Set<String> = []

    init(background: BackgroundWork) {
        self.background = background
        freeLanes = (1...Self.lanes).reversed().map { "spawn \($0)" }
    }

    /// Starts `spec` with `launcher`; `then` gets the pid or why the run cannot start.
    func start(
        _ spec: LaunchSpec, with launcher: LocalLauncher, then: @escaping (Result<Int32, SwarmError>) -> Void
    ) {
        let id = spec.id
        starting.insert(id)
        let send: (String) -> Void = { [weak self] lane in
            self?.background.submit(lane: lane) { cancellation in
                Self.spawn(spec, with: launcher, cancellation: cancellation)
            } then: { [weak self] result in
                self?.starting.remove(id)
                self?.freed(lane)
                then(result)
            }
        }
        if let lane = freeLanes.popLast() { send(lane) } else { waiting.append((id, send)) }
    }

    /// One start, as a lane runs it: none once the daemon stops.
    static func spawn(_ spec: LaunchSpec, with launcher: LocalLauncher, cancellation: Cancellation) -> Result<
        Int32, SwarmError
    > {
        guard !cancellation.isCancelled else { return .failure(SwarmError("the daemon is stopping")) }
        do {
            return .success(try launcher.spawn(spec))
        } catch {
            return .failure(error)
        }
    }

    private func freed(_ lane: String) {
        if waiting.isEmpty {
            freeLanes.append(lane)
        } else {
            waiting.removeFirst().send(lane)
        }
    }
}
