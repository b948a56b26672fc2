import SwarmCore
import SwarmProtocol
import SwarmSystem
import Testing

@testable import SwarmRuntime

/// What a confined run may read and connect to, without a kernel.
@Suite struct AccessPlannerTests {
    @Test func systemFoldersLeaveOutKeysAndOtherPeoplesFiles() {
        let listing: (String) -> [String] = { folder in
            folder == "/etc"
                ? ["passwd", "ssh", "shadow", "gshadow", "sudoers", "ssl", "resolv.conf", "security"]
                : ["certs", "private", "openssl.cnf"]
        }
        let folders = AccessPlanner.systemFolders(listing: listing)
        #expect(
            folders.contains("/usr") && folders.contains("/etc/passwd")
                && folders.contains("/etc/resolv.conf"))
        #expect(folders.contains("/etc/ssl/certs") && folders.contains("/etc/ssl/openssl.cnf"))
        for hidden in [
            "/etc/ssh", "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ssl", "/etc/ssl/private",
        ] {
            #expect(!folders.contains(hidden), "\(hidden)")
        }
        for never in ["/home", "/root", "/var", "/tmp", "/run", "/etc"] {
            #expect(!folders.contains(never), "\(never)")
        }
    }

    @Test func readablePathsAreTheWorkspacePathToolsAndTheListedOnes() throws {
        let environment = [
            "HOME=/home/u",
            "PATH=/w/.build/debug:/home/u/.pyenv/shims:/home/u/bin:/usr/local/bin:relative:/bin",
        ]
        let readable = try #require(
            AccessPlanner.readable(
                .system(extra: ["~/.gitconfig", "data"]), root: "/w", environment: environment,
                home: "/home/u",
                resolve: { $0.hasPrefix("~/") ? "/home/u" + $0.dropFirst() : "/w/" + $0 }))
        #expect(
            readable == [
                "/w", "/w/.build/debug", "/home/u/.pyenv/shims", "/home/u/.pyenv", "/home/u/bin",
                "/usr/local/bin",
                "/usr/local", "/bin", "/home/u/.gitconfig", "/w/data",
            ])
        #expect(!readable.contains("/home/u") && !readable.contains("/"))
        #expect(
            AccessPlanner.readable(.all, root: "/w", environment: environment, home: nil, resolve: { $0 })
                == nil)
    }

    @Test func listedPortsGainTheUpstreamsPorts() {
        let environment = [
            "ANTHROPIC_BASE_URL=http://127.0.0.1:8123/v1", "OPENAI_BASE_URL=https://api.example.com",
            "https_proxy=http://user@proxy:3128", "OTHER_URL=http://x:9", "NOT_A_URL_BASE_URL=nonsense",
        ]
        #expect(AccessPlanner.connectPorts(.any, environment: environment) == nil)
        #expect(AccessPlanner.connectPorts(NetworkRule.none, environment: environment) == [])
        #expect(
            AccessPlanner.connectPorts(.ports([443, 22]), environment: environment) == [443, 22, 8123, 3128])
    }

    @Test(arguments: [
        ("https://api.anthropic.com", UInt16?(443)), ("http://h", 80), ("http://h:8080/x?y", 8080),
        ("https://u:p@h:9443", 9443), ("http://[::1]:7000/", 7000), ("http://[::1]/", 80), ("ftp://h", nil),
        ("h:80", nil), ("http://h:0", nil), ("http://h:99999", nil), ("http://h:x", nil),
    ])
    func portsOfURLs(_ url: String, _ port: UInt16?) {
        #expect(AccessPlanner.port(ofURL: url) == port)
    }

    @Test func confineOptionsCarryEveryRuleToASlurmNode() {
        #expect(AccessPlanner.confineOptions(Landlock.Rules(writable: ["/a"])) == ["--write", "/a"])
        #expect(
            AccessPlanner.confineOptions(
                Landlock.Rules(writable: ["/a"], readable: ["/w"], connectPorts: [443], scoped: true)) == [
                    "--write", "/a", "--read-system", "--read", "/w", "--connect", "443", "--scoped",
                ])
        #expect(
            AccessPlanner.confineOptions(Landlock.Rules(writable: [], connectPorts: [])) == ["--no-connect"])
    }

    @Test func aPlanSaysWhatTookEffectAndWhatThisKernelCannotEnforce() throws {
        var record = AgentRecord(
            id: "w1", parent: nil, depth: 1, kind: .worker, role: "worker", template: "t", priority: .normal,
            slots: 0, policy: .standard, createdAt: 0)
        record.network = .ports([443])
        let template = Template(name: "t", command: "run it")
        let modern = try LaunchPlanner.plan(
            record, template: template, wake: [.start], context: context(abi: 7)
        ).get()
        #expect(modern.confinement == .landlock(abi: 7, restrictions: [.network, .signals]))
        #expect(modern.spec.rules?.connectPorts == [443] && modern.unenforced.isEmpty)
        let old = try LaunchPlanner.plan(record, template: template, wake: [.start], context: context(abi: 3))
            .get()
        #expect(old.confinement == .landlock(abi: 3))
        #expect(old.unenforced.count == 2 && old.unenforced[0].contains("ABI 4"))
        let required = LaunchPlanner.plan(
            record, template: template, wake: [.start], context: context(abi: 3, confinement: .require))
        #expect(throws: SwarmError.self) { try required.get() }
        var reads = template
        reads.reads = .system(extra: [])
        let reading = try LaunchPlanner.plan(
            record, template: reads, wake: [.start], context: context(abi: 7)
        ).get()
        #expect(reading.confinement == .landlock(abi: 7, restrictions: [.reads, .network, .signals]))
        #expect(reading.spec.rules?.readable?.first == "/w")
    }

    func context(abi: Int, confinement: Confinement = .warn) -> LaunchContext {
        var config = SwarmConfig()
        config.confinement = confinement
        return LaunchContext(
            workspace: Workspace(root: "/w"), config: config, baseEnvironment: ["PATH=/usr/bin:/bin"],
            landlockABI: abi, home: "/root")
    }
}
