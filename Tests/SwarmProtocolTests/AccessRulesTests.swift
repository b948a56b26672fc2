import SwarmProtocol
import Testing

/// `reads:` and `network:` as tasks, templates and swarm.json write them.
@Suite struct AccessRulesTests {
    @Test(arguments: [
        ("all", ReadRule.all), ("system", .system(extra: [])),
        (" system , ~/.gitconfig,/data ", .system(extra: ["~/.gitconfig", "/data"])),
    ])
    func readRulesParse(_ text: String, _ rule: ReadRule) {
        #expect(ReadRule.parse(text) == rule)
        #expect(ReadRule.parse(rule.text) == rule)
        #expect(ReadRule.problem(text) == nil)
    }

    @Test(arguments: ["", "none", "all, /data", "System", "everything"])
    func badReadRulesAreRefused(_ text: String) {
        #expect(ReadRule.parse(text) == nil)
        #expect(ReadRule.problem(text)?.hint.contains("reads: system") == true)
    }

    @Test(arguments: [
        ("any", NetworkRule.any), ("none", NetworkRule.none), ("443", .ports([443])),
        ("443, 8080 443", .ports([443, 8080])), ("1,65535", .ports([1, 65535])),
    ])
    func networkRulesParse(_ text: String, _ rule: NetworkRule) {
        #expect(NetworkRule.parse(text) == rule)
        #expect(NetworkRule.parse(rule.text) == rule)
    }

    @Test(arguments: ["", "0", "65536", "https", "443, any", "-1", "+443", "none none2"])
    func badNetworkRulesAreRefused(_ text: String) {
        #expect(NetworkRule.parse(text) == nil)
        #expect(
            NetworkRule.problem(text)?.message.contains("is not any, none or a list of TCP ports") == true)
    }

    @Test func aTaskNarrowsItsTemplateAndNeverWidensIt() {
        #expect(ReadRule.all.narrowed(by: .system(extra: ["/a"])) == .system(extra: ["/a"]))
        #expect(ReadRule.system(extra: []).narrowed(by: .all) == .system(extra: []))
        #expect(
            ReadRule.system(extra: ["/a", "/b"]).narrowed(by: .system(extra: ["/b", "/c"]))
                == .system(extra: ["/b"]))
        #expect(ReadRule.system(extra: ["/a"]).narrowed(by: nil) == .system(extra: ["/a"]))
        #expect(NetworkRule.any.narrowed(by: .ports([443])) == .ports([443]))
        #expect(NetworkRule.ports([443]).narrowed(by: .any) == .ports([443]))
        #expect(NetworkRule.ports([443, 80]).narrowed(by: .ports([80, 22])) == .ports([80]))
        #expect(NetworkRule.ports([443]).narrowed(by: .ports([22])) == NetworkRule.none)
        #expect(NetworkRule.none.narrowed(by: .ports([22])) == NetworkRule.none)
        #expect(NetworkRule.ports([443]).narrowed(by: NetworkRule.none) == NetworkRule.none)
    }

    @Test func aRunsConfinementReadsBackFromItsWords() {
        let cases: [(RunConfinement, String)] = [
            (.off, "off"), (.none, "none"), (.landlock(abi: 3), "landlock:3"),
            (.landlock(abi: 7, restrictions: [.reads, .network, .signals]), "landlock:7 reads net signals"),
            (.landlock(abi: 6, restrictions: [.signals]), "landlock:6 signals"),
        ]
        for (confinement, words) in cases {
            #expect(confinement.description == words)
            #expect(RunConfinement(words) == confinement)
        }
        for bad in ["landlock:0", "landlock:7 everything", "off reads", ""] {
            #expect(RunConfinement(bad) == nil, "\(bad)")
        }
    }

    @Test func templatesTasksAndSwarmJSONCarryTheRules() throws {
        let template = try TemplateParser.parse(
            name: "t",
            bytes: Array("---\ncommand: run\nreads: system, ~/.pyenv   # tools\nnetwork: 443\n---\n".utf8))
        #expect(template.reads == .system(extra: ["~/.pyenv"]) && template.network == .ports([443]))
        #expect(throws: ProtocolError.self) {
            try TemplateParser.parse(name: "t", bytes: Array("---\ncommand: run\nnetwork: web\n---\n".utf8))
        }
        let task = try TaskParser.parse(
            fileName: "t.md",
            bytes: Array("---\nrole: r\ntemplate: t\nreads: system\nnetwork: none\n---\nx\n".utf8))
        #expect(task.reads == .system(extra: []) && task.network == NetworkRule.none)
        do {
            _ = try TaskParser.parse(
                fileName: "t.md", bytes: Array("---\nrole: r\ntemplate: t\nreads: secrets\n---\nx\n".utf8))
            Issue.record("a bad reads: was accepted")
        } catch {
            #expect(error.line == 4 && error.message.contains("reads \"secrets\" is not all or system"))
        }
        let (config, problems) = ConfigParser.parse(
            Array(#"{"reads": "system", "network": "443, 8443"}"#.utf8))
        #expect(
            problems.isEmpty && config.reads == .system(extra: []) && config.network == .ports([443, 8443]))
        let (_, bad) = ConfigParser.parse(Array(#"{"reads": 1, "network": "web"}"#.utf8))
        #expect(bad.count == 2)
    }
}
