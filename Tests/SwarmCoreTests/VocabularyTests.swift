import SwarmCore
import SwarmProtocol
import Testing

/// The words of the typed vocabularies read back as the same values.
@Suite struct VocabularyTests {
    @Test(arguments: [
        WakeReason.start, .childSettled("a-1"), .refused("deep.md"), .answered, .heartbeat, .recovered,
        .message,
    ])
    func aWakeReasonReadsBackFromItsWord(_ reason: WakeReason) {
        #expect(WakeReason(reason.description) == reason)
    }

    @Test func wordsThatAreNoWakeReasonAreNone() {
        #expect(WakeReason("child-settled") == nil && WakeReason("Heartbeat") == nil && WakeReason("") == nil)
        #expect([WakeReason.childSettled("a"), .heartbeat].words == "child-settled:a heartbeat")
    }

    @Test func aRunConfinementReadsBackFromItsWord() {
        for confinement in [RunConfinement.landlock(abi: 4), .off, .none] {
            #expect(RunConfinement(confinement.description) == confinement)
        }
        #expect(RunConfinement("landlock:") == nil && RunConfinement("landlock:0") == nil)
    }
}
