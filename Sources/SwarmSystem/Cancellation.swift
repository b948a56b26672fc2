@preconcurrency import Glibc
import Synchronization

/// A flag another thread sets to stop a piece of work early: a helper command run with it
/// (`CommandRunner.run(…, cancellation:)`) has its process group killed when it is set, and
/// one started after it was set is not started at all.
public final class Cancellation: Sendable {
    private struct State {
        var cancelled = false
        var group: Int32?
    }
    private let state = Mutex(State())

    public init() {}

    /// True once `cancel` was called.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Sets the flag and sends SIGKILL to the process group of the command running under it.
    public func cancel() {
        let group = state.withLock { state -> Int32? in
            state.cancelled = true
            return state.group
        }
        if let group { _ = Processes.signalGroup(group, SIGKILL) }
    }

    /// Records the group of a command just started; false (and nothing recorded) when the
    /// work was cancelled meanwhile, so the caller kills it at once.
    func started(group: Int32) -> Bool {
        state.withLock { state in
            guard !state.cancelled else { return false }
            state.group = group
            return true
        }
    }

    /// Forgets the group of a command that ended.
    func ended() {
        state.withLock { $0.group = nil }
    }
}
