import SwarmCore
import SwarmProtocol
import Testing

/// Status pages, usage limits and background work, decided by the pure core.
@Suite struct SchedulerOutsideTests {
    /// Two upstreams in their own domains; breakers open after 2 failures, for 1 s.
    func limits(concurrency: Int? = nil, resumes: Bool = true) -> Limits {
        var limits = Limits.test(maxSlots: 6, reserve: 0)
        limits.upstreams = [
            UpstreamSpec(name: "primary", concurrency: concurrency, resumesAfterLimit: resumes),
            UpstreamSpec(name: "fallback"),
        ]
        limits.breaker.consecutiveFailures = 2
        limits.breaker.openFor = 1_000
        return limits
    }

    let major = StatusPageVerdict(.major, "Claude API: major outage; incident \"Elevated errors\"")
    let degraded = StatusPageVerdict(.degraded, "Claude API: partial outage")
    let operational = StatusPageVerdict(.operational, "operational (Claude API)")

    func arrive(_ h: inout Harness, _ id: String, priority: Priority = .normal, prefers: [String] = [])
        -> [Effect]
    {
        var record = task(id, priority: priority, at: h.now)
        record.preferredUpstreams = prefers
        return h.send(.arrived(record))
    }

    // MARK: Status pages

    /// A page's major outage opens the breaker before any run fails there: one
    /// upstream-incident naming the incident, and every new run goes to the fallback; the page
    /// saying operational lets the next run through as the probe, whose success closes it.
    @Test func aMajorOutageOnThePageOpensTheBreakerUntilThePageRecovers() {
        var h = Harness(limits())
        let effects = h.send(.statusPage(upstream: "primary", verdict: major))
        let incidents = effects.alerts("upstream-incident")
        #expect(incidents.count == 1 && incidents[0].message.contains("incident \"Elevated errors\""))
        #expect(incidents[0].message.contains("runs go to upstream fallback"))
        #expect(h.scheduler.router.health(of: "primary", now: h.now) == .open)
        _ = arrive(&h, "w1")
        #expect(h["w1"]?.upstream == "fallback")
        // a held breaker does not turn half-open with time, and a second reading says nothing new
        h.advance(60_000)
        #expect(h.send(.statusPage(upstream: "primary", verdict: major)).alerts.isEmpty)
        _ = arrive(&h, "w2")
        #expect(h["w2"]?.upstream == "fallback")
        // recovered: half-open at once, the next run is the probe, its success closes the breaker
        h.send(.statusPage(upstream: "primary", verdict: operational))
        #expect(h.scheduler.router.health(of: "primary", now: h.now) == .halfOpen)
        _ = arrive(&h, "w3")
        #expect(h["w3"]?.upstream == "primary")
        let closed = h.exit("w3")
        #expect(closed.alerts("upstream-recovered").count == 1)
        #expect(h.scheduler.router.health(of: "primary", now: h.now) == .healthy)
    }

    /// An outage already open from failures is held by the page without a second alert.
    @Test func aPageConfirmingAnOpenBreakerRaisesNoSecondIncident() {
        var h = Harness(limits())
        for id in ["a", "b"] {
            _ = arrive(&h, id)
            h.exit(id, .upstreamFailed(.overloaded, reason: "529", retryAfter: nil))
        }
        #expect(h.scheduler.router.breaker("primary", now: h.now).state == .open)
        #expect(h.send(.statusPage(upstream: "primary", verdict: major)).alerts("upstream-incident").isEmpty)
        h.advance(5_000)
        #expect(h.scheduler.router.breaker("primary", now: h.now).state == .open, "held past its open time")
    }

    /// A page that cannot be read changes nothing: not the breaker, not the concurrency.
    @Test func anUnreadablePageChangesNothing() {
        var h = Harness(limits(concurrency: 4))
        h.send(.statusPage(upstream: "primary", verdict: .unknown("no answer within 10s")))
        #expect(h.scheduler.router.health(of: "primary", now: h.now) == .healthy)
        h.send(.statusPage(upstream: "primary", verdict: major))
        h.send(.statusPage(upstream: "primary", verdict: .unknown("curl: (7) Failed to connect")))
        #expect(h.scheduler.router.health(of: "primary", now: h.now) == .open, "still what it said last")
        let state = h.scheduler.router.upstreams[0]
        #expect(state.page?.verdict.health == .unknown && state.pageHealth == .major)
    }

    /// Degraded or a partial outage halves the concurrency (its own, else maxSlots) until the
    /// page says operational.
    @Test(arguments: [(Int?.some(4), 2), (nil, 3)])
    func aDegradedPageHalvesTheConcurrency(own: Int?, halved: Int) {
        var h = Harness(limits(concurrency: own))
        h.send(.statusPage(upstream: "primary", verdict: degraded))
        #expect(h.scheduler.router.upstreams[0].effectiveLimit == halved)
        #expect(h.scheduler.router.health(of: "primary", now: h.now) == .throttled)
        for i in 1...4 { _ = arrive(&h, "w\(i)") }
        let onPrimary = ["w1", "w2", "w3", "w4"].filter { h[$0]?.upstream == "primary" }
        #expect(onPrimary.count == halved)
        h.send(.statusPage(upstream: "primary", verdict: operational))
        #expect(h.scheduler.router.upstreams[0].effectiveLimit == own)
    }

    // MARK: Usage limits

    /// A usage limit parks the upstream until its reset: no attempt spent, the task back in the
    /// queue (here at once on the fallback), one usage-limit alert with the time; at the reset
    /// the upstream resumes by itself and takes runs again.
    @Test func aUsageLimitParksTheUpstreamUntilItsReset() {
        var h = Harness(limits())
        _ = arrive(&h, "w")
        #expect(h["w"]?.upstream == "primary" && h["w"]?.attempts == 1)
        let reset = h.now + 90_000
        let effects = h.exit(
            "w", .usageLimited(reason: "You've hit your limit · resets 4am", resetsAt: reset, resumes: true))
        let alerts = effects.alerts("usage-limit")
        #expect(alerts.count == 1 && alerts[0].message.contains(Timestamp.iso8601(milliseconds: reset)))
        #expect(alerts[0].message.contains("in 1m") || alerts[0].message.contains("in 2m"))
        #expect(h["w"]?.attempts == 1, "the attempt was given back, then the retry took it")
        #expect(h["w"]?.upstream == "fallback")
        #expect(h.scheduler.router.health(of: "primary", now: h.now) == .parked)
        #expect(h.scheduler.nextDeadline(after: h.now) == reset)
        // a second run on it before the reset (one that was already going) says nothing new
        _ = arrive(&h, "x")
        #expect(h["x"]?.upstream == "fallback")
        h.now = reset
        let resumed = h.send(.tick)
        #expect(resumed.alerts("upstream-recovered").count == 1)
        _ = arrive(&h, "y")
        #expect(h["y"]?.upstream == "primary")
    }

    /// With only the limited upstream, the task waits in the queue and finishes after the
    /// reset on its one attempt.
    @Test func theTaskWaitsForTheResetWithoutSpendingAnAttempt() {
        var limits = limits()
        limits.upstreams = [UpstreamSpec(name: "primary")]
        var h = Harness(limits)
        _ = arrive(&h, "w")
        let reset = h.now + 3_000
        let effects = h.exit(
            "w", .usageLimited(reason: "usage limit reached", resetsAt: reset, resumes: true))
        #expect(effects.alerts("usage-limit").first?.message.contains("work waits in the queue") == true)
        #expect(
            h["w"]?.state == .queued && h["w"]?.attempts == 0
                && h["w"]?.lastFailure?.hasPrefix("usage-limit") == true)
        h.now = reset - 1
        #expect(h.send(.tick).started.isEmpty)
        h.now = reset
        #expect(h.send(.tick).started == ["w"])
        h.exit("w")
        #expect(h["w"]?.state == .done && h["w"]?.attempts == 1)
    }

    /// `resumeAfterLimit: false` (the template's or the upstream's) keeps it parked until a
    /// person resets it; a limit without a reset time parks for `quotaPause`.
    @Test func parkingWithoutAnEnd() {
        for (resumesOwn, resumesTemplate) in [(false, true), (true, false)] {
            var h = Harness(limits(resumes: resumesOwn))
            _ = arrive(&h, "w")
            let effects = h.exit(
                "w", .usageLimited(reason: "limit", resetsAt: h.now + 1_000, resumes: resumesTemplate))
            #expect(
                effects.alerts("usage-limit").first?.message.contains("swarm upstream reset primary") == true)
            h.advance(86_400_000)
            #expect(h.scheduler.router.health(of: "primary", now: h.now) == .parked)
            _ = h.scheduler.resetUpstream("primary", now: h.now)
            #expect(h.scheduler.router.health(of: "primary", now: h.now) == .healthy)
        }
        var h = Harness(limits())
        _ = arrive(&h, "w")
        h.exit("w", .usageLimited(reason: "limit", resetsAt: nil, resumes: true))
        #expect(h.scheduler.router.upstreams[0].parked?.until == h.now + BreakerPolicy().quotaPause)
        // a reset weeks away parks for `longestPark` at most
        _ = arrive(&h, "v", prefers: ["fallback"])
        h.exit("v", .usageLimited(reason: "limit", resetsAt: h.now + 30 * 86_400_000, resumes: true))
        #expect(h.scheduler.router.upstreams[1].parked?.until == h.now + BreakerPolicy().longestPark)
    }

    /// An orchestrator cut short by a usage limit is woken again (`limit-reset`) once an
    /// upstream takes its run; a text-classified `.upstreamFailed(.usageLimit, ...)` does the same.
    @Test func anOrchestratorIsWokenAgainAfterItsLimit() {
        var limits = limits()
        limits.upstreams = [UpstreamSpec(name: "primary")]
        var h = Harness(limits)
        h.arrive("boss", kind: .orchestrator, slots: 2)
        h.exit(
            "boss", .upstreamFailed(.usageLimit, reason: "Claude AI usage limit reached|1", retryAfter: 2_000)
        )
        #expect(h["boss"]?.active == false && h["boss"]?.pendingWakes == [.limitReset])
        #expect(h["boss"]?.attempts == 1)
        h.now += 2_000
        #expect(h.send(.tick).wake(of: "boss") == ["limit-reset"])
    }

    // MARK: Background work

    /// Background work waits while its first-choice upstream is open, throttled by its page or
    /// parked, while normal work fails over; it starts there once that upstream is healthy.
    @Test func backgroundWorkWaitsWhileItsUpstreamIsDegraded() {
        var h = Harness(limits())
        h.send(.statusPage(upstream: "primary", verdict: major))
        _ = arrive(&h, "normal")
        _ = arrive(&h, "later", priority: .background)
        #expect(h["normal"]?.upstream == "fallback")
        #expect(h["later"]?.state == .queued && h["later"]?.active == false)
        h.send(.statusPage(upstream: "primary", verdict: degraded))
        #expect(h["later"]?.upstream == "primary", "throttled with room: it runs on its first choice")
        h.exit("later")
        // parked: waits again
        _ = arrive(&h, "p")
        h.exit("p", .usageLimited(reason: "limit", resetsAt: h.now + 5_000, resumes: true))
        _ = arrive(&h, "later2", priority: .background)
        #expect(h["later2"]?.active == false)
        h.now += 5_000
        #expect(h.send(.tick).started.contains("later2"))
        #expect(h["later2"]?.upstream == "primary")
    }

    /// A template's `upstreams:` is the order of preference; background work waits for the
    /// first of it, not for swarm.json's first.
    @Test func preferenceListsOrderTheUpstreams() {
        var limits = limits()
        limits.upstreams.append(UpstreamSpec(name: "local"))
        var h = Harness(limits)
        _ = arrive(&h, "cheap", prefers: ["local", "primary"])
        #expect(h["cheap"]?.upstream == "local")
        h.send(.statusPage(upstream: "primary", verdict: major))
        _ = arrive(&h, "bg", priority: .background, prefers: ["local", "primary"])
        #expect(h["bg"]?.upstream == "local", "its first choice is healthy")
        _ = arrive(&h, "bg2", priority: .background, prefers: ["gone", "primary"])
        #expect(h["bg2"]?.active == false, "the first configured name counts: primary, which is open")
        #expect(h.scheduler.router.firstChoice(["gone", "primary"]) == "primary")
    }
}
