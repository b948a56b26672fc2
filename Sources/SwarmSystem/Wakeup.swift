import CSwarmShims
@preconcurrency import Glibc

/// An `eventfd(2)` counter: any thread may ring it, and the event loop, which watches its
/// descriptor in epoll, wakes up and takes the rings. Rings that come before the loop looks
/// add up to one wake-up.
public final class Wakeup: Sendable {
    /// The descriptor the loop watches for readability.
    public let rawValue: Int32

    /// A non-blocking, close-on-exec counter at zero.
    public init() throws(Errno) {
        rawValue = try retryingInterrupts { swarm_eventfd() }
    }

    deinit {
        _ = Glibc.close(rawValue)
    }

    /// Makes the descriptor readable until the next `take`. Safe from any thread.
    public func ring() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(rawValue, $0.baseAddress, $0.count) }
    }

    /// Resets the counter, so the descriptor stops being readable until the next ring.
    public func take() {
        var count: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &count) { Glibc.read(rawValue, $0.baseAddress, $0.count) }
    }
}
