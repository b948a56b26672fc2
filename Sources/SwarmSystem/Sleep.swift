@preconcurrency import Glibc

extension Clock {
    /// Blocks the calling thread for `milliseconds` (nanosleep, resumed after a signal).
    public static func sleep(milliseconds: Int64) {
        guard milliseconds > 0 else { return }
        var request = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR {
            request = remaining
        }
    }

    /// Blocks the calling thread until a signal ends the process; uses no CPU.
    public static func sleepForever() -> Never {
        while true { pause() }
    }
}

extension Processes {
    /// Ends the process at once with `status`.
    public static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }
}
