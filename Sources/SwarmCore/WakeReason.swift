/// Why an agent's command runs: the first run of an attempt, or one of the reasons an idle
/// orchestrator is woken. Written in `SWARM_WAKE` and meta.json's `pendingWakes` as words:
/// `start`, `child-settled:<id>`, `refused:<name>`, `answered`, `heartbeat`, `recovered`, `message`,
/// `limit-reset`.
public enum WakeReason: Sendable, Hashable, CustomStringConvertible {
    /// The first run of an attempt.
    case start
    /// A child settled.
    case childSettled(String)
    /// A spawn request was refused.
    case refused(String)
    /// A person answered the question the orchestrator left before exiting.
    case answered
    /// The heartbeat's periodic wake-up.
    case heartbeat
    /// A restarted daemon wrote its children.json again.
    case recovered
    /// A person sent it a message (`swarm say`); the run's brief holds it.
    case message
    /// Its run before was cut short by its upstream's usage limit: this run takes it up again.
    case limitReset

    public var description: String {
        switch self {
        case .start: "start"
        case .childSettled(let id): "child-settled:" + id
        case .refused(let name): "refused:" + name
        case .answered: "answered"
        case .heartbeat: "heartbeat"
        case .recovered: "recovered"
        case .message: "message"
        case .limitReset: "limit-reset"
        }
    }

    /// The reason in its word form; nil for anything else.
    public init?(_ text: String) {
        switch text {
        case "start": self = .start
        case "answered": self = .answered
        case "heartbeat": self = .heartbeat
        case "recovered": self = .recovered
        case "message": self = .message
        case "limit-reset": self = .limitReset
        default:
            if text.hasPrefix("child-settled:") {
                self = .childSettled(String(text.dropFirst("child-settled:".count)))
            } else if text.hasPrefix("refused:") {
                self = .refused(String(text.dropFirst("refused:".count)))
            } else {
                return nil
            }
        }
    }
}

extension [WakeReason] {
    /// The reasons as `SWARM_WAKE` gives them: space separated.
    public var words: String { map(\.description).joined(separator: " ") }
}
