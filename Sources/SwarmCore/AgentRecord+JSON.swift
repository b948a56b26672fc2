import SwarmProtocol

/// meta.json: every field of the record but the liveness counters, which start afresh after a
/// restart, and an orchestrator's children, which are derived from the children's own
/// `parent` (one place for the relation, so that no crash can separate the two).
/// `tokensUsed` and `costUsed` are the totals, the current run included; `runTokens` and
/// `runCost` say how much of them that run reported, so a restart does not count it twice.
/// Written by hand over `JSONValue` (no Codable) because the runtime writes one
/// for every state change of every agent.
extension AgentRecord {
    /// The record as a JSON object; absent optionals are left out.
    public var json: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        if let parent { o["parent"] = .string(parent) }
        o["depth"] = .integer(Int64(depth))
        o["kind"] = .string(kind.rawValue)
        o["role"] = .string(role)
        o["template"] = .string(template)
        o["priority"] = .string(priority.rawValue)
        o["slots"] = .integer(Int64(slots))
        o["state"] = .string(state.rawValue)
        o["attempts"] = .integer(Int64(attempts))
        o["runs"] = .integer(Int64(runs))
        o["sequence"] = .integer(Int64(sequence))
        o["policy"] = policy.json
        if let notBefore { o["notBefore"] = .integer(notBefore) }
        if let pid { o["pid"] = .integer(Int64(pid)) }
        if let job { o["job"] = .string(job) }
        if let jobState { o["jobState"] = .string(jobState) }
        o["active"] = .bool(active)
        if let stopping { o["stopping"] = .string(stopping.rawValue) }
        if let upstream { o["upstream"] = .string(upstream) }
        if !preferredUpstreams.isEmpty {
            o["preferredUpstreams"] = .array(preferredUpstreams.map { .string($0) })
        }
        if let minimumContext { o["minimumContext"] = .integer(Int64(minimumContext)) }
        o["createdAt"] = .integer(createdAt)
        if let startedAt { o["startedAt"] = .integer(startedAt) }
        if let finishedAt { o["finishedAt"] = .integer(finishedAt) }
        if let lastFailure { o["lastFailure"] = .string(lastFailure) }
        if let lastFailureKind { o["lastFailureKind"] = .string(lastFailureKind.rawValue) }
        o["pendingWakes"] = .array(pendingWakes.map { .string($0.description) })
        o["refusals"] = .array(
            refusals.map { .object(["name": .string($0.name), "reason": .string($0.reason)]) })
        if let deliveredAt { o["deliveredAt"] = .integer(deliveredAt) }
        o["consumed"] = .bool(consumed)
        if let confinement { o["confinement"] = .string(confinement.description) }
        if let git { o["git"] = git.json }
        if let session { o["session"] = .string(session) }
        if runs > 0 { o["start"] = .string(resumed ? "resume" : "fresh") }
        if let reads { o["reads"] = .string(reads.text) }
        if let network { o["network"] = .string(network.text) }
        if let tokenBudget { o["tokenBudget"] = .integer(tokenBudget) }
        if let costBudget { o["costBudget"] = .number(costBudget) }
        o["tokensUsed"] = .integer(totalTokens)
        o["costUsed"] = .number(totalCost)
        // the current run's part of those totals: its next report (a running total) replaces it
        if runTokens != 0 { o["runTokens"] = .integer(runTokens) }
        if runCost != 0 { o["runCost"] = .number(runCost) }
        return .object(o)
    }

    /// The record in a meta.json object; nil when a required field is missing or malformed.
    public init?(json value: JSONValue) {
        guard let id = value["id"]?.stringValue, let depth = value["depth"]?.intValue,
            let kind = value["kind"]?.stringValue.flatMap(AgentKind.init(rawValue:)),
            let role = value["role"]?.stringValue, let template = value["template"]?.stringValue,
            let priority = value["priority"]?.stringValue.flatMap(Priority.init(rawValue:)),
            let slots = value["slots"]?.intValue,
            let state = value["state"]?.stringValue.flatMap(AgentState.init(rawValue:)),
            let createdAt = value["createdAt"]?.intValue
        else { return nil }
        self.init(
            id: id, parent: value["parent"]?.stringValue, depth: Int(depth), kind: kind, role: role,
            template: template, priority: priority, slots: Int(slots),
            policy: value["policy"].flatMap(FailurePolicy.init(json:)) ?? .standard, createdAt: createdAt)
        self.state = state
        attempts = Int(value["attempts"]?.intValue ?? 0)
        runs = Int(value["runs"]?.intValue ?? Int64(attempts))
        sequence = Int(value["sequence"]?.intValue ?? 0)
        notBefore = value["notBefore"]?.intValue
        pid = value["pid"]?.intValue.map { Int32(truncatingIfNeeded: $0) }
        job = value["job"]?.stringValue
        jobState = value["jobState"]?.stringValue
        active = value["active"]?.boolValue ?? false
        stopping = value["stopping"]?.stringValue.flatMap(StopReason.init(rawValue:))
        upstream = value["upstream"]?.stringValue
        preferredUpstreams =
            value["preferredUpstreams"]?.arrayValue?.compactMap(\.stringValue)
            ?? value["preferredUpstream"]?.stringValue.map { [$0] } ?? []
        minimumContext = value["minimumContext"]?.intValue.map { Int($0) }
        startedAt = value["startedAt"]?.intValue
        finishedAt = value["finishedAt"]?.intValue
        lastFailure = value["lastFailure"]?.stringValue
        lastFailureKind = value["lastFailureKind"]?.stringValue.flatMap(FailureKind.init(rawValue:))
        pendingWakes =
            value["pendingWakes"]?.arrayValue?.compactMap { $0.stringValue.flatMap(WakeReason.init) } ?? []
        refusals = (value["refusals"]?.arrayValue ?? []).compactMap { item in
            guard let name = item["name"]?.stringValue, let reason = item["reason"]?.stringValue else {
                return nil
            }
            return Refusal(name: name, reason: reason)
        }
        deliveredAt = value["deliveredAt"]?.intValue
        consumed = value["consumed"]?.boolValue ?? false
        confinement = value["confinement"]?.stringValue.flatMap(RunConfinement.init)
        git = value["git"].flatMap(GitBinding.init(json:))
        session = value["session"]?.stringValue
        resumed = value["start"]?.stringValue == "resume"
        reads = value["reads"]?.stringValue.flatMap(ReadRule.parse)
        network = value["network"]?.stringValue.flatMap(NetworkRule.parse)
        tokenBudget = value["tokenBudget"]?.intValue
        costBudget = value["costBudget"]?.doubleValue
        runTokens = value["runTokens"]?.intValue ?? 0
        runCost = value["runCost"]?.doubleValue ?? 0
        tokensUsed = (value["tokensUsed"]?.intValue ?? 0) - runTokens
        costUsed = (value["costUsed"]?.doubleValue ?? 0) - runCost
    }
}

extension FailurePolicy {
    /// `{"actions": {kind: action}, "backoff": [base, cap]}`.
    public var json: JSONValue {
        var actions = JSONObject()
        for kind in FailureKind.allCases { actions[kind.rawValue] = .string(action(for: kind).text) }
        return .object([
            "actions": .object(actions),
            "backoff": .array([.integer(backoffBaseMilliseconds), .integer(backoffCapMilliseconds)]),
        ])
    }

    /// The policy in a meta.json; unknown or missing rules keep the standard ones.
    public init?(json value: JSONValue) {
        guard value.objectValue != nil else { return nil }
        var policy = FailurePolicy.standard
        for entry in value["actions"]?.objectValue?.entries ?? [] {
            if let kind = FailureKind(rawValue: entry.key), let text = entry.value.stringValue,
                let action = FailureAction.parse(text)
            {
                policy.actions[kind] = action
            }
        }
        if let backoff = value["backoff"]?.arrayValue, backoff.count == 2,
            let base = backoff[0].intValue, let cap = backoff[1].intValue
        {
            policy.backoffBaseMilliseconds = base
            policy.backoffCapMilliseconds = cap
        }
        self = policy
    }
}
