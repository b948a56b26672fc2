import SwarmCore
import SwarmProtocol

/// Heartbeats in the simulation: random evidence for the running commands, and the silence
/// rule modelled and checked against what the beat did.
extension Simulation {
    /// One heartbeat with evidence for (most of) the running commands: unchanged, or grown
    /// with progress lines whose outputs count stays, moves or is missing. Checks the
    /// silence rule against a model of it.
    mutating func heartbeat() {
        now += limits.heartbeat + Millis(int(0...1_000))
        var seen: [String: Evidence] = [:]
        let statuses = ["reading", "editing", "retrying", "retrying"]
        for id in processes.keys.sorted() where processes[id]?.reported == true && chance(90) {
            var e = evidence[id] ?? Evidence()
            e.newLines = []
            if chance(55) {
                if chance(50) { e.outputBytes += Int64(int(1...100)) }
                if chance(30) { e.cpuTicks += UInt64(int(1...10)) }
                if chance(20) { e.newestModification += 1 }
                for _ in 0..<int(0...2) {
                    let roll = int(0...9)
                    let count: Int? = roll < 4 ? outputs[id] ?? 0 : roll < 8 ? (outputs[id] ?? 0) + 1 : nil
                    if let count { outputs[id] = count }
                    var line = ProgressLine(timeMilliseconds: now, outputs: count, status: pick(statuses)!)
                    if chance(40) { (line.tokens, line.cost) = usage(of: id) }
                    e.newLines.append(line)
                    e.progressBytes += 40
                }
            }
            evidence[id] = e
            // now and then the launcher holds a command back (a Slurm job still pending)
            var judged = e
            judged.held = e.newLines.isEmpty && chance(processes[id]?.batch == true ? 30 : 5)
            seen[id] = judged
        }
        // The silence rule, modelled: which agents the beat must flag or kill.
        var investigate: Set<String> = []
        var kill: Set<String> = []
        for (id, e) in seen {
            guard let r = scheduler.agents[id], r.active, r.state == .running, r.stopping == nil else {
                continue
            }
            // A held command is neither alive nor silent; the beat after it counts as the first.
            if e.held {
                silence[id] = nil
                continue
            }
            // The first beat after a start (or a restart of the daemon) always counts as life.
            let beats = silence[id].map { e.showsLife(since: $0.evidence) ? 0 : $0.beats + 1 } ?? 0
            silence[id] = (e, beats)
            if beats >= limits.killAfter {
                kill.insert(id)
            } else if beats == limits.investigateAfter {
                investigate.insert(id)
            }
        }
        let effects = send(.heartbeat(seen))
        guard failure == nil else { return }
        // a report in the beat may stop an agent over its budget, and with it (when it does not
        // run itself) its subtree, before their own beats: the rule holds outside those subtrees
        let overBudget = Set(effects.alerts("over-budget").compactMap(\.agent))
        let affected = Set(
            processes.keys.filter { id in
                var cursor: String? = id
                while let a = cursor {
                    if overBudget.contains(a) { return true }
                    cursor = scheduler.agents[a]?.parent
                }
                return false
            })
        let stopped = Set(effects.stopped).subtracting(affected)
        if stopped != kill.subtracting(affected) {
            return fail("the beat stopped \(stopped.sorted()), the silence rule says \(kill.sorted())")
        }
        if Set(effects.alerts("killed").compactMap(\.agent)).subtracting(affected)
            != kill.subtracting(affected)
        {
            return fail("killed alerts disagree with \(kill.sorted())")
        }
        if Set(effects.alerts("investigate").compactMap(\.agent)).subtracting(affected)
            != investigate.subtracting(affected)
        {
            return fail("investigate alerts disagree with \(investigate.sorted())")
        }
    }
}
