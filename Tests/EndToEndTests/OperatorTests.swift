import SwarmProtocol
import SwarmSystem
import Testing

/// Shell completions parse in their shells; every read command's --json is one JSON document.
@Suite("Completions and JSON of the read commands", .serialized, .timeLimit(.minutes(1)))
struct OperatorTests {
    /// The shell binary and the flags that make it parse a script without running it.
    static let shells: [(name: String, paths: [String], check: [String])] = [
        ("bash", ["/bin/bash", "/usr/bin/bash"], ["-n"]),
        ("zsh", ["/bin/zsh", "/usr/bin/zsh"], ["-n"]),
        ("fish", ["/usr/bin/fish", "/bin/fish"], ["--no-execute"]),
    ]

    @Test(
        "completions parse in bash, zsh and fish (each shell that is installed)",
        arguments: ["bash", "zsh", "fish"])
    func completionsParse(_ shell: String) async throws {
        try await withWorkspace { ws in
            let output = try await ws.swarm("completions", shell)
            #expect(output.status == 0 && !output.stdout.isEmpty, "\(output)")
            let spec = try #require(Self.shells.first { $0.name == shell })
            guard let binary = spec.paths.first(where: { FileSystem.statusFollowing($0) != nil }) else {
                return
            }
            try ws.write("completion." + shell, output.stdout)
            let parsed = try await Run.command(binary, spec.check + [ws.path("completion." + shell)])
            #expect(parsed.status == 0, "\(shell) rejects the script: \(parsed)")
        }
    }

    @Test("swarm check --json lists each problem with its file, line and message")
    func checkJSON() async throws {
        try await withWorkspace(files: [
            "templates/broken.md": "---\ncommand: true\nkind: wizard\n---\n{{task}}\n"
        ]) { ws in
            let output = try await ws.swarm("check", "--json")
            #expect(output.status != 0, "\(output)")
            let problems = try #require(try JSON.parse(Array(output.stdout.utf8))["problems"]?.arrayValue)
            let broken = try #require(
                problems.first { $0["file"]?.stringValue == "templates/broken.md" }, "\(output)")
            #expect(broken["line"]?.intValue == 3, "\(output.stdout)")
            #expect(broken["message"]?.stringValue?.contains("wizard") == true, "\(output.stdout)")
        }
    }

    @Test(
        "every read command's --json is one JSON document",
        arguments: [
            ["status", "--json"], ["tree", "--json"], ["alerts", "--json"], ["upstreams", "--json"],
            ["check", "--json"],
        ])
    func readCommandsSpeakJSON(_ arguments: [String]) async throws {
        try await withWorkspace { ws in
            try ws.drop("one.md", TestWorkspace.simTask("one", [("sim.steps", "1")]))
            try ws.drop("bad.md", "---\nrole: nosuchrole\ntemplate: sim-worker\n---\nX\n")
            #expect(try await ws.runUntilIdle().status == 0)
            let output = try await ws.swarm(arguments)
            #expect(output.status == 0, "\(output)")
            #expect(
                (try? JSON.parse(Array(output.stdout.utf8))) != nil, "not JSON: \(output.stdout.prefix(300))")
        }
    }
}
