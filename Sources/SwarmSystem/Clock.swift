@preconcurrency import Glibc

/// The two clocks the runtime reads: wall time for what people see, monotonic time for
/// measuring intervals (it never jumps when the wall clock is set).
public enum Clock {
    /// Milliseconds since the Unix epoch (`CLOCK_REALTIME`).
    public static func wallMilliseconds() -> Int64 {
        let time = read(CLOCK_REALTIME)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// Nanoseconds since an arbitrary fixed point, typically boot (`CLOCK_MONOTONIC`).
    public static func monotonicNanoseconds() -> UInt64 {
        let time = read(CLOCK_MONOTONIC)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// `clock_gettime(2)`, which cannot fail for these clocks.
    private static func read(_ clock: clockid_t) -> timespec {
        var time = timespec()
        clock_gettime(clock, &time)
        return time
    }
}
