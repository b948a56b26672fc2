/// The one backoff formula of the runtime: a wait that doubles from `base` at every failure in
/// a row, capped at `cap`. Retries of failed tasks draw their wait below it (full jitter); the
/// daemon's own waits (a Slurm controller that does not answer, a tree that takes no writes)
/// use it as it is.
public struct Backoff: Sendable, Equatable {
    /// The first wait, in milliseconds (at least 1).
    public var base: Int64
    /// The longest wait, in milliseconds (at least `base`).
    public var cap: Int64

    public init(base: Int64, cap: Int64) {
        self.base = max(1, base)
        self.cap = max(self.base, cap)
    }

    /// The wait after failure `failure` in a row (1 for the first): `min(cap, base * 2^(failure-1))`.
    public func ceiling(failure: Int) -> Int64 {
        let exponent = min(max(failure - 1, 0), 62)
        let (scaled, overflow) = base.multipliedReportingOverflow(by: Int64(1) << exponent)
        return overflow ? cap : min(cap, scaled)
    }
}
