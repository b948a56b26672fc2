import SwarmProtocol

@testable import SwarmCore

/// The scheduler's own bookkeeping, recomputed from the records after every step.
extension Simulation {
    /// `queuedChildren`, `unsettled` and `backoffs` hold what the records say; every sequence number is
    /// taken once and below the next one; each children list is the records naming that
    /// parent, in arrival order; an agent that ended done stays done.
    mutating func checkCounters() {
        var queuedChildren = 0
        var unsettled = 0
        var sequences: Set<Int> = []
        var backoffs: [String: Millis] = [:]
        for r in scheduler.agents.values {
            if r.state == .queued && r.parent != nil { queuedChildren += 1 }
            if r.state == .queued, let due = r.notBefore { backoffs[r.id] = due }
            if !r.state.isSettled { unsettled += 1 }
            if r.sequence >= scheduler.nextSequence || !sequences.insert(r.sequence).inserted {
                return fail(
                    "sequence \(r.sequence) of \(r.id) is taken twice or not below \(scheduler.nextSequence)")
            }
            if r.state == .done { done.insert(r.id) }
        }
        if queuedChildren != scheduler.queuedChildren {
            return fail("queuedChildren is \(scheduler.queuedChildren), the records say \(queuedChildren)")
        }
        if unsettled != scheduler.unsettled || scheduler.isIdle != (unsettled == 0) {
            return fail("unsettled is \(scheduler.unsettled), the records say \(unsettled)")
        }
        if backoffs != scheduler.backoffs {
            return fail("backoffs are \(scheduler.backoffs), the records say \(backoffs)")
        }
        let children = Self.childrenByParent(scheduler.agents.values)
        for r in scheduler.agents.values where r.children != children[r.id] ?? [] {
            return fail(
                "\(r.id) lists children \(r.children), its children's records say \(children[r.id] ?? [])")
        }
        for id in done where scheduler.agents[id]?.state != .done {
            return fail("\(id) ended done, and now \(describe(id))")
        }
    }

    /// A rebuilt scheduler counts what the one before the restart counted.
    mutating func compareCounters(_ rebuilt: Scheduler, _ before: Scheduler) {
        if rebuilt.queuedChildren != before.queuedChildren || rebuilt.unsettled != before.unsettled
            || rebuilt.backoffs != before.backoffs
        {
            fail(
                "a rebuilt scheduler counts \(rebuilt.queuedChildren) queued children, \(rebuilt.unsettled) "
                    + "unsettled agents and \(rebuilt.backoffs.count) backoffs; before: \(before.queuedChildren), "
                    + "\(before.unsettled) and \(before.backoffs.count)")
        }
    }
}
