import SwarmSystem
import Testing

@Suite("swarm demo", .timeLimit(.minutes(1)))
struct DemoTests {
    @Test("swarm demo exits 0 and reports every agent done")
    func demo() async throws {
        let output = try await Run.command(SwarmBinary.path, ["demo"], directory: "/tmp", timeout: 50)
        #expect(output.status == 0, "\(output)")
        let report = output.stdout
        let summary = try #require(
            report.split(separator: "\n").first { $0.contains(" agents done") }, "\(output)")
        // "N of N agents done in T ms."
        let words = summary.split(separator: " ")
        #expect(words.count > 3 && words[0] == words[2] && words[1] == "of", "\(summary)")
        #expect(report.contains("demo-root  done"), "\(report)")
        #expect(report.contains("flaky  done  attempts 2"), "\(report)")
        #expect(report.contains("contract-violation"))
    }
}
