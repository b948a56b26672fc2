import SwarmProtocol

/// meta.json holds every field but the liveness counters, which start afresh after a restart.
extension AgentRecord {
    private enum CodingKeys: String, CodingKey {
        case id, parent, depth, kind, role, template, priority, slots, state, attempts, runs
        case sequence, policy, notBefore, pid, active, stopping, upstream, preferredUpstream
        case createdAt, startedAt
        case finishedAt, lastFailure, lastFailureKind, pendingWakes, children, refusals
        case deliveredAt, consumed
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            parent: try c.decodeIfPresent(String.self, forKey: .parent),
            depth: try c.decode(Int.self, forKey: .depth),
            kind: try c.decode(AgentKind.self, forKey: .kind),
            role: try c.decode(String.self, forKey: .role),
            template: try c.decode(String.self, forKey: .template),
            priority: try c.decode(Priority.self, forKey: .priority),
            slots: try c.decode(Int.self, forKey: .slots),
            policy: try c.decodeIfPresent(FailurePolicy.self, forKey: .policy) ?? .standard,
            createdAt: try c.decode(Millis.self, forKey: .createdAt))
        state = try c.decode(AgentState.self, forKey: .state)
        attempts = try c.decodeIfPresent(Int.self, forKey: .attempts) ?? 0
        runs = try c.decodeIfPresent(Int.self, forKey: .runs) ?? attempts
        sequence = try c.decodeIfPresent(Int.self, forKey: .sequence) ?? 0
        notBefore = try c.decodeIfPresent(Millis.self, forKey: .notBefore)
        pid = try c.decodeIfPresent(Int32.self, forKey: .pid)
        active = try c.decodeIfPresent(Bool.self, forKey: .active) ?? false
        stopping = try c.decodeIfPresent(StopReason.self, forKey: .stopping)
        upstream = try c.decodeIfPresent(String.self, forKey: .upstream)
        preferredUpstream = try c.decodeIfPresent(String.self, forKey: .preferredUpstream)
        startedAt = try c.decodeIfPresent(Millis.self, forKey: .startedAt)
        finishedAt = try c.decodeIfPresent(Millis.self, forKey: .finishedAt)
        lastFailure = try c.decodeIfPresent(String.self, forKey: .lastFailure)
        lastFailureKind = try c.decodeIfPresent(FailureKind.self, forKey: .lastFailureKind)
        pendingWakes = try c.decodeIfPresent([String].self, forKey: .pendingWakes) ?? []
        children = try c.decodeIfPresent([String].self, forKey: .children) ?? []
        refusals = try c.decodeIfPresent([Refusal].self, forKey: .refusals) ?? []
        deliveredAt = try c.decodeIfPresent(Millis.self, forKey: .deliveredAt)
        consumed = try c.decodeIfPresent(Bool.self, forKey: .consumed) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encodeIfPresent(parent, forKey: .parent)
        try c.encode(depth, forKey: .depth)
        try c.encode(kind, forKey: .kind)
        try c.encode(role, forKey: .role)
        try c.encode(template, forKey: .template)
        try c.encode(priority, forKey: .priority)
        try c.encode(slots, forKey: .slots)
        try c.encode(state, forKey: .state)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(runs, forKey: .runs)
        try c.encode(sequence, forKey: .sequence)
        try c.encode(policy, forKey: .policy)
        try c.encodeIfPresent(notBefore, forKey: .notBefore)
        try c.encodeIfPresent(pid, forKey: .pid)
        try c.encode(active, forKey: .active)
        try c.encodeIfPresent(stopping, forKey: .stopping)
        try c.encodeIfPresent(upstream, forKey: .upstream)
        try c.encodeIfPresent(preferredUpstream, forKey: .preferredUpstream)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encodeIfPresent(startedAt, forKey: .startedAt)
        try c.encodeIfPresent(finishedAt, forKey: .finishedAt)
        try c.encodeIfPresent(lastFailure, forKey: .lastFailure)
        try c.encodeIfPresent(lastFailureKind, forKey: .lastFailureKind)
        try c.encode(pendingWakes, forKey: .pendingWakes)
        try c.encode(children, forKey: .children)
        try c.encode(refusals, forKey: .refusals)
        try c.encodeIfPresent(deliveredAt, forKey: .deliveredAt)
        try c.encode(consumed, forKey: .consumed)
    }
}
