import SwarmCore
import SwarmProtocol

/// One agent's usage as the simulation counts it: the runs that ended, summed, and the
/// current run's figures (the highest it reported: a run reports its running totals).
struct SimUsage: Equatable {
    var ended: Int64 = 0
    var run: Int64 = 0
    /// Costs are whole eighths of a dollar, so that their sums are exact.
    var endedCost: Double = 0
    var runCost: Double = 0

    /// A report of the current run.
    mutating func report(tokens: Int64?, cost: Double?) {
        if let tokens { run = max(run, tokens) }
        if let cost { runCost = max(runCost, cost) }
    }

    /// The current run ended: its figures join the ended runs'.
    mutating func endRun() {
        ended += run
        endedCost += runCost
        run = 0
        runCost = 0
    }
}

/// Usage reports and token and cost budgets in the simulation.
extension Simulation {
    /// `record` with random token and cost budgets (most tasks have none) and a random
    /// upstream preference.
    mutating func withBudgetsAndUpstream(_ record: AgentRecord) -> AgentRecord {
        var r = record
        if chance(35) { r.tokenBudget = Int64(int(500...12_000)) }
        if chance(25) { r.costBudget = Double(int(1...24)) / 8 }
        r.preferredUpstreams = randomPreference()
        return r
    }

    /// The running totals a process reports next: they grow (or stay) with every report.
    mutating func usage(of id: String) -> (Int64, Double) {
        guard var process = processes[id] else { return (0, 0) }
        process.tokens += Int64(int(0...1_500))
        process.cost += Double(int(0...3)) / 8
        processes[id] = process
        return (process.tokens, process.cost)
    }

    /// A run reports its usage (`.usage`, from its results or its CLI's output): mostly its
    /// current totals, now and then an older, smaller figure, one of the two missing, or a
    /// report for an agent with no run.
    mutating func reportUsage() {
        let running = processes.keys.sorted().filter { processes[$0]?.reported == true }
        guard let id = chance(95) ? pick(running) : pick(ids { !$0.active }) else { return tick() }
        var (tokens, cost) = usage(of: id)
        if chance(15) { tokens = Int64(int(0...Int(tokens))) }
        send(.usage(id: id, tokens: chance(85) ? tokens : nil, cost: chance(70) ? cost : nil))
    }

    /// Counts what `event` reports and ends, before the scheduler sees it. Returns the agents
    /// whose report the scheduler must take: those whose command runs.
    mutating func noteUsage(_ event: Event) -> [String] {
        switch event {
        case .usage(let id, let tokens, let cost):
            guard scheduler.agents[id]?.active == true else { return [] }
            truth[id, default: SimUsage()].report(tokens: tokens, cost: cost)
            known[id, default: SimUsage()].report(tokens: tokens, cost: cost)
            return [id]
        case .heartbeat(let seen):
            var reporters: [String] = []
            for id in seen.keys.sorted() where scheduler.agents[id]?.active == true {
                let lines = seen[id]!.newLines
                let tokens = lines.compactMap(\.tokens).max()
                let cost = lines.compactMap(\.cost).max()
                guard tokens != nil || cost != nil else { continue }
                truth[id, default: SimUsage()].report(tokens: tokens, cost: cost)
                known[id, default: SimUsage()].report(tokens: tokens, cost: cost)
                reporters.append(id)
            }
            return reporters
        case .exited(let id, _):
            if scheduler.agents[id]?.active == true {
                truth[id, default: SimUsage()].endRun()
                known[id, default: SimUsage()].endRun()
            }
            return []
        default:
            return []
        }
    }

    /// Usage invariants after one step: each agent counts exactly what its runs reported (its
    /// ended runs summed, its current run's highest figures), and never more than they really
    /// reported, across restarts too; every `over-budget` alert names an agent whose subtree
    /// is over its budget; and after a report, the highest agent above the reporter (itself
    /// included) whose budget is overrun is being stopped, has ended, or waits for its retry
    /// after a `budget` failure.
    mutating func checkUsage(_ reporters: [String], _ effects: [Effect]) {
        let agents = scheduler.agents
        for r in agents.values {
            let k = known[r.id] ?? SimUsage()
            let counted = SimUsage(
                ended: r.tokensUsed, run: r.runTokens, endedCost: r.costUsed, runCost: r.runCost)
            if counted != k {
                return fail("\(r.id) counts usage \(counted), but its runs reported \(k)")
            }
            let t = truth[r.id] ?? SimUsage()
            if r.totalTokens > t.ended + t.run || r.totalCost > t.endedCost + t.runCost {
                return fail("\(r.id) counts usage \(counted), more than its runs reported: \(t)")
            }
        }
        let overBudget = effects.alerts("over-budget").compactMap(\.agent)
        guard !reporters.isEmpty || !overBudget.isEmpty else { return }
        let children = Self.childrenByParent(agents.values)
        for id in overBudget where !overrun(id, children) {
            return fail("\(id) was said to be over budget, but \(describe(id))")
        }
        if !overBudget.isEmpty { count("over-budget") }
        for reporter in reporters {
            var highest: String?
            var cursor: String? = reporter
            while let id = cursor, let r = agents[id] {
                if overrun(id, children) { highest = id }
                cursor = r.parent
            }
            guard let x = highest, let r = agents[x] else { continue }
            let handled =
                r.state.isSettled || (r.state == .queued && r.lastFailureKind == .budget)
                || (r.active && r.stopping != nil)
            if !handled {
                return fail("\(x) is over its budget after a report of \(reporter), but \(describe(x))")
            }
        }
    }

    /// True when the subtree of `id` used more tokens or money than its budget.
    func overrun(_ id: String, _ children: [String: [String]]) -> Bool {
        guard let r = scheduler.agents[id], r.tokenBudget != nil || r.costBudget != nil else { return false }
        var tokens: Int64 = 0
        var cost: Double = 0
        var stack = [id]
        while let next = stack.popLast() {
            guard let a = scheduler.agents[next] else { continue }
            tokens += a.totalTokens
            cost += a.totalCost
            stack += children[next] ?? []
        }
        return r.tokenBudget.map { tokens > $0 } == true || r.costBudget.map { cost > $0 } == true
    }
}
