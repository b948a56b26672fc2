import CSwarmShims
@preconcurrency import Glibc

/// An epoll instance: the one place the event loop waits for any of its descriptors
/// (inotify, pidfds, the signal channel) to become readable.
public struct Epoll: ~Copyable, Sendable {
    private let descriptor: FileDescriptor

    /// Creates an instance with `EPOLL_CLOEXEC`.
    public init() throws(Errno) {
        let raw = try retryingInterrupts { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        descriptor = FileDescriptor(adopting: raw)
    }

    /// The epoll descriptor (itself pollable).
    public var rawValue: Int32 { descriptor.rawValue }

    /// Starts watching `fd` for readability (`EPOLLIN`, level-triggered); `wait` reports
    /// `token` while it is readable. Hang-ups and errors are reported the same way.
    /// Fails with `.fileExists` when `fd` is already registered.
    public func add(_ fd: Int32, token: UInt64) throws(Errno) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = token
        _ = try retryingInterrupts { epoll_ctl(descriptor.rawValue, EPOLL_CTL_ADD, fd, &event) }
    }

    /// Stops watching `fd`. Errors (not registered, already closed) are ignored. Remove a
    /// descriptor before closing it: epoll tracks the open file, not the number, so a
    /// closed descriptor whose file is still open elsewhere would keep reporting.
    public func remove(_ fd: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(descriptor.rawValue, EPOLL_CTL_DEL, fd, &event)
    }

    /// Waits until at least one watched descriptor is readable or `timeoutMilliseconds`
    /// pass (-1 waits forever, 0 only looks), and returns the tokens of those ready, at
    /// most `maxEvents`. Returns `[]` on timeout and when a signal interrupts the wait.
    public func wait(timeoutMilliseconds: Int32, maxEvents: Int = 256) throws(Errno) -> [UInt64] {
        var events = [epoll_event](repeating: epoll_event(), count: max(1, maxEvents))
        let count = epoll_wait(descriptor.rawValue, &events, Int32(events.count), timeoutMilliseconds)
        if count == -1 {
            let error = Errno.current
            if error == .interrupted { return [] }
            throw error
        }
        return events[..<Int(count)].map { $0.data.u64 }
    }
}
