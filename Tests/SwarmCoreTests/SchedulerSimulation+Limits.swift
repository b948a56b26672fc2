import SwarmCore
import SwarmProtocol

/// A reloaded swarm.json in the simulation: new slot limits, role caps, depth, upstream
/// concurrency and breaker numbers, at a random moment.
extension Simulation {
    /// New limits that every known top-level task still fits (a task that fitted when it
    /// arrived is not stranded), with the same heartbeat rules and the same upstreams (their
    /// concurrency and the breaker numbers may change). Reloading changes no record, stops
    /// nothing and starts nothing; what already holds more than the new limits may keep it,
    /// and the checks see that it never grows.
    mutating func changeLimits() {
        var new = limits
        let reserve = int(0...2)
        let tops = scheduler.agents.values.filter { $0.parent == nil }
        let needed = tops.map { $0.footprint + ($0.priority == .urgent ? 0 : reserve) }.max() ?? 1
        new.maxSlots = max(int(1...8), needed, reserve + 1)
        new.reserve = reserve
        new.maxDepth = int(1...3)
        if !limits.roleSlots.isEmpty {
            let capped = tops.filter { $0.role == "capped" }.map(\.footprint).max() ?? 1
            new.roleSlots = ["capped": max(int(1...new.maxSlots), capped)]
        }
        for index in new.upstreams.indices where chance(40) {
            new.upstreams[index].concurrency = chance(50) ? int(1...4) : nil
        }
        if !new.upstreams.isEmpty && chance(30) { new.breaker = randomBreaker() }
        step += 1
        remember(
            .limits(
                "maxSlots \(new.maxSlots) reserve \(new.reserve) maxDepth \(new.maxDepth) roleSlots \(new.roleSlots) "
                    + "upstreams \(new.upstreams.map(describe))"))
        count("limits-reloaded")
        let before = scheduler
        scheduler.updateLimits(new)
        limits = new
        if scheduler.agents != before.agents || scheduler.queue != before.queue
            || nonZero(scheduler.used) != nonZero(before.used)
            || nonZero(scheduler.roleUsed) != nonZero(before.roleUsed)
        {
            return fail("reloading the limits changed the records or the budget counters")
        }
        var nodes: [String: SimNode] = [:]
        for r in scheduler.agents.values { nodes[r.id] = SimNode(r) }
        let (used, roleUsed, holding) = Self.recount(nodes)
        let notUrgent = holding.compactMap { nodes[$0] }.filter { $0.parent == nil && !$0.urgent }.map(
            \.footprint
        )
        .reduce(0, +)
        tolerate("top", used["", default: 0], new.maxSlots)
        tolerate("not-urgent", notUrgent, new.maxSlots - new.reserve)
        for (role, cap) in new.roleSlots { tolerate("role:" + role, roleUsed[role, default: 0], cap) }
        let effects = send(.tick)
        if failure == nil && !effects.stopped.isEmpty {
            fail("after reloading the limits, \(effects.stopped) were stopped")
        }
    }

    /// Budget `key` holds `held`, over its new limit: it may keep that much for now.
    mutating func tolerate(_ key: String, _ held: Int, _ limit: Int) {
        if held > limit {
            tolerance[key] = max(held, tolerance[key] ?? 0)
            count("limits-lowered-under-running-work")
        }
    }
}
