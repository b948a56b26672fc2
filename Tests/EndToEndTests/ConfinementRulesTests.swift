@preconcurrency import Glibc
import SwarmSystem
import Testing

/// The restrictions beyond writing, through the real daemon: `reads: system`, `network:` and
/// signal scoping on a confined shell agent; and liveness that another agent cannot fake by
/// locking a sibling's folder.
@Suite("Confinement rules: reads, network, signals, liveness", .serialized, .timeLimit(.minutes(2)))
struct ConfinementRulesTests {
    @Test(
        "a confined agent cannot signal the daemon or a sibling, read outside reads: system, or connect to an unlisted port"
    )
    func confinedAgentStaysInside() async throws {
        let abi = Landlock.abi()
        try #require(abi >= Landlock.scopeABI, "this kernel's Landlock (ABI \(abi)) has no signal scoping")
        let listed = try PortListener()
        let unlisted = try PortListener()
        defer {
            listed.stop()
            unlisted.stop()
        }
        let secret = "/var/tmp/swarm-secret-\(Processes.currentID)-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.writeAtomically(secret, Array("TOPSECRET\n".utf8))
        defer { try? FileSystem.remove(secret) }
        try await withWorkspace { space in
            try await space.startDaemon()
            try space.drop(
                "sib.md", TestWorkspace.simTask("sib", [("sim.steps", "100"), ("sim.interval", "100ms")]))
            #expect(try await space.waitForState("sib", ["running"]))
            #expect(try await eventually { try await space.agent("sib")?.pid != nil })
            let sibling = try #require(try await space.agent("sib")?.pid)
            try space.write("sibling.pid", "\(sibling)\n")
            let probes: [(String, String)] = [
                ("daemon", #"kill -0 "$(cat "$SWARM_ROOT/swarm/daemon.lock.pid")""#),
                ("sibling", #"kill -0 "$(cat "$SWARM_ROOT/sibling.pid")""#),
                ("secret", "cat \(secret)"),
                ("listed", "bash -c 'exec 3<>/dev/tcp/127.0.0.1/\(listed.port)'"),
                ("unlisted", "bash -c 'exec 3<>/dev/tcp/127.0.0.1/\(unlisted.port)'"),
                ("own-child", #"sleep 30 & kill $! ; wait $!; test $? -eq 143"#),
                ("own-write", #"echo mine > "$SWARM_AGENT_DIR/made" && cat "$SWARM_AGENT_DIR/made""#),
                ("workspace-read", #"cat "$SWARM_ROOT/AGENTS.md" > /dev/null"#),
                ("progress", "swarm progress --outputs 1 probing"),
            ]
            try space.drop(
                "probe.md",
                TestWorkspace.task(
                    [
                        ("role", "worker"), ("template", "shell"), ("id", "probe"), ("reads", "system"),
                        ("network", "\(listed.port)"),
                    ], probeScript(probes) + "echo '{\"status\": \"ok\"}' > results.json\n"))
            #expect(try await space.waitForState("probe", ["done"]), "\(space.diagnostics())")
            let results = probeResults(space.text("swarm/agents/probe/probe.out") ?? "")
            for label in ["daemon", "sibling"] {
                #expect(results[label] == "EPERM", "\(label): \(results)")
            }
            for label in ["secret", "unlisted"] {
                #expect(results[label] == "EACCES", "\(label): \(results)")
            }
            for label in ["listed", "own-child", "own-write", "workspace-read", "progress"] {
                #expect(results[label] == "ok", "\(label): \(results)")
            }
            #expect(space.text("swarm/agents/probe/probe.out")?.contains("TOPSECRET") == false)
            #expect(try await space.state("sib") == "running", "the sibling lives on")

            let status = try await space.swarm("status", "probe", "--json")
            #expect(status.stdout.contains("\"landlock:\(abi) reads net signals\""), "\(status)")
            let table = try await space.swarm("status")
            #expect(table.stdout.contains("landlock:\(abi) reads net signals"), "\(table)")
        }
    }

    @Test("a task narrows its template's rules and never widens them; a bad rule is refused at intake")
    func tasksNarrowOnly() async throws {
        try #require(Landlock.abi() > 0, "this kernel offers no Landlock")
        let secret = "/var/tmp/swarm-secret-\(Processes.currentID)-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.writeAtomically(secret, Array("TOPSECRET\n".utf8))
        defer { try? FileSystem.remove(secret) }
        let narrow = "---\nkind: worker\ncommand: /bin/sh task.md\nreads: system\n---\n{{task}}\n"
        try await withWorkspace(files: ["templates/narrow.md": narrow]) { space in
            try await space.startDaemon()
            try space.drop(
                "wide.md",
                TestWorkspace.task(
                    [("role", "worker"), ("template", "narrow"), ("id", "wide"), ("reads", "all")],
                    "cat \(secret) > seen 2>&1; echo '{\"status\": \"ok\"}' > results.json\n"))
            #expect(try await space.waitForState("wide", ["done"]), "\(space.diagnostics())")
            #expect(space.text("swarm/agents/wide/seen")?.contains("Permission denied") == true)

            try space.drop(
                "bad.md",
                TestWorkspace.task([("role", "worker"), ("template", "shell"), ("network", "https")], "true"))
            #expect(
                await eventually {
                    space.entries("swarm/rejected").contains { $0.hasSuffix(".error") }
                })
            let error = space.entries("swarm/rejected").first { $0.hasSuffix(".error") }.flatMap {
                space.text("swarm/rejected/" + $0)
            }
            #expect(
                error?.contains("network \"https\" is not any, none or a list of TCP ports") == true,
                "\(error ?? "")")
        }
    }

    @Test(
        "an agent that locks a sibling's folder cannot make it look alive: its end while the daemon was down is read"
    )
    func aForeignLockIsNotLife() async throws {
        try await withWorkspace { space in
            // both agents touch a file in their folder, a sign of life, so that a slow machine
            // does not kill them for silence before the restart
            try await space.startDaemon(["--heartbeat", "1s"])
            try space.drop(
                "victim.md",
                TestWorkspace.task(
                    [("role", "worker"), ("template", "shell"), ("id", "victim")],
                    #"while [ ! -e "$SWARM_ROOT/go" ]; do touch alive; sleep 0.05; done; echo '{"status": "ok"}' > results.json"#
                ))
            #expect(try await space.waitForState("victim", ["running"]))
            #expect(try await eventually { try await space.agent("victim")?.pid != nil })
            // blocks until the victim's run releases its folder's lock, then holds it
            try space.drop(
                "holder.md",
                TestWorkspace.task(
                    [("role", "worker"), ("template", "shell"), ("id", "holder")],
                    #"flock "$SWARM_ROOT/swarm/agents/victim" sh -c ': > locked; while :; do touch alive; sleep 0.1; done'"#
                ))
            #expect(try await space.waitForState("holder", ["running"]))
            await space.crashDaemons()
            try space.write("go", "")
            #expect(await eventually { space.exists("swarm/agents/holder/locked") }, "\(space.diagnostics())")

            try await space.startDaemon(["--heartbeat", "1s"])
            #expect(try await space.waitForState("victim", ["done"], timeout: 10), "\(space.diagnostics())")
            #expect(try await space.agent("victim")?.attempts == 1)
            #expect(try await space.alerts("stuck", agent: "victim").isEmpty)
        }
    }
}

/// The probes as a shell script: each in a subshell, `LABEL=ok|EACCES|EPERM|failed: ...`
/// per line, into probe.out.
private func probeScript(_ probes: [(label: String, command: String)]) -> String {
    var script = #"""
        exec > probe.out 2>&1
        attempt() {
            if out=$( (eval "$2") 2>&1 ); then echo "$1=ok"; else
                case $out in
                    *"Permission denied"*) echo "$1=EACCES" ;;
                    *"Operation not permitted"*) echo "$1=EPERM" ;;
                    *) echo "$1=failed: $(echo "$out" | tr '\n' ' ')" ;;
                esac
            fi
        }

        """#
    for probe in probes {
        let quoted = probe.command.split(separator: "'", omittingEmptySubsequences: false)
            .joined(separator: #"'\''"#)
        script += "attempt \(probe.label) '\(quoted)'\n"
    }
    return script
}

private func probeResults(_ text: String) -> [String: String] {
    var results: [String: String] = [:]
    for line in text.split(separator: "\n") {
        guard let equals = line.firstIndex(of: "=") else { continue }
        results[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    return results
}

/// A TCP listener on 127.0.0.1 in a python3 child, at a port the kernel picked; it accepts
/// until stopped.
private final class PortListener: @unchecked Sendable {
    let pid: Int32
    let port: UInt16

    init() throws {
        let file = "/tmp/swarm-port-\(Processes.currentID)-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileSystem.remove(file) }
        let script = """
            import socket, sys
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
            open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
            import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
            while True: s.accept()[0].close()
            """
        pid = try Spawner.spawn(
            SpawnRequest(
                executable: "/bin/sh", arguments: ["-c", "exec python3 -c \"$0\" \"$1\"", script, file],
                environment: SwarmBinary.environment))
        let deadline = Clock.monotonicNanoseconds() + 10_000_000_000
        var found: UInt16?
        while found == nil && Clock.monotonicNanoseconds() < deadline {
            found = (try? FileSystem.readFile(file, limit: 64)).flatMap {
                UInt16(String(decoding: $0, as: UTF8.self))
            }
            if found == nil { usleep(10_000) }
        }
        guard let found else {
            _ = Processes.signal(pid, SIGKILL)
            throw Errno(rawValue: ETIMEDOUT)
        }
        port = found
    }

    func stop() {
        _ = Processes.signal(pid, SIGKILL)
        _ = Processes.reap(pid)
    }
}
