import Dispatch
import SwarmSystem
import Synchronization

/// Work the loop's thread must not wait for (landing a result and its `verify:` check), run
/// on serial lanes of their own threads. A finished piece rings a `Wakeup` the loop watches;
/// the loop then carries out each piece's continuation, on its own thread, in the order the
/// pieces finished. Pieces of one lane run one at a time, in the order they were submitted.
final class BackgroundWork {
    /// Results handed from the lanes' threads to the loop.
    private final class Outbox: Sendable {
        let wakeup: Wakeup
        let finished = Mutex<[(id: UInt64, value: any Sendable)]>([])

        init(wakeup: Wakeup) {
            self.wakeup = wakeup
        }

        /// Hands over a finished piece. The wake-up rings for the first piece since the loop
        /// last took them, under the same lock as `takeAll`, so the loop is never woken for
        /// pieces it has already taken.
        func post(_ id: UInt64, _ value: any Sendable) {
            finished.withLock { finished in
                finished.append((id, value))
                if finished.count == 1 { wakeup.ring() }
            }
        }

        /// Every piece finished since the last call, and the wake-up quiet again.
        func takeAll() -> [(id: UInt64, value: any Sendable)] {
            finished.withLock { finished in
                wakeup.take()
                defer { finished.removeAll() }
                return finished
            }
        }
    }

    private let outbox: Outbox
    private var lanes: [String: DispatchQueue] = [:]
    private var continuations: [UInt64: (any Sendable) -> Void] = [:]
    private var cancellations: [UInt64: Cancellation] = [:]
    private var lastID: UInt64 = 0

    /// Sets up the wake-up descriptor; throws what `eventfd` fails with.
    init() throws(Errno) {
        outbox = Outbox(wakeup: try Wakeup())
    }

    /// The descriptor that becomes readable when a piece finished.
    var descriptor: Int32 { outbox.wakeup.rawValue }

    /// Pieces submitted whose continuation has not run yet.
    var pending: Int { continuations.count }

    /// Runs `work` on `lane` and later `then` with its result on the loop's thread (from
    /// `takeFinished`). `work` gets the returned `Cancellation`, which `cancelAll` also sets.
    @discardableResult
    func submit<Value: Sendable>(
        lane: String, _ work: @escaping @Sendable (Cancellation) -> Value, then: @escaping (Value) -> Void
    ) -> Cancellation {
        lastID += 1
        let id = lastID
        let cancellation = Cancellation()
        continuations[id] = { value in
            if let value = value as? Value { then(value) }
        }
        cancellations[id] = cancellation
        let queue = lanes[lane] ?? DispatchQueue(label: "swarm." + lane)
        lanes[lane] = queue
        let outbox = outbox
        queue.async { outbox.post(id, work(cancellation)) }
        return cancellation
    }

    /// Waits until every piece submitted to `lane` so far has run (its continuation still
    /// waits for `takeFinished`). For a write that must land after them.
    func waitForLane(_ lane: String) {
        lanes[lane]?.sync {}
    }

    /// Carries out the continuations of the pieces that finished since the last call. Call it
    /// on the loop's thread when `descriptor` is readable.
    func takeFinished() {
        for (id, value) in outbox.takeAll() {
            cancellations[id] = nil
            continuations.removeValue(forKey: id)?(value)
        }
    }

    /// Asks every piece still running to stop (their helper commands are killed); their
    /// continuations never run. For a daemon that stops.
    func cancelAll() {
        for cancellation in cancellations.values { cancellation.cancel() }
        cancellations.removeAll()
        continuations.removeAll()
    }
}
