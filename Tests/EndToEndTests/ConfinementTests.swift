import FoundationEssentials
@preconcurrency import Glibc
import SwarmSystem
import Testing

/// Agents confined by Landlock, through the real daemon: what a confined agent may write and
/// may not, what it inherits, what `swarm status` says, and how an unconfined run still works
/// where Landlock is missing. Helpers are at the bottom of this file, all fileprivate.
@Suite("Confinement of agents (Landlock)", .serialized, .timeLimit(.minutes(3)))
struct ConfinementTests {
    /// Every probe a confined agent runs, and what it must get.
    static let expectations: [(label: String, command: String, confined: String)] = [
        ("own-folder", #": > "$SWARM_AGENT_DIR/made-by-agent""#, "ok"),
        ("own-mkdir", #"mkdir -p "$SWARM_AGENT_DIR/notes/deep""#, "ok"),
        ("own-progress", #"swarm progress --outputs 1 probing"#, "ok"),
        ("private-tmp", #": > "$TMPDIR/scratch" && mktemp > /dev/null"#, "ok"),
        ("private-home", #"mkdir -p "$HOME/.config/tool" && echo x > "$HOME/.config/tool/settings""#, "ok"),
        ("workdir", #": > "$PWD/made-by-agent""#, "ok"),
        ("writes", #": > "$SWARM_ROOT/extra/made-by-agent""#, "ok"),
        ("dev-null", #"echo x > /dev/null"#, "ok"),
        ("sibling-create", #": > "$SWARM_ROOT/swarm/agents/sib/evil""#, "EACCES"),
        ("sibling-progress", #"echo forged >> "$SWARM_ROOT/swarm/agents/sib/progress.md""#, "EACCES"),
        ("sibling-result", #"rm -f "$SWARM_ROOT/swarm/agents/sib/results.json""#, "EACCES"),
        ("sibling-meta", #": > "$SWARM_ROOT/swarm/agents/sib/meta.json""#, "EACCES"),
        ("inbox", #": > "$SWARM_ROOT/swarm/inbox/evil.md""#, "EACCES"),
        ("control", #"echo "kill sib" > "$SWARM_ROOT/swarm/control/evil""#, "EACCES"),
        ("state-json", #"echo x >> "$SWARM_ROOT/swarm/state.json""#, "EACCES"),
        ("swarm-json", #": > "$SWARM_ROOT/swarm/swarm.json""#, "EACCES"),
        ("alerts", #"echo x >> "$SWARM_ROOT/swarm/alerts.jsonl""#, "EACCES"),
        ("daemon-lock", #": > "$SWARM_ROOT/swarm/daemon.lock""#, "EACCES"),
        ("templates", #"echo x >> "$SWARM_ROOT/templates/probe.md""#, "EACCES"),
        ("root-docs", #": > "$SWARM_ROOT/AGENTS.md""#, "EACCES"),
        (
            "shared-tmp", #": > /tmp/swarm-confinement-probe-$$ && rm /tmp/swarm-confinement-probe-$$"#,
            "EACCES"
        ),
    ]

    /// The harmless probes an unconfined agent runs (the probes above would really truncate
    /// swarm.json and forge tasks there).
    static let lightProbes = [
        "own-folder", "private-tmp", "private-home", "workdir", "writes", "shared-tmp", "outside",
    ]
    static let outsideProbe = (
        label: "outside", command: #": > "$SWARM_ROOT/made-outside""#, confined: "EACCES"
    )

    @Test("a confined agent writes its folder, TMPDIR, private HOME, workdir and writes; nothing else")
    func confinedAgent() async throws {
        let abi = Landlock.abi()
        try #require(abi > 0, "this kernel offers no Landlock; nothing to confine with")
        try await withConfinedSpace { space in
            let daemon = try await space.startDaemon()
            try await space.settleSibling()
            try space.drop("probe", template: "probe")
            try #require(try await space.waitFor("probe", "done"), "\(space.diagnostics())")

            let results = space.probeResults("probe")
            for probe in Self.expectations + [Self.outsideProbe] {
                #expect(
                    results[probe.label] == probe.confined,
                    "\(probe.label): \(results[probe.label] ?? "missing")")
            }
            #expect(
                space.text("swarm/agents/probe/probe.out")?.contains(
                    "home=\(space.root)/swarm/agents/probe/home\n") == true)
            #expect(space.text("swarm/agents/sib/progress.md")?.contains("forged") == false)
            #expect(FileSystem.exists(space.path("swarm/agents/sib/results.json")))
            #expect(!FileSystem.exists(space.path("swarm/inbox/evil.md")))
            #expect(FileSystem.exists(space.path("work/made-by-agent")))
            #expect(FileSystem.exists(space.path("extra/made-by-agent")))

            // swarm status shows how each agent ran; the daemon said which ABI it found.
            let agents = try await space.status()
            let landlock = "landlock:\(abi)" + (abi >= Landlock.scopeABI ? " signals" : "")
            #expect(agents.first { $0.id == "probe" }?.confinement == landlock)
            #expect(agents.first { $0.id == "sib" }?.confinement == landlock)
            let table = try await space.swarm(["status"])
            #expect(table.stdout.contains("CONFINED") && table.stdout.contains("landlock:\(abi)"), "\(table)")
            #expect(daemon.logText.contains("Landlock ABI \(abi)"), "\(daemon.logText)")
        }
    }

    @Test("a descriptor the daemon inherited reaches no agent: confined or not, it has 0, 1, 2 and 3")
    func noLeakedDescriptor() async throws {
        for (confinement, override) in [("warn", nil), ("off", nil), ("warn", "0")] as [(String, String?)] {
            try await withConfinedSpace(confinement: confinement) { space in
                let leaked = open(space.path("AGENTS.md"), O_RDONLY)  // no O_CLOEXEC
                defer { close(leaked) }
                try #require(leaked >= 0)
                // a silent `sleep` agent: a slow heartbeat keeps it from being killed for silence
                // before the test has looked at it
                let daemon = try await space.startDaemon(abiOverride: override, passed: [7: leaked], heartbeat: "2s")
                #expect(FileSystem.readLink("/proc/\(daemon.pid)/fd/7") == space.path("AGENTS.md"))
                try space.drop("fds", template: "fds")
                var pid: Int32?
                let deadline = Clock.monotonicNanoseconds() + 15_000_000_000
                while pid == nil && Clock.monotonicNanoseconds() < deadline {
                    pid = try await space.status().first { $0.id == "fds" && $0.state == "running" }?.pid
                    if pid == nil { await confinePause(20) }
                }
                let agent = try #require(pid, "fds never ran: \(space.diagnostics())")
                // Seen from outside once the agent is asleep in `sleep` (cmdline changes early in
                // execve, before close-on-exec descriptors are closed): no shell of ours in between.
                let became = await confineEventually {
                    let command = (try? FileSystem.readFile("/proc/\(agent)/cmdline", limit: 4096)) ?? []
                    return command.starts(with: Array("sleep".utf8)) && ProcFS.entry(of: agent)?.state == "S"
                }
                try #require(became, "the agent did not become sleep: \(space.diagnostics())")
                let descriptors = try FileSystem.entries(of: "/proc/\(agent)/fd").compactMap { Int($0.name) }
                    .sorted()
                let context = "confinement \(confinement), SWARM_LANDLOCK_ABI \(override ?? "unset")"
                #expect(descriptors == [0, 1, 2, 3], "\(context)")
                let lock = FileSystem.readLink("/proc/\(agent)/fd/3") ?? ""
                #expect(lock.hasPrefix(space.path("swarm/agents/fds")), "fd 3 is the agent's lock: \(lock)")
                let abi = Landlock.abi()
                let landlock = "landlock:\(abi)" + (abi >= Landlock.scopeABI ? " signals" : "")
                let expected = confinement == "off" ? "off" : (override == nil && abi > 0 ? landlock : "none")
                #expect(
                    try await space.status().first { $0.id == "fds" }?.confinement == expected, "\(context)")
                _ = try await space.swarm(["kill", "fds"])
                #expect(try await space.waitFor("fds", "killed"), "\(space.diagnostics())")
            }
        }
    }

    @Test("where Landlock is missing (SWARM_LANDLOCK_ABI=0), warn runs agents unconfined and says so")
    func missingLandlockWarns() async throws {
        try await withConfinedSpace { space in
            let daemon = try await space.startDaemon(abiOverride: "0")
            try space.drop("probe", template: "probe-light")
            try #require(try await space.waitFor("probe", "done"), "\(space.diagnostics())")
            let results = space.probeResults("probe")
            for label in ConfinementTests.lightProbes {
                #expect(results[label] == "ok", "unconfined, \(label): \(results[label] ?? "missing")")
            }
            #expect(try await space.status().first { $0.id == "probe" }?.confinement == "none")
            #expect(daemon.logText.contains("no Landlock"), "\(daemon.logText)")
        }
    }

    @Test("confinement: off runs agents unconfined, still with a private HOME")
    func confinementOff() async throws {
        try await withConfinedSpace(confinement: "off") { space in
            let daemon = try await space.startDaemon()
            try space.drop("probe", template: "probe-light")
            try #require(try await space.waitFor("probe", "done"), "\(space.diagnostics())")
            let results = space.probeResults("probe")
            for label in ConfinementTests.lightProbes {
                #expect(results[label] == "ok", "confinement off, \(label): \(results[label] ?? "missing")")
            }
            #expect(
                space.text("swarm/agents/probe/probe.out")?.contains(
                    "home=\(space.root)/swarm/agents/probe/home\n") == true)
            #expect(try await space.status().first { $0.id == "probe" }?.confinement == "off")
            #expect(daemon.logText.contains("confinement: off"), "\(daemon.logText)")
        }
    }

    @Test("confinement: require without Landlock: the daemon refuses to start and says what to do")
    func requireWithoutLandlock() async throws {
        try await withConfinedSpace(confinement: "require") { space in
            let output = try await space.swarm(
                ["run", "--until-idle"], abiOverride: "0", timeout: 20)
            #expect(output.status == 1, "\(output)")
            #expect(output.stderr.contains("\"require\"") && output.stderr.contains("Landlock"), "\(output)")
            #expect(output.stderr.contains("\"warn\" or \"off\""), "\(output)")
        }
    }

    @Test("swarm check accepts require, warn and off, and names a bad confinement value")
    func checkValidatesTheKey() async throws {
        try await withConfinedSpace(confinement: "sometimes") { space in
            let bad = try await space.swarm(["check"])
            #expect(bad.status != 0 && (bad.stdout + bad.stderr).contains("confinement"), "\(bad)")
            for good in ["require", "warn", "off"] {
                try space.setConfinement(good)
                let output = try await space.swarm(["check"])
                #expect(output.status == 0, "\(good): \(output)")
            }
        }
    }

    @Test("swarm help confine shows the hidden command; the overview leaves it out")
    func helpForTheHiddenCommand() async throws {
        let help = try await confineRun(ConfinedSpace.swarm, ["help", "confine"])
        #expect(help.status == 0 && help.stdout.contains("swarm confine [--write PATH]"), "\(help)")
        let overview = try await confineRun(ConfinedSpace.swarm, ["help"])
        #expect(!overview.stdout.contains("confine"), "\(overview)")
        let direct = try await confineRun(ConfinedSpace.swarm, ["confine", "--help"])
        #expect(direct.status == 0 && direct.stdout.contains("--keep FD"), "\(direct)")
    }
}

// MARK: - Helpers (fileprivate: other files of this target have their own)

fileprivate struct ConfineTimeout: Error, CustomStringConvertible {
    var command: [String]
    var description: String { "\(command.joined(separator: " ")) did not end in time" }
}

/// One agent of `swarm status --json`, as far as these tests look.
fileprivate struct ConfinedAgent: Decodable {
    var id: String
    var state: String
    var pid: Int32?
    var confinement: String?
}

fileprivate struct ConfinedStatus: Decodable {
    var agents: [ConfinedAgent]
}

fileprivate struct ConfinedState: Decodable {
    var daemon_pid: Int32?
}

fileprivate func confinePause(_ milliseconds: Int) async {
    try? await Task.sleep(for: .milliseconds(milliseconds))
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass.
fileprivate func confineEventually(timeout: Double = 15, _ condition: () -> Bool) async -> Bool {
    let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
    while !condition() {
        if Clock.monotonicNanoseconds() > deadline { return false }
        await confinePause(10)
    }
    return true
}

fileprivate func confineReadText(_ path: String) -> String? {
    (try? FileSystem.readFile(path, limit: 16 << 20)).map { String(decoding: $0, as: UTF8.self) }
}

/// Runs a command to its end and returns what it printed.
fileprivate func confineRun(
    _ executable: String, _ arguments: [String], environment: [String] = ConfinedSpace.environment(),
    timeout: Double = 30
) async throws -> CommandOutput {
    try await Run.command(executable, arguments, environment: environment, timeout: timeout)
}

/// A daemon started by a test.
fileprivate final class ConfinedDaemon: @unchecked Sendable {
    let pid: Int32
    let log: String
    var ended = false
    init(pid: Int32, log: String) {
        self.pid = pid
        self.log = log
    }
    var logText: String { confineReadText(log) ?? "" }
}

/// A workspace made by `swarm init` in /tmp, with the probe templates of these tests.
fileprivate final class ConfinedSpace: @unchecked Sendable {
    let root: String
    var daemons: [ConfinedDaemon] = []

    /// The built `swarm` beside the test bundle (`<scratch>/debug/swarm`).
    static let swarm: String = {
        var folder = FileSystem.readLink("/proc/self/exe") ?? "/"
        for _ in 0..<4 {
            folder = parentFolder(folder)
            let candidate = folder + "/swarm"
            if FileSystem.statusFollowing(candidate)?.kind == .regular && access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return ".build/debug/swarm"
    }()

    static func parentFolder(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// What every process these tests start gets: the binary's folder first on PATH, English
    /// messages, nothing of swarm's.
    static func environment(abiOverride: String? = nil) -> [String] {
        let inherited = ProcessEnvironment.snapshot()
        var environment = [
            "PATH=" + parentFolder(swarm) + ":/usr/local/bin:/usr/bin:/bin",
            "HOME=" + (inherited["HOME"] ?? "/root"), "LC_ALL=C", "NO_COLOR=1",
        ]
        if let abiOverride { environment.append(Landlock.abiOverrideVariable + "=" + abiOverride) }
        return environment
    }

    init(root: String) {
        self.root = root
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    func text(_ relative: String) -> String? { confineReadText(path(relative)) }

    func write(_ relative: String, _ text: String) throws {
        try FileSystem.makeDirectory(Self.parentFolder(path(relative)))
        try FileSystem.writeAtomically(path(relative), Array(text.utf8))
    }

    /// Sets `"confinement"` in swarm.json (adds the key after the opening brace).
    func setConfinement(_ value: String) throws {
        var lines = (text("swarm/swarm.json") ?? "{\n}").split(
            separator: "\n", omittingEmptySubsequences: false
        )
        .map(String.init)
        lines.removeAll { $0.contains("\"confinement\"") }
        let brace = try #require(lines.firstIndex { $0.hasPrefix("{") })
        lines.insert("  \"confinement\": \"\(value)\",", at: brace + 1)
        try write("swarm/swarm.json", lines.joined(separator: "\n"))
    }

    /// A probe script: each probe in a subshell, `LABEL=ok|EACCES|failed: ...` per line.
    static func probeScript(_ probes: [(label: String, command: String, confined: String)]) -> String {
        var script = #"""
            attempt() {
                if out=$( (eval "$2") 2>&1 ); then echo "$1=ok"; else
                    case $out in
                        *"Permission denied"*) echo "$1=EACCES" ;;
                        *) echo "$1=failed: $(echo "$out" | tr '\n' ' ')" ;;
                    esac
                fi
            }
            echo "home=$HOME"

            """#
        for probe in probes {
            let quoted = probe.command.split(separator: "'", omittingEmptySubsequences: false)
                .joined(separator: #"'\''"#)
            script += "attempt \(probe.label) '\(quoted)'\n"
        }
        return script
    }

    func drop(_ id: String, template: String, extra: [String] = []) throws {
        let text =
            (["---", "role: worker", "template: \(template)", "id: \(id)"] + extra + [
                "---", "Probe \(id).", "",
            ])
            .joined(separator: "\n")
        let temporary = path("swarm/inbox/.\(id).md.tmp")
        try FileSystem.createExclusive(temporary, Array(text.utf8))
        try FileSystem.rename(temporary, to: path("swarm/inbox/\(id).md"))
    }

    /// A sim worker `sib` that has finished, so its folder holds progress.md and results.json.
    func settleSibling() async throws {
        try drop("sib", template: "sim-worker", extra: ["sim.steps: 1", "sim.interval: 10ms"])
        try #require(try await waitFor("sib", "done"), "\(diagnostics())")
    }

    func probeResults(_ id: String) -> [String: String] {
        var results: [String: String] = [:]
        for line in (text("swarm/agents/\(id)/probe.out") ?? "").split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            results[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return results
    }

    func swarm(_ arguments: [String], abiOverride: String? = nil, timeout: Double = 30) async throws
        -> CommandOutput
    {
        try await confineRun(
            Self.swarm, ["--root", root] + arguments, environment: Self.environment(abiOverride: abiOverride),
            timeout: timeout)
    }

    func status() async throws -> [ConfinedAgent] {
        let output = try await swarm(["status", "--json"])
        try #require(output.status == 0, "\(output)")
        return try JSONDecoder().decode(ConfinedStatus.self, from: Data(output.stdout.utf8)).agents
    }

    func waitFor(_ id: String, _ state: String, timeout: Double = 30) async throws -> Bool {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
        while Clock.monotonicNanoseconds() < deadline {
            if try await status().first(where: { $0.id == id })?.state == state { return true }
            await confinePause(30)
        }
        return false
    }

    /// `swarm run --heartbeat HEARTBEAT` (200ms unless given) in the background; returns once
    /// state.json names it.
    func startDaemon(
        abiOverride: String? = nil, passed: [Int32: Int32] = [:], heartbeat: String = "200ms"
    ) async throws -> ConfinedDaemon {
        let log = path("daemon-\(daemons.count + 1).log")
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: Self.swarm, arguments: ["--root", root, "run", "--heartbeat", heartbeat],
                environment: Self.environment(abiOverride: abiOverride), workingDirectory: root,
                stdoutPath: log, stderrPath: log, passedDescriptors: passed))
        let daemon = ConfinedDaemon(pid: pid, log: log)
        daemons.append(daemon)
        let deadline = Clock.monotonicNanoseconds() + 15_000_000_000
        while Clock.monotonicNanoseconds() < deadline {
            if let state = text("swarm/state.json"),
                (try? JSONDecoder().decode(ConfinedState.self, from: Data(state.utf8)))?.daemon_pid == pid
            {
                return daemon
            }
            if let exit = Processes.reap(pid) {
                daemon.ended = true
                Issue.record("the daemon ended (\(exit)) before it was ready: \(daemon.logText)")
                throw ConfineTimeout(command: ["swarm", "run"])
            }
            await confinePause(10)
        }
        throw ConfineTimeout(command: ["swarm", "run"])
    }

    func diagnostics() -> String {
        var out = "workspace \(root)\n"
        for daemon in daemons { out += "--- \(daemon.log)\n" + String(daemon.logText.suffix(3000)) }
        for id in ["sib", "probe", "fds"] {
            if let err = text("swarm/agents/\(id)/stderr.log"), !err.isEmpty {
                out += "--- \(id) stderr\n\(err.suffix(2000))"
            }
        }
        return out
    }

    /// Stops every daemon and agent of this workspace and removes it.
    func cleanup() async {
        for daemon in daemons where !daemon.ended {
            _ = Processes.signal(daemon.pid, SIGKILL)
            daemon.ended = await Run.waitForExit(daemon.pid, timeout: 10) != nil
        }
        for _ in 0..<50 {
            let left = ProcFS.snapshot().filter { process in
                process.state != "Z"
                    && (ProcFS.environment(of: process.pid) ?? []).contains("SWARM_ROOT=" + root)
            }
            if left.isEmpty { break }
            for process in left { _ = Processes.signal(process.pid, SIGKILL) }
            await confinePause(10)
        }
        if ProcessEnvironment.snapshot()["SWARM_TEST_KEEP"] == nil { try? FileSystem.removeTree(root) }
    }
}

/// A fresh workspace with the probe and fds templates, `confinement` set when given; removed
/// after `body`, whatever happens.
fileprivate func withConfinedSpace(
    confinement: String? = nil, _ body: (ConfinedSpace) async throws -> Void
) async throws {
    let root = "/tmp/swarm-confine-e2e-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
    let space = ConfinedSpace(root: root)
    do {
        try await prepare(space, confinement: confinement)
        try await body(space)
    } catch {
        Issue.record("\(space.diagnostics())")
        await space.cleanup()
        throw error
    }
    await space.cleanup()
}

/// `swarm init`, the check that this build runs `swarm confine`, swarm.json's `confinement`,
/// the folders and the probe templates.
fileprivate func prepare(_ space: ConfinedSpace, confinement: String?) async throws {
    let root = space.root
    let made = try await confineRun(ConfinedSpace.swarm, ["init", root])
    try #require(made.status == 0, "swarm init: \(made)")
    let wired = try await confineRun(ConfinedSpace.swarm, ["confine", "--", "/bin/true"])
    try #require(
        wired.status == 0,
        "\(ConfinedSpace.swarm) does not run `swarm confine` (SwarmCommand.main must dispatch it): \(wired)")
    if let confinement { try space.setConfinement(confinement) }
    try FileSystem.makeDirectory(space.path("work"))
    try FileSystem.makeDirectory(space.path("extra"))
    let all = ConfinementTests.expectations + [ConfinementTests.outsideProbe]
    try space.write("probe.sh", ConfinedSpace.probeScript(all))
    try space.write(
        "probe-light.sh",
        ConfinedSpace.probeScript(all.filter { ConfinementTests.lightProbes.contains($0.label) }))
    try space.write(
        "templates/probe.md",
        """
        ---
        # Tries every write of ConfinementTests.expectations and reports each in probe.out.
        kind: worker
        command: /bin/sh "$SWARM_ROOT/probe.sh" > "$SWARM_AGENT_DIR/probe.out" 2>&1; swarm result --json '{"summary": "probed"}'
        workdir: work
        writes: extra
        home: private
        ---
        Probe the confinement.

        """)
    try space.write(
        "templates/probe-light.md",
        """
        ---
        # The harmless probes only, for agents that run unconfined.
        kind: worker
        command: /bin/sh "$SWARM_ROOT/probe-light.sh" > "$SWARM_AGENT_DIR/probe.out" 2>&1; swarm result --json '{"summary": "probed"}'
        workdir: work
        writes: extra
        home: private
        ---
        Probe what an unconfined agent may do.

        """)
    try space.write(
        "templates/fds.md",
        """
        ---
        # Becomes sleep, so that the test can list the agent's descriptors through /proc.
        kind: worker
        command: exec sleep 30
        ---
        Hold still.

        """)
}
