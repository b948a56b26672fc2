import SwarmProtocol
import Testing

/// Inputs the fuzzer found (Fuzz/, scripts/fuzz), kept as regression tests.
@Suite struct FuzzRegressionTests {
    @Test func aHugeCountInSwarmJSONIsAProblemNotACrash() {
        let (config, problems) = ConfigParser.parse(Array(#"{"investigateAfter":9223372036854775807}"#.utf8))
        #expect(problems.contains { $0.message.contains("investigateAfter") })
        #expect(config.investigateAfter == SwarmConfig.standard.investigateAfter)
        #expect(config.killAfter > config.investigateAfter)
    }

    @Test func noCarriageReturnSurvivesBeforeALineFeed() throws {
        #expect(try TextDecoding.decode([0x73, 0x0D, 0x0D, 0x0A, 0x7B]) == "s\n{")
        let matter = try FrontMatter.parse(Array("---\nS:x\r\r\nt: u\n---\n".utf8))
        #expect(matter.value("S") == "x")
        #expect(matter.value("t") == "u")
    }
}
