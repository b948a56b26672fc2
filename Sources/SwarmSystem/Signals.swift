import CSwarmShims
@preconcurrency import Glibc

/// Signal numbers and process-wide signal dispositions.
public enum Signal {
    /// `SIGTERM`: asks a process to stop.
    public static let terminate = SIGTERM
    /// `SIGINT`: Ctrl-C at a terminal.
    public static let interrupt = SIGINT
    /// `SIGHUP`: the terminal went away; daemons take it as "reload".
    public static let hangup = SIGHUP
    /// `SIGKILL`: stops a process unconditionally.
    public static let kill = SIGKILL
    /// `SIGCHLD`: a child process changed state.
    public static let child = SIGCHLD
    /// `SIGPIPE`: a write to a pipe or socket that nobody reads.
    public static let pipe = SIGPIPE
    /// `SIGUSR1`: user-defined.
    public static let user1 = SIGUSR1

    /// Sets the disposition of `sig` to "ignore" for the whole process (`SIG_IGN`).
    /// Ignore `pipe` so that writing to a closed pipe fails with `EPIPE` instead of
    /// killing the process. Children spawned by `Spawner` get default dispositions back.
    public static func ignore(_ sig: Int32) {
        _ = swarm_signal_ignore(sig)
    }

    /// Sends `sig` to the calling thread (`raise(3)`). While the thread blocks `sig`, it
    /// stays pending there, where a `SignalChannel` created on that thread reads it.
    public static func raise(_ sig: Int32) {
        _ = Glibc.raise(sig)
    }

    /// The conventional name, e.g. "SIGTERM"; "signal N" for numbers without one.
    public static func name(_ sig: Int32) -> String {
        guard let abbreviation = swarm_signal_abbreviation(sig) else { return "signal \(sig)" }
        return "SIG" + String(cString: abbreviation)
    }
}

/// Signals received as data: a non-blocking `signalfd` that becomes readable when one of
/// its signals is pending, so the event loop handles signals like any other event.
///
/// The signals must stay blocked in every thread, or the kernel may deliver them to a
/// thread's handler (or default action) instead of the descriptor. `init` blocks them in
/// the calling thread only; create the channel on the main thread before any other
/// thread starts, so that threads created later inherit the mask.
public struct SignalChannel: ~Copyable, Sendable {
    private let descriptor: FileDescriptor

    /// Blocks `signals` in the calling thread (`pthread_sigmask`), then opens a signalfd
    /// for them with `SFD_NONBLOCK | SFD_CLOEXEC`.
    public init(_ signals: [Int32]) throws(Errno) {
        var set = sigset_t()
        sigemptyset(&set)
        for sig in signals {
            guard sigaddset(&set, sig) == 0 else { throw Errno.current }
        }
        try checkReturnedError(pthread_sigmask(SIG_BLOCK, &set, nil))
        let raw = try retryingInterrupts { swarm_signalfd(&set) }
        descriptor = FileDescriptor(adopting: raw)
    }

    /// The signalfd, for polling.
    public var rawValue: Int32 { descriptor.rawValue }

    /// The signals received since the last read, in order; `[]` when there is none.
    /// A signal sent several times before a read may appear once (signals are not queued).
    public func read() -> [Int32] {
        let recordSize = swarm_signalfd_record_size()
        var signals: [Int32] = []
        while let chunk = try? FileDescriptor.read(from: descriptor.rawValue, upTo: recordSize * 16),
            chunk.count >= recordSize
        {
            chunk.withUnsafeBytes { bytes in
                for offset in stride(from: 0, through: chunk.count - recordSize, by: recordSize) {
                    signals.append(Int32(swarm_signalfd_record_signal(bytes.baseAddress! + offset)))
                }
            }
        }
        return signals
    }
}
