import SwarmProtocol

/// Something the scheduler asks the shell to do. Effects are plain data, carried out in order.
public enum Effect: Sendable, Equatable {
    /// Create the new agent's folder, brief and meta.json; link it under its parent.
    case accept(id: String)
    /// Refuse a new task for good: move it to the rejected (or the parent's refused) place
    /// with the reason beside it.
    case refuse(AgentRecord, reason: String)
    /// Run the agent's command. `wake` lists why (for orchestrators).
    case start(id: String, wake: [WakeReason])
    /// Stop the agent's whole process tree: SIGTERM, then SIGKILL after the grace period.
    case stop(id: String)
    /// Write the agent's meta.json from its record.
    case persist(id: String)
    /// Record an alert (alerts.jsonl and the alert command).
    case alert(Alert)
    /// Keep everything about a task that failed for good in the dead-letter folder.
    case deadLetter(id: String, reason: String)
    /// Write an orchestrator's children.json: every child has settled.
    case fanIn(parent: String, children: [Settlement])
}

/// One alert line.
public struct Alert: Sendable, Equatable, Codable {
    public var time: Millis
    public var kind: AlertKind
    public var agent: String?
    public var message: String

    public init(time: Millis, kind: AlertKind, agent: String?, message: String) {
        self.time = time
        self.kind = kind
        self.agent = agent
        self.message = message
    }
}

/// How one child of an orchestrator ended, in the all-settled shape.
public struct Settlement: Sendable, Equatable {
    public enum Status: String, Sendable { case fulfilled, rejected, skipped }
    public var id: String
    public var status: Status
    /// For a rejected child: why.
    public var reason: String?
    /// The child's final state (or "refused" for a request that never became an agent).
    public var state: String

    public init(id: String, status: Status, reason: String?, state: String) {
        self.id = id
        self.status = status
        self.reason = reason
        self.state = state
    }
}
