import SwarmCore
import SwarmProtocol

extension Limits {
    /// Small limits that are easy to fill by hand: 4 slots of which 1 is reserved for urgent
    /// work, depth 3, a one-minute heartbeat, and the default beat thresholds.
    static func test(
        maxSlots: Int = 4, reserve: Int = 1, maxDepth: Int = 3, heartbeat: Millis = 60_000,
        investigateAfter: Int = 2, killAfter: Int = 3, spinAfter: Int = 3, loopAfter: Int = 3,
        orphanAfter: Int = 3, roleSlots: [String: Int] = [:]
    ) -> Limits {
        Limits(
            maxSlots: maxSlots, reserve: reserve, maxDepth: maxDepth, heartbeat: heartbeat,
            investigateAfter: investigateAfter, killAfter: killAfter, spinAfter: spinAfter,
            loopAfter: loopAfter, orphanAfter: orphanAfter, roleSlots: roleSlots)
    }
}

extension FailurePolicy {
    /// A policy that answers every kind of failure with `action`, with a short backoff.
    static func always(_ action: FailureAction, base: Millis = 1_000, cap: Millis = 8_000) -> FailurePolicy {
        FailurePolicy(
            actions: Dictionary(uniqueKeysWithValues: FailureKind.allCases.map { ($0, action) }),
            backoffBaseMilliseconds: base, backoffCapMilliseconds: cap)
    }
}

/// A task record as intake hands it to the scheduler: top-level at depth 1 unless told.
func task(
    _ id: String, parent: String? = nil, depth: Int = 1, kind: AgentKind = .worker, slots: Int = 0,
    priority: Priority = .normal, role: String = "worker", policy: FailurePolicy = .standard,
    at time: Millis = 0
) -> AgentRecord {
    AgentRecord(
        id: id, parent: parent, depth: depth, kind: kind, role: role, template: role,
        priority: priority, slots: slots, policy: policy, createdAt: time)
}

/// The outcome of an orchestrator run that ends cleanly without a result: it goes idle.
let idleExit = Outcome.noResult(exitStatus: "exit 0", clean: true)

/// The outcome of a command that crashed without a result.
let crashExit = Outcome.noResult(exitStatus: "exit 1", clean: false)

/// A scheduler with its own clock, played by hand the way the shell plays it: every event
/// is sent at `now`, and (unless `autoStart` is off) every `.start` is answered with
/// `.started`, as the local launcher does.
struct Harness {
    var scheduler: Scheduler
    var now: Millis = 1_000_000
    var autoStart = true
    var nextPid: Int32 = 100

    init(_ limits: Limits = .test(), records: [AgentRecord] = [], seed: UInt64 = 0x5EED) {
        scheduler = Scheduler(limits: limits, records: records, seed: seed)
    }

    /// The record of `id`, if the scheduler knows it.
    subscript(_ id: String) -> AgentRecord? { scheduler.agents[id] }

    /// Slots held at the top (by top-level agents).
    var topUsed: Int { scheduler.used["", default: 0] }

    /// Slots held by the direct children of `parent`.
    func used(by parent: String) -> Int { scheduler.used[parent, default: 0] }

    /// Sends one event at `now` and returns its effects, followed by those of the `.started`
    /// answers when `autoStart` is on.
    @discardableResult
    mutating func send(_ event: Event) -> [Effect] {
        var effects = scheduler.handle(event, now: now)
        if autoStart {
            for id in effects.started {
                nextPid += 1
                effects += scheduler.handle(.started(id: id, pid: nextPid), now: now)
            }
        }
        return effects
    }

    /// Moves the clock forward by `milliseconds` and sends `.tick`.
    @discardableResult
    mutating func advance(_ milliseconds: Millis) -> [Effect] {
        now += milliseconds
        return send(.tick)
    }

    /// A top-level task arrives.
    @discardableResult
    mutating func arrive(
        _ id: String, kind: AgentKind = .worker, slots: Int = 0, priority: Priority = .normal,
        role: String = "worker", policy: FailurePolicy = .standard
    ) -> [Effect] {
        send(
            .arrived(
                task(id, kind: kind, slots: slots, priority: priority, role: role, policy: policy, at: now)))
    }

    /// `parent` asks for a child, one level below it (depth 2 when the parent is unknown).
    @discardableResult
    mutating func spawn(
        _ id: String, under parent: String, kind: AgentKind = .worker, slots: Int = 0,
        priority: Priority = .normal, policy: FailurePolicy = .standard
    ) -> [Effect] {
        let depth = (self[parent]?.depth ?? 1) + 1
        return send(
            .arrived(
                task(
                    id, parent: parent, depth: depth, kind: kind, slots: slots, priority: priority,
                    policy: policy, at: now)))
    }

    /// The command of `id` ends with `outcome`.
    @discardableResult
    mutating func exit(_ id: String, _ outcome: Outcome = .succeeded) -> [Effect] {
        send(.exited(id: id, outcome: outcome))
    }

    /// Moves the clock one heartbeat forward and sends a beat with `evidence`.
    @discardableResult
    mutating func beat(_ evidence: [String: Evidence] = [:]) -> [Effect] {
        now += scheduler.limits.heartbeat
        return send(.heartbeat(evidence))
    }
}

extension Array where Element == Effect {
    /// Ids of the `.accept` effects, in order.
    var accepted: [String] {
        compactMap { if case .accept(let id) = $0 { id } else { nil } }
    }

    /// Ids of the `.start` effects, in order.
    var started: [String] {
        compactMap { if case .start(let id, _) = $0 { id } else { nil } }
    }

    /// Ids of the `.stop` effects, in order.
    var stopped: [String] {
        compactMap { if case .stop(let id) = $0 { id } else { nil } }
    }

    /// The `.refuse` effects: the refused record's id and the reason.
    var refused: [(id: String, reason: String)] {
        compactMap { if case .refuse(let r, let reason) = $0 { (r.id, reason) } else { nil } }
    }

    /// Ids of the `.deadLetter` effects, in order.
    var deadLettered: [String] {
        compactMap { if case .deadLetter(let id, _) = $0 { id } else { nil } }
    }

    /// The `.fanIn` effects, in order.
    var fanIns: [(parent: String, children: [Settlement])] {
        compactMap { if case .fanIn(let p, let c) = $0 { (p, c) } else { nil } }
    }

    /// Every alert, in order.
    var alerts: [Alert] {
        compactMap { if case .alert(let a) = $0 { a } else { nil } }
    }

    /// The alerts of one kind, in order.
    func alerts(_ kind: String) -> [Alert] { alerts.filter { $0.kind.rawValue == kind } }

    /// The wake reasons of the (first) `.start` of `id`, or nil when it was not started.
    func wake(of id: String) -> [String]? {
        for effect in self { if case .start(id, let wake) = effect { return wake.map(\.description) } }
        return nil
    }
}

/// Evidence with `n` in every counter: two values of `n` compare as "no sign of life".
func evidence(_ n: Int, lines: [ProgressLine] = []) -> Evidence {
    Evidence(
        progressBytes: Int64(n), outputBytes: Int64(n), cpuTicks: UInt64(n), newestModification: Int64(n),
        newLines: lines)
}

/// A progress line at time 0 with the given outputs count and status.
func line(_ outputs: Int?, _ status: String) -> ProgressLine {
    ProgressLine(timeMilliseconds: 0, outputs: outputs, status: status)
}
