import SwarmProtocol

/// Token and cost budgets per branch: an agent's usage counts against its own budget and
/// against the budget of every orchestrator above it.
extension Scheduler {
    mutating func reportUsage(_ id: String, tokens: Int64?, cost: Double?) {
        guard let r = agents[id], r.active else { return }
        update(id, persist: false) { r in
            if let tokens { r.runTokens = max(r.runTokens, tokens) }
            if let cost { r.runCost = max(r.runCost, cost) }
        }
        enforceBudgets(from: id)
    }

    /// Tokens and cost used by `id` and everything below it.
    public func subtreeUsage(_ id: String) -> (tokens: Int64, cost: Double) {
        guard let r = agents[id] else { return (0, 0) }
        var tokens = r.totalTokens
        var cost = r.totalCost
        for child in r.children {
            let below = subtreeUsage(child)
            tokens += below.tokens
            cost += below.cost
        }
        return (tokens, cost)
    }

    /// Stops the highest agent on the way up from `id` whose budget its subtree has overrun,
    /// and everything below it at once: the subtree's spending is what overran the budget, so
    /// it must not go on while the agent's own run winds down (a Slurm job's cancel takes a
    /// while).
    mutating func enforceBudgets(from id: String) {
        var current: String? = id
        var overrun: (id: String, reason: String)?
        while let candidate = current, let r = agents[candidate] {
            let used = subtreeUsage(candidate)
            if let budget = r.tokenBudget, used.tokens > budget {
                overrun = (candidate, "used \(used.tokens) tokens of its budget of \(budget)")
            } else if let budget = r.costBudget, used.cost > budget {
                overrun = (candidate, "used $\(used.cost) of its budget of $\(budget)")
            }
            current = r.parent
        }
        guard let (target, reason) = overrun, let r = agents[target], !r.state.isSettled else { return }
        if r.active {
            guard r.stopping == nil || r.stopping == .stuck else { return }
            update(target) { r in
                r.stopping = .overBudget
                r.lastFailure = reason
            }
            emitAlert(.overBudget, target, "\(target) \(reason); stopping it")
            effects.append(.stop(id: target))
            stopDescendants(of: target)
        } else {
            emitAlert(.overBudget, target, "\(target) \(reason)")
            fail(target, .budget, reason)
        }
    }
}
