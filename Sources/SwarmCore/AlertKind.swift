/// The kind of an alert (`kind` in alerts.jsonl, `SWARM_ALERT_KIND`); HEARTBEAT.md says what
/// each means and what to do.
public enum AlertKind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case investigate
    case killed
    case spinning
    case looping
    case waitingForHuman = "waiting-for-human"
    case orphanedResult = "orphaned-result"
    case contractViolation = "contract-violation"
    case deadLetter = "dead-letter"
    case budgetRefused = "budget-refused"
    case rejectedTask = "rejected-task"
    case overBudget = "over-budget"
    case upstreamIncident = "upstream-incident"
    case upstreamDisabled = "upstream-disabled"
    case upstreamRecovered = "upstream-recovered"
    case usageLimit = "usage-limit"
    case watchDegraded = "watch-degraded"
    case slurmUnavailable = "slurm-unavailable"
    case slurmRecovered = "slurm-recovered"
    case diskFull = "disk-full"
    case writeFailed = "write-failed"
    case diskRecovered = "disk-recovered"
    case mergeKept = "merge-kept"

    /// The kind's word, as alerts.jsonl writes it.
    public var description: String { rawValue }
}
