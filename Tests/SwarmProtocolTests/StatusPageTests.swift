import SwarmProtocol
import Testing

/// Statuspage `summary.json` bodies (Fixtures/status-pages/) read into what an upstream's
/// router acts on; and the swarm.json keys that name a page.
@Suite struct StatusPageTests {
    static func report(_ name: String) throws -> StatusPageReport {
        try StatusPageReport.parse(try fixtureBytes("status-pages/summary-\(name).json"))
    }

    static let api = "Claude API (api.anthropic.com)"

    @Test func readsThePageAsStatusClaudeComServesIt() throws {
        let report = try Self.report("major-outage")
        #expect(report.pageName == "Claude" && report.indicator == "critical")
        #expect(report.components.map(\.name).contains(Self.api))
        #expect(report.components.first { $0.name == Self.api }?.status == .majorOutage)
        #expect(report.incidents.map(\.name) == ["Elevated errors on the Claude API"])
        #expect(report.incidents.first?.components == [Self.api, "Claude Code"])
    }

    @Test(arguments: [
        ("operational", [api, "Claude Code"], StatusPageHealth.operational),
        ("major-outage", [api], .major),
        ("major-outage", ["Claude Code"], .degraded),  // a partial outage halves, it does not open
        ("major-outage", ["claude.ai"], .operational),  // another product's outage is not ours
        ("major-outage", [], .major),  // no components named: every component counts
        ("degraded", [api, "Claude Code"], .degraded),
        ("degraded", ["claude code"], .degraded),  // names match whatever the case
        ("degraded", ["yyzkbfz2thpt"], .degraded),  // or by the component's id
        ("degraded", ["Claude Gateway"], .unknown),  // not on the page: evidence of nothing
    ])
    func verdictForTheComponentsThatMatter(_ page: String, _ names: [String], _ health: StatusPageHealth)
        throws
    {
        let verdict = try Self.report(page).verdict(for: names)
        #expect(verdict.health == health, "\(verdict.detail)")
    }

    @Test func aMajorOutageNamesTheComponentAndTheIncident() throws {
        let verdict = try Self.report("major-outage").verdict(for: [Self.api])
        #expect(verdict.detail.contains("Claude API (api.anthropic.com): major outage"))
        #expect(
            verdict.detail.contains(
                "incident \"Elevated errors on the Claude API\" (investigating, impact critical)"))
        let missing = try Self.report("degraded").verdict(for: ["Claude Gateway"])
        #expect(
            missing.detail.contains("lists none of \"Claude Gateway\"")
                && missing.detail.contains("Claude Code"))
    }

    @Test(arguments: [
        ("<html>Service Unavailable</html>", "JSON"), ("[1, 2]", "not a JSON object"),
        ("{\"page\": {}}", "no \"components\" array"),
    ])
    func aBodyThatIsNotASummaryIsAnError(_ body: String, _ fragment: String) {
        let error = failure { () throws(ProtocolError) in try StatusPageReport.parse(utf8(body)) }
        #expect(error != nil)
        #expect(
            (error?.description ?? "").contains(fragment) || fragment == "JSON", "\(error?.description ?? "")"
        )
    }

    @Test func resolvedIncidentsAndUnknownStatusesAreLeftOut() throws {
        let body = """
            {"components": [{"name": "API", "status": "major_outage"}, {"name": "Web", "status": "sleeping"}],
             "incidents": [{"name": "Old", "status": "resolved", "impact": "critical"},
                           {"name": "Now", "status": "monitoring", "impact": "major"}]}
            """
        let report = try StatusPageReport.parse(utf8(body))
        #expect(report.incidents.map(\.name) == ["Now"])
        #expect(report.components.first { $0.name == "Web" }?.status == nil)
        #expect(report.verdict(for: ["Web"]).health == .unknown)
        #expect(report.verdict(for: ["API"]).detail.contains("incident \"Now\""))
    }

    @Test func swarmJSONNamesAPageAndItsComponents() {
        let json = """
            {"statusPoll": "250ms", "upstreams": [{"name": "primary",
              "statusPage": "https://status.claude.com/api/v2/summary.json",
              "statusComponents": ["Claude API (api.anthropic.com)", "Claude Code"], "resumeAfterLimit": false}]}
            """
        let (config, problems) = ConfigParser.parse(utf8(json))
        #expect(problems.isEmpty, "\(problems)")
        #expect(config.statusPollMilliseconds == 250)
        let primary = config.upstreams.first
        #expect(primary?.statusPage == "https://status.claude.com/api/v2/summary.json")
        #expect(primary?.statusComponents == ["Claude API (api.anthropic.com)", "Claude Code"])
        #expect(primary?.resumeAfterLimit == false)
        #expect(ConfigParser.parse(utf8("{}")).config.statusPollMilliseconds == 60_000)
    }

    @Test(arguments: [
        (
            #"{"upstreams": [{"name": "a", "statusPage": "ftp://x/summary.json"}]}"#,
            "must start with http:// or https://"
        ),
        (#"{"upstreams": [{"name": "a", "statusPage": "https://x/a b"}]}"#, "space or a control character"),
        (#"{"upstreams": [{"name": "a", "statusPage": 7}]}"#, "must be a URL string"),
        (#"{"upstreams": [{"name": "a", "statusComponents": ["API"]}]}"#, "needs a statusPage"),
        (
            #"{"upstreams": [{"name": "a", "statusPage": "http://x", "statusComponents": "API"}]}"#,
            "array of component names"
        ),
        (
            #"{"upstreams": [{"name": "a", "statusPage": "http://x", "statusComponents": [""]}]}"#,
            "array of component names"
        ),
        (#"{"upstreams": [{"name": "a", "resumeAfterLimit": "no"}]}"#, "must be true or false"),
        (#"{"statusPoll": "soon"}"#, "statusPoll must be a duration"),
        (#"{"upstreams": [{"name": "a", "statusPge": "http://x"}]}"#, "did you mean"),
    ])
    func badStatusKeysAreExplained(_ json: String, _ fragment: String) {
        let problems = ConfigParser.parse(utf8(json)).problems
        #expect(problems.contains { $0.message.contains(fragment) }, "\(problems)")
    }
}
