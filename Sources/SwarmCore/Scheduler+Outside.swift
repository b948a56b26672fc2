import SwarmProtocol

/// Signals from outside the runs: status pages and usage limits (see HEARTBEAT.md, Upstreams).
extension Scheduler {
    /// A status page reading for `upstream`: the router moves its breaker or its concurrency;
    /// a major outage that opens a closed breaker raises one `upstream-incident`.
    mutating func statusPage(_ upstream: String, _ verdict: StatusPageVerdict) {
        announce(router.statusPage(upstream, verdict, fullConcurrency: limits.maxSlots, now: now))
    }

    /// Parked upstreams whose usage limit has reset by now go back into service.
    mutating func resumeParked() {
        guard router.nextParkingEnd.map({ $0 <= now }) == true else { return }
        announce(router.resumeParked(now: now))
    }

    /// When a usage limit that resets at `resetsAt` stops parking its upstream: then (at least
    /// a second from now, at most `longestPark`), or after `quotaPause` when it did not say.
    func parkingEnd(_ resetsAt: Millis?) -> Millis {
        guard let resetsAt else { return now + router.policy.quotaPause }
        return min(max(resetsAt, now + 1_000), now + router.policy.longestPark)
    }

    /// A run ended on its upstream's usage limit. A worker goes back to the queue with its
    /// attempt given back (no retry is spent: the limit says nothing about the task); an
    /// orchestrator stays where it is and is woken again (`limit-reset`) once an upstream
    /// takes its run.
    mutating func limitHit(_ id: String, reason: String) {
        guard let r = agents[id] else { return }
        let text = "usage-limit: \(reason)"
        if let parent = r.parent, agents[parent]?.state.isSettled ?? true {
            settle(id, .killed, reason: "\(text); not run again: its orchestrator \(parent) has ended")
            return
        }
        switch r.kind {
        case .worker:
            update(id) { r in
                r.state = .queued
                r.attempts = max(0, r.attempts - 1)
                r.notBefore = nil
                r.lastFailure = text
            }
        case .orchestrator:
            update(id) { r in
                r.lastFailure = text
                if !r.pendingWakes.contains(.limitReset) { r.pendingWakes.append(.limitReset) }
            }
            wakeIfNeeded(id)
        }
    }

    /// The `upstream-incident` of a status page's major outage.
    mutating func announcePageOutage(domain: String, upstream: String, detail: String) {
        let fallback = router.candidate(preferred: [], now: now)
        emitAlert(
            .upstreamIncident, nil,
            "the status page of upstream \(upstream) says \(detail); domain \(domain) is held open until the page "
                + "says otherwise, and runs go to "
                + (fallback.map { "upstream \($0)" } ?? "no other upstream: work waits in the queue"))
    }

    /// The `usage-limit` alert of an upstream just parked.
    mutating func announceParking(upstream: String, reason: String, until: Millis?) {
        let fallback = router.candidate(preferred: [], now: now)
        let end =
            until.map {
                "parked until \(Timestamp.iso8601(milliseconds: $0)) (in \(Self.roughly($0 - now))), then in service again"
            } ?? "parked until `swarm upstream reset \(upstream)` (resumeAfterLimit is false)"
        emitAlert(
            .usageLimit, nil,
            "upstream \(upstream) hit its usage limit (\(reason)); \(end); no attempt is spent, and runs go to "
                + (fallback.map { "upstream \($0)" } ?? "no other upstream: work waits in the queue"))
    }

    /// A wait in words, to the minute past an hour ("1h 12m", "3m", "40s").
    static func roughly(_ milliseconds: Millis) -> String {
        let seconds = max(0, (milliseconds + 999) / 1000)
        if seconds < 60 { return "\(seconds)s" }
        let minutes = (seconds + 30) / 60
        if minutes < 60 { return "\(minutes)m" }
        let days = minutes / 1440
        let hours = minutes % 1440 / 60
        let rest = minutes % 60
        return (days > 0 ? "\(days)d " : "") + "\(hours)h" + (rest > 0 && days == 0 ? " \(rest)m" : "")
    }
}
