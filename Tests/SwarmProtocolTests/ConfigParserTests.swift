import SwarmProtocol
import Testing

@Test func readsTheDocumentedExample() {
    let json = """
        {
          "maxSlots": 12,            "reserve": 2,          "maxDepth": 3,
          "heartbeat": "15m",        "investigateAfter": 2, "killAfter": 3,
          "orphanAfter": 3,          "alertCommand": null,
          "upstreams": [
            { "name": "primary",  "env": { "ANTHROPIC_BASE_URL": "https://example.invalid" } },
            { "name": "fallback", "env": { "CLAUDE_CODE_USE_BEDROCK": "1" } }
          ]
        }
        """
    let (config, problems) = ConfigParser.parse(utf8(json))
    #expect(problems.isEmpty)
    #expect(config.maxSlots == 12 && config.heartbeatMilliseconds == 900_000 && config.alertCommand == nil)
    #expect(config.upstreams.map(\.name) == ["primary", "fallback"])
    #expect(config.upstream(named: "fallback")?.env == ["CLAUDE_CODE_USE_BEDROCK": "1"])
}

@Test func readsEveryKey() {
    let json = """
        {"maxSlots": 20, "reserve": 0, "maxDepth": 5, "heartbeat": "30s", "investigateAfter": 3, "killAfter": 6,
         "orphanAfter": 4, "spinAfter": 5, "loopAfter": 7, "killGrace": "500ms", "alertCommand": "notify-send swarm",
         "roleSlots": {"worker": 8, "scout": 0},
         "upstreams": [{"name": "a", "env": {"X": "1"}, "unset": ["Y"], "command": "codex exec", "concurrency": 4,
                        "domain": "anthropic"}]}
        """
    let (config, problems) = ConfigParser.parse(utf8(json))
    #expect(problems.isEmpty)
    let expected = SwarmConfig(
        maxSlots: 20, reserve: 0, maxDepth: 5, heartbeatMilliseconds: 30_000, investigateAfter: 3,
        killAfter: 6,
        orphanAfter: 4, spinAfter: 5, loopAfter: 7, killGraceMilliseconds: 500,
        alertCommand: "notify-send swarm",
        roleSlots: ["worker": 8, "scout": 0],
        upstreams: [
            Upstream(
                name: "a", env: ["X": "1"], unset: ["Y"], command: "codex exec", concurrency: 4,
                domain: "anthropic")
        ])
    #expect(config == expected)
    #expect(ConfigParser.parse(utf8("{}")) == (SwarmConfig.standard, []))
}

/// A config, then every problem expected: its line and a fragment of its message.
@Test(
    arguments: [
        ("{\n  \"maxSlot\": 4\n}", [(2, "unknown key \"maxSlot\"; did you mean \"maxSlots\"?")]),
        ("{\n\"colour\": 1}", [(2, "unknown key \"colour\"; known keys: maxSlots, reserve")]),
        (
            "{\n\"maxSlots\": 0,\n\"reserve\": -1}",
            [(2, "maxSlots must be 1 or more, not 0"), (3, "reserve must be 0 or more")]
        ),
        ("{\"maxSlots\": \"12\"}", [(1, "maxSlots must be a whole number, not \"12\" (remove the quotes)")]),
        ("{\"maxDepth\": 2.5}", [(1, "maxDepth must be a whole number, not 2.5")]),
        ("{\n\"heartbeat\": 900}", [(2, "heartbeat must be a duration such as")]),
        ("{\"heartbeat\": \"0s\"}", [(1, "heartbeat must be longer than 0")]),
        ("{\"heartbeat\": \"15 minutes\"}", [(1, "not \"15 minutes\"")]),
        ("{\"killGrace\": true}", [(1, "killGrace must be a duration")]),
        ("{\n\"maxSlots\": 4,\n\"reserve\": 4}", [(3, "reserve (4) must be less than maxSlots (4)")]),
        ("{\n\"maxSlots\": 2}", [(2, "reserve (2) must be less than maxSlots (2)")]),
        (
            "{\"investigateAfter\": 2,\n\"killAfter\": 2}",
            [(2, "killAfter (2) must be greater than investigateAfter (2)")]
        ),
        ("{\"alertCommand\": 5}", [(1, "alertCommand must be a string")]),
        ("{\"roleSlots\": [1]}", [(1, "roleSlots must be an object")]),
        (
            "{\"roleSlots\": {\n\"worker\": -2,\n\"../x\": 1}}",
            [(2, "roleSlots.worker must be 0 or more"), (3, "not a plain file name")]
        ),
        ("{\"upstreams\": {}}", [(1, "upstreams must be an array")]),
        ("{\"upstreams\": [\n{\"name\": \"a\"},\n{\"name\": \"a\"}]}", [(3, "\"a\" is used twice")]),
        (
            "{\"upstreams\": [\n7,\n{\"env\": {}}]}",
            [(2, "upstreams[0] must be an object"), (3, "upstreams[1] needs a \"name\"")]
        ),
        (
            "{\"upstreams\": [{\"name\": \"a\",\n\"envv\": {},\n\"env\": {\"A\": 1, \"1B\": \"x\"},\n\"unset\": \"A\",\n\"concurrency\": 0,\n\"command\": [\"x\"]}]}",
            [
                (2, "unknown key \"envv\" in upstreams[0]; did you mean \"env\"?"),
                (3, "upstreams[0].env.A must be a string"),
                (3, "\"1B\" is not an environment variable name"), (4, "upstreams[0].unset must be an array"),
                (6, "upstreams[0].command must be a string or null"),
                (5, "upstreams[0].concurrency must be 1 or more"),
            ]
        ),
        (
            "{\n\"logHead\": \"1.5MB\"}",
            [
                (
                    2,
                    "logHead must be a size such as \"512KB\", \"16MB\", \"1GB\" or a number of bytes, not \"1.5MB\""
                )
            ]
        ),
        (
            "{\"logHead\": true,\n\"logTail\": [1]}",
            [(1, "logHead must be a size"), (2, "logTail must be a size")]
        ),
        ("{\"logHead\": -1}", [(1, "logHead must be 0 or more, not -1")]),
        (
            "{\"logTail\": \"16KB\"}",
            [(1, "logTail must be at least 64KB, not 16KB; the runtime reads the last 64KB")]
        ),
        ("{\"logTail\": \"2TB\"}", [(1, "logTail is 2TB; sizes above 1TB make no sense here")]),
        ("[]", [(1, "must hold a JSON object, not array")]),
        ("{\n\"maxSlots\": 4,,\n}", [(2, "expected an object key")]),
        ("", [(1, "empty")]),
    ] as [(String, [(Int, String)])])
func reportsConfigProblemsWithLines(_ json: String, _ expected: [(Int, String)]) {
    let (config, problems) = ConfigParser.parse(utf8(json))
    #expect(problems.count == expected.count, "\(problems)")
    for (problem, (line, fragment)) in zip(problems, expected) {
        #expect(problem.line == line, "\(problem)")
        #expect(problem.description.contains(fragment), "\(problem)")
        #expect(problem.description.hasPrefix("line \(line): "))
    }
    #expect(config.reserve < config.maxSlots && config.killAfter > config.investigateAfter)
}

@Test func badValuesKeepTheirDefaults() {
    let json =
        "{\"maxSlots\": -3, \"heartbeat\": \"soon\", \"maxDepth\": 4, \"upstreams\": [{\"name\": \"ok\"}, {\"name\": \"ok\"}]}"
    let (config, problems) = ConfigParser.parse(utf8(json))
    #expect(problems.count == 3)
    #expect(config.maxSlots == 12 && config.heartbeatMilliseconds == 900_000 && config.maxDepth == 4)
    #expect(config.upstreams == [Upstream(name: "ok")])
    let small = ConfigParser.parse(utf8("{\"maxSlots\": 1}")).config
    #expect(small.reserve == 0)
}

@Test func readsLogSizesAsTextOrBytes() {
    let (config, problems) = ConfigParser.parse(utf8(#"{"logHead": "512KB", "logTail": 1048576}"#))
    #expect(problems.isEmpty)
    #expect(config.logHeadBytes == 512 << 10 && config.logTailBytes == 1 << 20)
    #expect(ConfigParser.parse(utf8(#"{"logHead": "0", "logTail": "1GB"}"#)).config.logTailBytes == 1 << 30)
    #expect(SwarmConfig.standard.logHeadBytes == 1 << 20 && SwarmConfig.standard.logTailBytes == 16 << 20)
    let bad = ConfigParser.parse(utf8(#"{"logTail": "1KB"}"#)).config
    #expect(bad.logTailBytes == 16 << 20, "a bad value keeps its default")
}

@Test func readsTheLauncherAndSlurmOptions() {
    let (config, problems) = ConfigParser.parse(
        utf8(#"{"launcher": "slurm", "slurm": {"arguments": ["--partition=batch", "--time=60"]}}"#))
    #expect(problems.isEmpty)
    #expect(config.launcher == .slurm && config.launcher.isSlurm)
    #expect(config.slurmArguments == ["--partition=batch", "--time=60"])
    #expect(SwarmConfig.standard.launcher == .local && !LauncherKind.local.isSlurm)
}

@Test func rejectsABadLauncherOrSlurmOptions() {
    let (config, problems) = ConfigParser.parse(
        utf8("{\n\"launcher\": \"kubernetes\",\n\"slurm\": {\"argumets\": [], \"arguments\": [\"batch\"]}\n}")
    )
    #expect(config.launcher == .local && config.slurmArguments.isEmpty)
    let text = problems.map(\.description).joined(separator: "\n")
    #expect(text.contains("launcher must be \"local\", \"slurm\" or \"slurm-srun\""))
    #expect(text.contains("argumets") && text.contains("arguments"))
    #expect(text.contains("not an option"))
    #expect(ConfigParser.parse(utf8(#"{"slurm": {"arguments": "--time=5"}}"#)).problems.count == 1)
    #expect(ConfigParser.parse(utf8(#"{"slurm": []}"#)).problems.count == 1)
}
