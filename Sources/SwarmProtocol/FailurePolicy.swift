/// Why an attempt failed, as the failure policy (template keys `on.KIND`) sees it.
public enum FailureKind: String, Sendable, CaseIterable {
    /// The command exited without a result (non-zero status, or zero and no results.json).
    case exit
    /// results.json broke the template's contract.
    case contract
    /// The runtime killed the agent (stuck, or `swarm kill`).
    case killed
    /// The agent reported `status: error`.
    case error
    /// The upstream API failed (rate limit, overload, server error, connection).
    case upstream
    /// The agent ran over its token or cost budget.
    case budget
    /// Its branch conflicts with the branch it merges into.
    case conflict
    /// The merged tree failed the `verify:` command.
    case verify
}

/// What to do after a failure of some kind.
public enum FailureAction: Sendable, Equatable {
    /// Run again up to N more times (with backoff), then dead-letter.
    case retry(Int)
    /// Give up: move everything to `swarm/dead-letter/<id>/` with a reason.
    case deadLetter
    /// Mark the task skipped; the parent is told it was rejected and goes on.
    case skip
    /// Mark the task failed and keep it where it is.
    case fail

    /// Reads `retry N` (N a whole number >= 0), `dead-letter`, `skip` or `fail`; surrounding
    /// whitespace and repeated spaces are accepted. Anything else gives nil.
    public static func parse(_ s: String) -> FailureAction? {
        let words = s.split(whereSeparator: \.isWhitespace).map(String.init)
        switch words.count {
        case 1:
            switch words[0] {
            case "dead-letter": return .deadLetter
            case "skip": return .skip
            case "fail": return .fail
            default: return nil
            }
        case 2:
            guard words[0] == "retry", words[1].isDigits, let count = Int(words[1]) else { return nil }
            return .retry(count)
        default:
            return nil
        }
    }

    /// The text `parse` reads: `retry 2`, `dead-letter`, `skip`, `fail`.
    public var text: String {
        switch self {
        case .retry(let count): return "retry \(count)"
        case .deadLetter: return "dead-letter"
        case .skip: return "skip"
        case .fail: return "fail"
        }
    }
}

/// What a template does after each kind of failure, and how long it waits before a retry.
///
/// Retries wait with capped exponential backoff and full jitter: before retry n (1-based)
/// the runtime waits a random time in `0...min(cap, base * 2^(n-1))`.
public struct FailurePolicy: Sendable, Equatable {
    /// The action per kind; a kind not listed uses `standard`'s action.
    public var actions: [FailureKind: FailureAction]
    /// The first backoff step (default 500 ms).
    public var backoffBaseMilliseconds: Int64
    /// The longest backoff (default 30 s).
    public var backoffCapMilliseconds: Int64

    /// Makes a policy.
    public init(
        actions: [FailureKind: FailureAction], backoffBaseMilliseconds: Int64 = 500,
        backoffCapMilliseconds: Int64 = 30_000
    ) {
        self.actions = actions
        self.backoffBaseMilliseconds = backoffBaseMilliseconds
        self.backoffCapMilliseconds = backoffCapMilliseconds
    }

    /// exit -> retry 2, contract -> retry 2, killed -> retry 1, error -> dead-letter,
    /// upstream -> retry 5, budget -> dead-letter, conflict -> retry 2, verify -> retry 1;
    /// backoff 500ms..30s.
    public static let standard = FailurePolicy(actions: [
        .exit: .retry(2), .contract: .retry(2), .killed: .retry(1), .error: .deadLetter,
        .upstream: .retry(5), .budget: .deadLetter, .conflict: .retry(2), .verify: .retry(1),
    ])

    /// The action for `kind`: this policy's, else the standard one.
    public func action(for kind: FailureKind) -> FailureAction {
        actions[kind] ?? FailurePolicy.standard.actions[kind] ?? .deadLetter
    }

    /// The longest wait before retry `attempt` (1 for the first retry): `Backoff`'s `min(cap,
    /// base * 2^(attempt-1))`. The scheduler draws the actual wait uniformly from `base...` this.
    public func backoffCeiling(attempt: Int) -> Int64 {
        Backoff(base: backoffBaseMilliseconds, cap: backoffCapMilliseconds).ceiling(failure: attempt)
    }

    /// Reads a backoff range `BASE..CAP` with durations such as `500ms..30s`; nil when
    /// either side is not a duration, the base is 0, or the cap is below the base.
    public static func parseBackoff(_ text: String) -> (base: Int64, cap: Int64)? {
        let parts = text.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].isEmpty, let base = DurationText.parse(String(parts[0])),
            let cap = DurationText.parse(String(parts[2])), base > 0, cap >= base
        else { return nil }
        return (base, cap)
    }
}
