import SwarmCore
import SwarmProtocol

/// What `swarm report` shows, derived from a `ReportInput`: the same data for the HTML page
/// and for `--json`.
public struct ReportData: Sendable, Equatable {
    /// The timeline's first and last moment.
    public var start: Millis
    public var end: Millis
    /// When the report was made, and whether a daemon ran then (the timeline ends now).
    public var generatedAt: Millis
    public var live: Bool
    /// The workspace root.
    public var root: String
    /// One row per agent, in tree order (each orchestrator followed by its subtree).
    public var rows: [Row]
    /// Slots in use over time: the top pool first, then each orchestrator's subtree budget.
    public var slots: [SlotSeries]
    /// Each domain's breaker over time, with the upstream alerts.
    public var upstreams: [UpstreamLane]
    /// Every failed attempt, oldest first.
    public var failures: [Failure]
    /// Every dead letter, with its reason.md.
    public var deadLetters: [DeadLetterEntry]
    /// Alerts about no agent and no upstream (disk, inotify, Slurm, rejected inbox tasks).
    public var otherAlerts: [Mark]
    /// When daemons started and stopped.
    public var daemons: [Mark]
    /// Agents per end state (and per current state for those not settled).
    public var stateCounts: [String: Int]
    /// Whether the history covered the whole run (false: it starts after the first agent,
    /// rotated away, or there is none and the rows come from the records alone).
    public var historyComplete: Bool

    /// One agent's row.
    public struct Row: Sendable, Equatable {
        /// Who it is (meta.json): its id, its parent (nil at the top), its depth in the report
        /// (0 at the top), its kind, role and template.
        public var id: String
        public var parent: String?
        public var depth: Int
        public var kind: AgentKind
        public var role: String
        public var template: String
        /// Its state now (meta.json).
        public var state: AgentState
        /// meta.json's attempts, runs, subtree budget, arrival, end and last failure.
        public var attempts: Int
        public var runs: Int
        public var slots: Int
        public var createdAt: Millis
        public var finishedAt: Millis?
        public var lastFailure: String?
        /// What it spent itself, and with everything below it.
        public var tokens: Int64
        public var cost: Double
        public var subtreeTokens: Int64
        public var subtreeCost: Double
        /// Agents in its subtree, itself included.
        public var subtreeSize: Int
        /// Its subtree's agents by state, itself included.
        public var subtreeStates: [String: Int]
        /// What it did over time, oldest first.
        public var spans: [Span]
        /// Attempt starts after the first, and its alerts.
        public var marks: [Mark]
    }

    /// A stretch of time one agent spent in one phase.
    public struct Span: Sendable, Equatable {
        public var start: Millis
        public var end: Millis
        public var phase: Phase
        /// The attempt it belongs to (1 for the first), and the upstream of its run.
        public var attempt: Int
        public var upstream: String?
    }

    /// What an agent was doing.
    public enum Phase: String, Sendable, Equatable, CaseIterable {
        /// Accepted, waiting for a slot or an upstream.
        case queued
        /// Waiting out the backoff before a retry.
        case backoff
        /// Its command runs.
        case running
        /// An orchestrator between runs, waiting for its children.
        case idle
        /// It asked a question and waits for a person.
        case waiting
        /// The runtime is stopping it.
        case stopping
        /// Before the history begins (rotated away, or a run without one).
        case unrecorded
    }

    /// A moment on a row or a lane: an alert, an attempt start, an end, a daemon start.
    public struct Mark: Sendable, Equatable {
        /// When it happened.
        public var time: Millis
        /// An alert kind, `attempt`, `end`, `daemon-started` or `daemon-stopped`.
        public var kind: String
        /// What happened, in words (an alert's message).
        public var text: String
        /// For an `end`: the state the agent ended in.
        public var state: AgentState? = nil
    }

    /// Slots in use in one budget: steps of (time, used).
    public struct SlotSeries: Sendable, Equatable {
        /// `""` for the top pool, else the orchestrator's id.
        public var holder: String
        /// The budget's size.
        public var total: Int
        /// The top pool's reserve (urgent work only); 0 for an orchestrator.
        public var reserve: Int
        /// The steps, oldest first, and the most held at once.
        public var points: [SlotPoint]
        public var peak: Int
    }

    /// Slots used from `time` on.
    public struct SlotPoint: Sendable, Equatable {
        /// From when, and how many slots are held.
        public var time: Millis
        public var used: Int
    }

    /// One failure domain's breaker over time.
    public struct UpstreamLane: Sendable, Equatable {
        /// The domain (empty for alerts that name none), its upstreams, its breaker's
        /// states over time and the upstream alerts about it.
        public var domain: String
        public var upstreams: [String]
        public var spans: [BreakerSpan]
        public var marks: [Mark]
    }

    /// A stretch of one breaker state.
    public struct BreakerSpan: Sendable, Equatable {
        /// From when to when the breaker was in `state`.
        public var start: Millis
        public var end: Millis
        public var state: BreakerState
    }

    /// One failed attempt.
    public struct Failure: Sendable, Equatable {
        /// When the attempt ended, whose it was, its number, its failure class and reason.
        public var time: Millis
        public var agent: String
        public var attempt: Int
        public var kind: String
        public var reason: String
        /// What followed: `retry`, or the state it ended in.
        public var outcome: String
    }

    /// One dead letter.
    public struct DeadLetterEntry: Sendable, Equatable {
        /// The agent, and the text of its reason.md.
        public var agent: String
        public var reason: String
    }
}
