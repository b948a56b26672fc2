import SwarmCore
import SwarmProtocol

/// The invariants the simulation checks after every event.
extension Simulation {
    /// A retry waits its backoff: at least the base and at most the cap (a rate limit's
    /// retry-after may stretch it up to the router's maxRetryAfter); an upstream failure with
    /// another upstream to go to retries at once.
    mutating func checkBackoff(_ before: AgentRecord) {
        guard let after = scheduler.agents[before.id], after.state == .queued, let due = after.notBefore
        else { return }
        if due == now && after.lastFailureKind == .upstream { return }
        let policy = after.policy
        let longest = max(
            policy.backoffBaseMilliseconds, policy.backoffCapMilliseconds,
            scheduler.router.policy.maxRetryAfter)
        let shortest = min(policy.backoffBaseMilliseconds, scheduler.router.policy.maxRetryAfter)
        if due - now > longest || due - now < shortest {
            fail("\(before.id) retries after \(due - now) ms, outside \(shortest)...\(longest)")
        }
    }

    /// A run that ends (an exit, or a start that failed) below an orchestrator that no longer
    /// runs ends the agent: it is never queued again below an ended orchestrator (where it
    /// would wait forever) nor below one queued for its retry. A run that ends while the
    /// scheduler stops it ends the way the stop says: killed (a person's kill, or its parent
    /// ended), or through the `killed` rule (stuck; killed below an ended parent).
    mutating func checkStopKept(_ event: Event, _ before: AgentRecord) {
        guard before.active, let after = scheduler.agents[before.id] else { return }
        if let parent = before.parent, !(scheduler.agents[parent]?.holdsSlots ?? false),
            !after.state.isSettled
        {
            return fail(
                "\(before.id) ended its run below \(parent), which does not run, but \(describe(before.id))")
        }
        guard let stopping = before.stopping else { return }
        let kept: Bool
        switch stopping {
        case .operatorKill, .parentEnded: kept = after.state == .killed
        case .stuck: kept = after.lastFailureKind == .killed || after.state == .killed
        case .overBudget: kept = after.lastFailureKind == .budget || after.state == .killed
        case .shutdown: kept = true
        }
        if !kept {
            return fail("\(before.id) was stopped (\(stopping.rawValue)) but ended \(describe(before.id))")
        }
        if case .startFailed = event { count("start-failed-while-stopping") }
    }

    /// Every check that follows one event.
    mutating func check(_ event: Event, _ effects: [Effect]) {
        checkEffects(event, effects)
        // A tick with no effects changed no record (admission changes records only by starting
        // something), so only what depends on the time is checked again.
        if failure == nil && !(event == .tick && effects.isEmpty) { checkState(after: event, effects) }
        if failure == nil { checkAdmission() }
    }

    /// What each effect promises: acceptances once, refusals with their alert, starts only
    /// of active agents with no process yet, stops only of processes, dead letters with
    /// their alert, fan-ins only once every child settled; one answer per arrival.
    mutating func checkEffects(_ event: Event, _ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .accept(let id):
                count("accept")
                if accepted.contains(id) { return fail("\(id) accepted twice") }
                if scheduler.agents[id] == nil { return fail("\(id) accepted but unknown") }
                accepted.insert(id)
                order.append(id)
                if chance(25) { batch.insert(id) }
            case .refuse(let record, let reason):
                count("refuse")
                if reason.hasSuffix("is being stopped") { count("refuse:parent-stopping") }
                if reason.isEmpty { return fail("\(record.id) refused without a reason") }
                let alerted = effects.alerts("budget-refused").contains {
                    ($0.agent == record.parent || $0.agent == record.id) && $0.message == reason
                }
                if !alerted { return fail("\(record.id) refused without a budget-refused alert") }
            case .start(let id, let wake):
                count("start")
                if wake.contains(.answered) { count("wake:answered") }
                if wake.contains(.message) { count("wake:message") }
                if let parent = scheduler.agents[id]?.parent,
                    effects.contains(.start(id: parent, wake: [.start]))
                {
                    count("child-starts-with-parent")
                }
                guard let r = scheduler.agents[id], r.active, r.state == .running || r.state == .waiting
                else {
                    return fail("started \(id), which is not active: \(describe(id))")
                }
                // A new attempt starts only below a parent that runs and is not being stopped
                // (an ancestor further up may be being stopped: its stop reaches this one
                // once the parent is stopped in turn).
                if wake == [.start], let parent = r.parent {
                    guard let p = scheduler.agents[parent], p.holdsSlots, p.stopping == nil else {
                        return fail("\(id) started below \(describe(parent))")
                    }
                    var cursor = p.parent
                    while let a = cursor, let ancestor = scheduler.agents[a] {
                        if ancestor.stopping != nil || !ancestor.holdsSlots {
                            count("start-below-stopping-ancestor")
                            break
                        }
                        cursor = ancestor.parent
                    }
                }
                if processes[id] != nil { return fail("two runs of \(id) at once") }
                if wake.isEmpty { return fail("\(id) started without a wake reason") }
                if limits.reserve > 0 && r.parent == nil && r.priority == .urgent && wake == [.start] {
                    let normal = scheduler.agents.values.filter {
                        $0.parent == nil && $0.holdsSlots && $0.priority != .urgent
                    }
                    if scheduler.used["", default: 0] > limits.maxSlots - limits.reserve && !normal.isEmpty {
                        count("urgent-in-reserve")
                    }
                }
                if r.runTokens != 0 || r.runCost != 0 {
                    return fail("\(id) starts a run with the usage of another: \(describe(id))")
                }
                starts += 1
                processes[id] = SimProcess(
                    at: now, batch: batch.contains(id), step: step, order: starts, wake: wake)
                evidence[id] = nil
                silence[id] = nil
                jobStates[id] = nil
            case .stop(let id):
                count("stop")
                if processes[id] == nil { return fail("stop for \(id), which has no process") }
                processes[id]?.stopRequested = true
            case .deadLetter(let id, _):
                count("deadLetter")
                if scheduler.agents[id]?.state != .deadLetter {
                    return fail("\(id) dead-lettered in another state")
                }
                if !effects.alerts("dead-letter").contains(where: { $0.agent == id }) {
                    return fail("\(id) dead-lettered without an alert")
                }
            case .fanIn(let parent, let children):
                count("fanIn")
                guard let p = scheduler.agents[parent] else { return fail("fan-in for unknown \(parent)") }
                if !p.children.allSatisfy({ scheduler.agents[$0]?.state.isSettled == true }) {
                    return fail("fan-in for \(parent) before every child settled")
                }
                if children.map(\.id) != p.children + p.refusals.map(\.name) {
                    return fail("fan-in of \(parent) lists \(children.map(\.id))")
                }
                for c in children
                where (c.status == .fulfilled) != (c.state == "done")
                    || (c.status == .skipped) != (c.state == "skipped")
                {
                    return fail("fan-in of \(parent): \(c)")
                }
            case .alert(let alert):
                count("alert:" + alert.kind.rawValue)
                if alert.time != now { return fail("alert \(alert.kind) at another time") }
            case .persist(let id):
                if scheduler.agents[id] == nil { return fail("persist of unknown \(id)") }
            }
        }
        if case .arrived(let record) = event {
            let answers = effects.filter {
                switch $0 {
                case .accept(let id): id == record.id
                case .refuse(let r, _): r.id == record.id
                default: false
                }
            }
            if answers.count != 1 { return fail("arrival of \(record.id) answered \(answers.count) times") }
        }
    }

    /// The budget counters as the records give them, by the holding rule: a worker holds 1 in
    /// its parent's budget while its command runs; an orchestrator holds 1 + slots while it
    /// holds its own (`holdsSlots`: from its start until it settles or is queued again) or
    /// while any of its children holds anything of its budget. Computed bottom-up from the
    /// records alone: every agent that holds its own makes each orchestrator above it hold
    /// too; then each holding agent counts its footprint in its parent's budget ("" is the
    /// top). Also the ids that hold.
    static func recount(
        _ nodes: [String: SimNode]
    ) -> (used: [String: Int], roleUsed: [String: Int], holding: Set<String>) {
        var holding: Set<String> = []
        for (id, node) in nodes where node.holdsSlots && !holding.contains(id) {
            holding.insert(id)
            var cursor = node.parent
            while let a = cursor, let ancestor = nodes[a], ancestor.orchestrator, !holding.contains(a) {
                holding.insert(a)
                cursor = ancestor.parent
            }
        }
        var used: [String: Int] = [:]
        var roleUsed: [String: Int] = [:]
        for id in holding {
            let node = nodes[id]!
            used[node.parent ?? "", default: 0] += node.footprint
            if node.parent == nil { roleUsed[node.role, default: 0] += node.footprint }
        }
        return (used, roleUsed, holding)
    }

    /// The invariants (a) to (d) and (f), after every event.
    mutating func checkState(after event: Event, _ effects: [Effect]) {
        let agents = scheduler.agents
        // a deferred start is undone: its attempt and run are the only counts that go back
        if case .startDeferred(let id, _, _) = event, let r = agents[id], r.state == .queued {
            count("start-deferred")
            if r.active || r.notBefore == nil { return fail("a deferred start left \(describe(id))") }
            counters[id] = (r.attempts, r.runs)
        }
        // a start that could not be recorded is undone without spending an attempt: a first
        // run goes back to the queue, a wake-up keeps its reasons
        // (or, when a stop was asked for meanwhile, ends it as a run that never began)
        if case .notStarted(let id, let wake, _) = event, let r = agents[id], !r.state.isSettled {
            count("not-started")
            let before = counters[id] ?? (0, 0)
            if r.active || r.runs != before.runs - 1
                || r.attempts != before.attempts - (wake == [.start] ? 1 : 0)
                || (wake != [.start] && !wake.allSatisfy(r.pendingWakes.contains))
            {
                return fail("a start that could not be recorded left \(describe(id))")
            }
            counters[id] = (r.attempts, r.runs)
        }
        // while the tree takes no writes, nothing starts
        if scheduler.startsHeld {
            count("starts-held")
            if effects.contains(where: { if case .start = $0 { true } else { false } }) {
                return fail("\(event) started a run while the tree takes no writes")
            }
        }

        // (c) every accepted id is an agent (each was checked when accepted, and records are
        // never removed), every queued agent is in the queue once, in order.
        if agents.count != accepted.count {
            return fail("agents \(agents.keys.sorted()) but accepted \(accepted.sorted())")
        }
        let queue = scheduler.queue
        var previous: (Int, Int)?
        for id in queue {
            guard let r = agents[id], r.state == .queued else {
                return fail("the queue holds \(id), which is not queued")
            }
            let key = (r.priority.rank, r.sequence)
            if let previous, !(previous < key) {
                return fail("the queue is out of order or holds an id twice: \(queue)")
            }
            previous = key
        }
        var queued = 0
        var nodes: [String: SimNode] = [:]
        nodes.reserveCapacity(agents.count)
        for r in agents.values {
            let id = r.id
            nodes[id] = SimNode(r)
            if r.state == .queued { queued += 1 }
            // (d) a process runs exactly for the active records; an active agent is running or
            // waiting; a worker that is running or waiting has its command running.
            if r.active && r.state != .running && r.state != .waiting {
                return fail("active in state \(r.state): \(describe(id))")
            }
            if r.kind == .worker && (r.state == .running || r.state == .waiting) && !r.active {
                return fail("a worker \(r.state.rawValue) without a command: \(describe(id))")
            }
            // (f) attempts and runs never go down.
            if r.attempts + r.runs > 0 {
                let seen = counters[id] ?? (0, 0)
                if r.attempts < seen.attempts || r.runs < seen.runs {
                    return fail("attempts or runs of \(id) went down")
                }
                if r.attempts != seen.attempts || r.runs != seen.runs {
                    counters[id] = (r.attempts, r.runs)
                }
            }
            // An idle orchestrator with reasons to run is running again (a waiting one runs
            // once it is answered), unless no upstream would take its run now.
            if r.kind == .orchestrator && r.state == .running && !r.active && !r.pendingWakes.isEmpty
                && !scheduler.startsHeld
            {
                if scheduler.router.isEmpty || upstreamFor(r) != nil {
                    return fail("\(id) is idle with reasons to run: \(describe(id))")
                }
                count("wake-waits-for-upstream")
            }
        }
        if queued != queue.count { return fail("the queue \(queue) is not the queued agents") }

        var activeCount = 0
        var activeBelow: [String: Int] = [:]
        for (id, node) in nodes {
            // Below an ended agent everything has ended or is on its way out (never queued
            // again: it could not get its parent's budget, and would wait forever).
            if let parent = node.parent, nodes[parent]?.settled == true, !node.settled,
                !(node.active && node.stopping)
            {
                return fail("\(id) lives on below the ended \(parent): \(describe(id))")
            }
            // Walk up from every active agent: count it against each ancestor. Below an
            // ancestor that no longer runs (ended, or queued for its retry), it or an agent
            // between must be being stopped.
            guard node.active else { continue }
            activeCount += 1
            var stopping = node.stopping
            var cursor = node.parent
            while let a = cursor, let ancestor = nodes[a] {
                if !ancestor.holdsSlots && !stopping {
                    return fail("\(id) runs on, not stopped, below \(a), which does not run: " + describe(id))
                }
                activeBelow[a, default: 0] += 1
                stopping = stopping || ancestor.stopping
                cursor = ancestor.parent
            }
        }
        if activeCount != processes.count {
            return fail("\(activeCount) agents active but \(processes.count) processes")
        }
        for (id, process) in processes {
            guard let node = nodes[id], node.active else {
                return fail("a process for \(id), which is not active: \(describe(id))")
            }
            if node.stopping && !process.stopRequested {
                return fail("\(id) is being stopped but no stop was sent")
            }
        }

        // (b) the counters are a function of the records.
        let (used, roleUsed, holding) = Self.recount(nodes)
        if holding.contains(where: { !nodes[$0]!.holdsSlots }) { count("slots-held-for-children") }
        if nonZero(used) != nonZero(scheduler.used) {
            return fail("used \(nonZero(scheduler.used)) but the records say \(used)")
        }
        if nonZero(roleUsed) != nonZero(scheduler.roleUsed) {
            return fail("roleUsed \(nonZero(scheduler.roleUsed)) but the records say \(roleUsed)")
        }

        // (a) no budget is exceeded, and work that is not urgent stays out of the reserve (after
        // the limits were lowered, what already ran may stay over them, but never grows).
        let top = used["", default: 0]
        let topAllowed = allowed("top", limits.maxSlots, top)
        if top > topAllowed {
            return fail("top uses \(top) of \(limits.maxSlots)")
        }
        var notUrgent = 0
        for id in holding {
            if let node = nodes[id], node.parent == nil, !node.urgent { notUrgent += node.footprint }
        }
        if notUrgent > allowed("not-urgent", limits.maxSlots - limits.reserve, notUrgent) {
            return fail("work that is not urgent holds \(notUrgent) slots, more than maxSlots - reserve")
        }
        for (role, cap) in limits.roleSlots {
            let held = roleUsed[role, default: 0]
            if held > allowed("role:" + role, cap, held) {
                return fail("role \(role) holds \(held) of \(cap)")
            }
        }
        for (id, count) in used where !id.isEmpty && count > nodes[id]!.slots {
            return fail("the children of \(id) hold \(count) of its \(nodes[id]!.slots) slots")
        }

        // Processes never outnumber a budget, stopped ones included: an agent's slots come back
        // only once everything below it has exited.
        if activeCount > topAllowed {
            return fail("\(activeCount) commands run but maxSlots is \(limits.maxSlots)")
        }
        for (id, count) in activeBelow where count > nodes[id]!.slots {
            return fail("\(count) commands run below \(id) with \(nodes[id]!.slots) slots")
        }
    }

    /// The most budget `key` may hold now: its limit, or what it held when the limits were
    /// lowered under it, shrinking with what it holds (`current`) until it fits again.
    mutating func allowed(_ key: String, _ limit: Int, _ current: Int) -> Int {
        guard let held = tolerance[key] else { return limit }
        let bound = max(limit, min(held, current))
        if bound <= limit { tolerance[key] = nil } else { tolerance[key] = bound }
        return max(limit, held)
    }

    /// (e) whatever could start has started: one more admission pass starts nothing (a child
    /// whose orchestrator started in the same event included), and in particular a due urgent
    /// top-level request that fits under maxSlots is never left waiting (unless the tree takes
    /// no writes: then nothing starts).
    mutating func checkAdmission() {
        guard !scheduler.startsHeld else { return }
        let queue = scheduler.queue
        let agents = scheduler.agents
        if !queue.isEmpty {
            var probe = scheduler
            let again = probe.handle(.tick, now: now).started
            if !again.isEmpty {
                return fail("\(again) could start but wait: \(again.map(describe))")
            }
            if limits.roleSlots.isEmpty,
                let first = queue.lazy.compactMap({ agents[$0] }).first(where: {
                    $0.parent == nil && $0.priority == .urgent && ($0.notBefore ?? 0) <= self.now
                }), scheduler.fits(first),
                scheduler.router.isEmpty || upstreamFor(first) != nil
            {
                return fail("urgent \(first.id) fits but waits")
            }
        }
    }

}

/// What the budget and tree checks need of one record, copied once per check (copying whole
/// records at every step of a walk up the tree is what made the checks slow).
struct SimNode {
    var parent: String?
    var role: String
    var orchestrator: Bool
    var footprint: Int
    var slots: Int
    var holdsSlots: Bool
    var active: Bool
    var stopping: Bool
    var settled: Bool
    var urgent: Bool

    init(_ r: AgentRecord) {
        parent = r.parent
        role = r.role
        orchestrator = r.kind == .orchestrator
        footprint = r.footprint
        slots = r.slots
        holdsSlots = r.holdsSlots
        active = r.active
        stopping = r.stopping != nil
        settled = r.state.isSettled
        urgent = r.priority == .urgent
    }
}

/// True when two policies act the same (a policy read back lists every kind).
func samePolicy(_ a: FailurePolicy, _ b: FailurePolicy) -> Bool {
    FailureKind.allCases.allSatisfy { a.action(for: $0) == b.action(for: $0) }
        && a.backoffBaseMilliseconds == b.backoffBaseMilliseconds
        && a.backoffCapMilliseconds == b.backoffCapMilliseconds
}

/// The fields in which two records differ, leaving out liveness (not persisted) and
/// comparing policies by what they do.
func differences(_ a: AgentRecord, _ b: AgentRecord) -> [String] {
    var out: [String] = []
    for (x, y) in zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children) {
        guard let label = x.label, label != "liveness", label != "policy" else { continue }
        if String(describing: x.value) != String(describing: y.value) {
            out.append("\(label): \(x.value) vs \(y.value)")
        }
    }
    for kind in FailureKind.allCases where a.policy.action(for: kind) != b.policy.action(for: kind) {
        out.append("policy.\(kind.rawValue)")
    }
    if a.policy.backoffBaseMilliseconds != b.policy.backoffBaseMilliseconds
        || a.policy.backoffCapMilliseconds != b.policy.backoffCapMilliseconds
    {
        out.append("policy.backoff")
    }
    return out
}

/// A short line for the trace.
func brief(_ event: Event) -> String {
    switch event {
    case .arrived(let r):
        "arrived(\(r.id) parent=\(r.parent ?? "-") depth=\(r.depth) \(r.kind.rawValue) slots=\(r.slots) "
            + "\(r.priority.rawValue) role=\(r.role))"
    case .heartbeat(let seen):
        "heartbeat("
            + seen.keys.sorted().map { id in
                let e = seen[id]!
                return "\(id): \(e.progressBytes)/\(e.outputBytes)/\(e.cpuTicks)/\(e.newestModification) "
                    + e.newLines.map { "[\($0.outputs.map(String.init) ?? "-") \($0.status)]" }.joined()
            }.joined(separator: ", ") + ")"
    default: "\(event)"
    }
}
