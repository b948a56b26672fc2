import SwarmCore
import SwarmProtocol
import Testing

/// A request too long for its upstream's model goes to an upstream that declares a larger
/// context, and fails with its reason when none does.
@Suite struct SchedulerContextTests {
    func limits(_ upstreams: [UpstreamSpec]) -> Limits {
        var limits = Limits.test(maxSlots: 4, reserve: 0)
        limits.upstreams = upstreams
        return limits
    }

    let tooLong = Outcome.upstreamFailed(.contextTooLong, reason: "prompt is too long", retryAfter: nil)

    @Test func retriedOnAnUpstreamWithALargerContext() {
        var h = Harness(limits([
            UpstreamSpec(name: "small", context: 100_000), UpstreamSpec(name: "large", context: 1_000_000),
        ]))
        h.arrive("a")
        #expect(h["a"]?.upstream == "small")
        h.exit("a", tooLong)
        #expect(h["a"]?.upstream == "large", "retried at once where the context is larger")
        #expect(h["a"]?.attempts == 2)
        h.exit("a")
        #expect(h["a"]?.state == .done)
    }

    @Test func failsWithItsReasonWhenNoUpstreamIsLarger() {
        var h = Harness(limits([UpstreamSpec(name: "only", context: 100_000)]))
        h.arrive("a")
        h.exit("a", tooLong)
        #expect(h["a"]?.state == .deadLetter, "the standard policy dead-letters class error")
        #expect(h["a"]?.lastFailure?.contains("prompt is too long") == true)
    }
}
