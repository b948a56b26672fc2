import FoundationEssentials
@preconcurrency import Glibc
import SwarmSystem
import Testing

/// A tmpfs of a few MB that a test mounts for itself, so that it can fill it to the last page.
enum Tmpfs {
    /// Whether this process may mount a tmpfs (root, or CAP_SYS_ADMIN in its namespace).
    static let mountable: Bool = {
        let probe = "/tmp/swarm-e2e-tmpfs-probe-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        guard (try? FileSystem.makeDirectory(probe)) != nil else { return false }
        defer { try? FileSystem.remove(probe) }
        guard mount("tmpfs", probe, "tmpfs", 0, "size=1m") == 0 else { return false }
        return umount2(probe, Int32(MNT_DETACH)) == 0
    }()

    /// Mounts a tmpfs of `size` (`6m`) on a new folder, runs `body` with the folder, then
    /// unmounts it and removes the folder, also when `body` throws. The caller must have
    /// ended every process that uses it (`withWorkspace` does, for its daemons and agents);
    /// one still holding it makes the unmount lazy.
    static func withMount<T>(size: String, _ body: (String) async throws -> T) async throws -> T {
        let folder = "/tmp/swarm-e2e-tmpfs-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        try FileSystem.makeDirectory(folder, intermediates: false)
        guard mount("tmpfs", folder, "tmpfs", 0, "size=\(size),mode=0755") == 0 else {
            let error = Errno.current
            try? FileSystem.remove(folder)
            throw TmpfsError(message: "cannot mount a tmpfs on \(folder): \(error)")
        }
        defer {
            if umount2(folder, 0) != 0 { _ = umount2(folder, Int32(MNT_DETACH)) }
            try? FileSystem.remove(folder)
        }
        return try await body(folder)
    }

    /// Fills the file system holding `path` completely: appends 1MB chunks to `path` until
    /// the kernel says ENOSPC (the last, short write takes what is left). Returns the bytes
    /// written.
    static func fill(_ path: String) throws -> Int64 {
        let chunk = [UInt8](repeating: UInt8(ascii: "F"), count: 1 << 20)
        while true {
            do {
                try FileSystem.append(path, chunk)
            } catch .noSpace {
                return FileSystem.status(path)?.size ?? 0
            }
        }
    }
}

struct TmpfsError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The daemon on a full disk: it keeps running, tells the alert command at once, starts
/// nothing new, and once space returns every record, alert and queued task lands without a
/// restart. The workspace is on a tmpfs of 6MB that the test fills; everything the test
/// observes during the full period (the alert command's copy of each alert, the daemon's
/// log, the gates, the agents' run counts) is outside it.
@Suite("A full disk", .serialized, .timeLimit(.minutes(2)))
struct DiskFullTests {
    /// The shell template of these tests: the task text is the script; an exit without a
    /// result is dead-lettered at once. Local, also when SWARM_LAUNCHER=slurm: a tmpfs is no
    /// shared storage.
    static let template = """
        ---
        kind: worker
        command: /bin/sh task.md
        launcher: local
        on.exit: dead-letter
        ---
        {{task}}

        """

    /// A task of the gated template whose script is `script`.
    static func task(_ id: String, _ script: String) -> String {
        TestWorkspace.task([("role", "worker"), ("template", "gated-shell"), ("id", id)], script)
    }

    /// A script that notes its run in `runs`, writes its result (unless `fails`), waits for
    /// `gate`, then exits 0 (or 1 when it `fails`).
    static func gated(_ id: String, fails: Bool = false, gate: String, runs: String) -> String {
        """
        echo \(id) >> '\(runs)'
        \(fails ? "" : "swarm result --json '{\"summary\": \"\(id) is done\"}'")
        while [ ! -e '\(gate)' ]; do sleep 0.02; done
        exit \(fails ? 1 : 0)
        """
    }

    /// With `crashWhileFull`, the daemon is killed (SIGKILL) while writes are owed, and a new
    /// one starts once space returns: what was owed in memory is gone, and the new daemon
    /// rebuilds from what landed, by the crash contract.
    @Test(
        "the daemon survives a full disk, starts nothing while full, and converges once space returns",
        .enabled(if: Tmpfs.mountable, "needs root (or CAP_SYS_ADMIN) to mount a tmpfs it can fill"),
        arguments: [false, true])
    func survivesAFullDisk(crashWhileFull: Bool) async throws {
        let outside = "/tmp/swarm-e2e-disk-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        try FileSystem.makeDirectory(outside, intermediates: false)
        defer {
            if ProcessEnvironment.snapshot()["SWARM_TEST_KEEP"] == nil { try? FileSystem.removeTree(outside) }
        }
        let seen = outside + "/alerts.seen"
        let gate = outside + "/gate"
        let runs = outside + "/runs"
        let hook = "printf '%s\\n' \"$SWARM_ALERT_JSON\" >> '\(seen)'"
        let config = [
            "maxSlots": "3", "reserve": "0", "confinement": "\"off\"", "alertCommand": jsonString(hook),
            // the gated agents are silent while they wait: no liveness kill in this test
            "investigateAfter": "50", "killAfter": "60",
        ]
        try await Tmpfs.withMount(size: "6m") { disk in
            try await withWorkspace(
                config: config, files: ["templates/gated-shell.md": Self.template], folder: disk + "/ws"
            ) { ws in
                var daemon = try await ws.startDaemon(logFolder: outside)
                for id in ["a1", "a2"] {
                    try ws.drop("\(id).md", Self.task(id, Self.gated(id, gate: gate, runs: runs)))
                }
                try ws.drop(
                    "bad.md", Self.task("bad", Self.gated("bad", fails: true, gate: gate, runs: runs)))
                let running = ["a1", "a2", "bad"]
                #expect(try await ws.waitForStates(running, ["running"]), "\(ws.diagnostics())")
                let resultsWritten = await eventually {
                    ws.exists("swarm/agents/a1/results.json") && ws.exists("swarm/agents/a2/results.json")
                        && Self.lines(runs).count == 3
                }
                try #require(resultsWritten, "the agents wrote their results before the disk filled")
                var pids: [Int32] = []
                _ = try await eventually {
                    pids = try await ws.agents().filter { running.contains($0.id) }.compactMap(\.pid)
                    return pids.count == running.count
                }
                try #require(pids.count == running.count, "every running agent has its pid recorded")
                for id in ["q1", "q2"] {
                    try ws.drop(
                        "\(id).md", Self.task(id, "echo \(id) >> '\(runs)'\nswarm result --json '{}'"))
                }
                #expect(try await ws.waitForStates(["q1", "q2"], ["queued"]), "maxSlots 3 keeps them queued")

                // the full period
                let filler = disk + "/filler"
                let filled = try Tmpfs.fill(filler)
                #expect(throws: Errno.noSpace, "the disk is full (\(filled) bytes of filler)") {
                    try FileSystem.writeAtomically(disk + "/probe", [1])
                }
                // a write that fails half way frees what it took when its temporary file goes:
                // each poll of the full period takes that back, so the disk stays full
                let topUp = { _ = try? Tmpfs.fill(filler) }
                try FileSystem.writeAtomically(gate, [])
                let ended = await eventually {
                    topUp()
                    return pids.allSatisfy { !FileSystem.exists("/proc/\($0)") }
                }
                #expect(ended, "the daemon reaped the three agents that ended while the disk was full")
                let told = await eventually(timeout: 5) {
                    topUp()
                    return Self.alerts(seen).contains { $0.kind == "disk-full" }
                }
                #expect(told, "the alert command got a disk-full alert: \(Self.lines(seen))")
                let alive = await daemon.waitForExit(timeout: 0) == nil
                #expect(alive, "the daemon exited on a full disk: \(daemon.logText.suffix(2000))")
                let startedWhileFull = await eventually(timeout: 1.5) {
                    topUp()
                    return ["q1", "q2"].contains { ws.exists("swarm/agents/\($0)/stdout.log") }
                        || Self.lines(runs).count > running.count
                }
                #expect(!startedWhileFull, "no queued agent starts while the tree cannot be written")
                try #require(alive, "the rest needs the daemon")

                // space returns (to a new daemon, after a crash)
                if crashWhileFull {
                    await daemon.crash()
                    try FileSystem.remove(filler)
                    daemon = try await ws.startDaemon(logFolder: outside)
                } else {
                    try FileSystem.remove(filler)
                }
                let settled = try await ws.waitForStates(["a1", "a2", "q1", "q2"], ["done"], timeout: 20)
                let deadLettered = try await ws.waitForState("bad", ["dead-letter"], timeout: 5)
                let agents = try await ws.agents()
                #expect(settled && deadLettered, "\(agents.map { "\($0.id) \($0.state)" })")
                #expect(agents.map(\.id).sorted() == ["a1", "a2", "bad", "q1", "q2"])
                for agent in agents {
                    #expect(agent.attempts == 1, "\(agent.id) ran \(agent.attempts) attempts")
                }
                #expect(
                    ws.entries("swarm/dead-letter/bad").contains("reason.md"), "dead-letter/bad/ is filled")
                #expect(Self.lines(runs).sorted() == ["a1", "a2", "bad", "q1", "q2"], "each task ran once")

                var disagreements: [String] = []
                let agreed = try await eventually(timeout: 10) {
                    disagreements = try await ws.agents().compactMap { agent in
                        let meta = ws.text("swarm/agents/\(agent.id)/meta.json").flatMap {
                            try? decode(MetaRecord.self, $0)
                        }
                        guard meta?.state != agent.state || meta?.attempts != agent.attempts else {
                            return nil
                        }
                        return
                            "\(agent.id): status says \(agent.state)/\(agent.attempts), meta.json \(meta.map { "\($0.state)/\($0.attempts)" } ?? "unreadable")"
                    }
                    return disagreements.isEmpty
                }
                #expect(agreed, "swarm status agrees with every meta.json: \(disagreements)")

                #expect(await daemon.waitForExit(timeout: 0) == nil, "the daemon never exited")
                // alerts owed when the daemon was killed are gone with it (they reached the
                // alert command); without a crash, every one lands, in order
                guard !crashWhileFull else { return }
                var order = AlertOrder(missing: [], outOfOrder: [])
                let delivered = await eventually(timeout: 10) {
                    order = AlertOrder(log: Self.lines(ws.path("swarm/alerts.jsonl")), seen: Self.lines(seen))
                    return Self.alerts(seen).contains { $0.kind == "disk-recovered" } && order.missing.isEmpty
                }
                #expect(delivered, "alerts.jsonl lacks alerts the alert command saw: \(order.missing)")
                #expect(
                    order.outOfOrder.isEmpty, "alerts.jsonl has them in another order: \(order.outOfOrder)")
            }
        }
    }

    /// An orchestrator (a shell script) that asks for one gated child and writes its result
    /// once children.json says the child settled.
    static let orchestrator = """
        ---
        kind: orchestrator
        command: /bin/sh task.md
        launcher: local
        slots: 1
        on.exit: dead-letter
        ---
        {{task}}

        """

    /// The orchestrator's script (its task text, which its template runs).
    static func orchestration(child: String) -> String {
        """
        if [ -f children.json ] && grep -q '"fulfilled"' children.json; then
          swarm result --json '{"summary": "the child settled"}'
        elif [ ! -f spawned ]; then
          : > spawned
          cat > child.txt <<'CHILD'
        \(child)
        CHILD
          swarm spawn --template gated-shell -m "$(cat child.txt)" >/dev/null
        fi
        """
    }

    @Test(
        "a child that ends on a full disk: its fan-in and its parent's wake wait for space, then land",
        .enabled(if: Tmpfs.mountable, "needs root (or CAP_SYS_ADMIN) to mount a tmpfs it can fill"))
    func aFanInWaitsForSpace() async throws {
        let outside = "/tmp/swarm-e2e-disk-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        try FileSystem.makeDirectory(outside, intermediates: false)
        defer { try? FileSystem.removeTree(outside) }
        let gate = outside + "/gate"
        let runs = outside + "/runs"
        let config = [
            "maxSlots": "4", "reserve": "0", "confinement": "\"off\"", "investigateAfter": "50",
            "killAfter": "60",
        ]
        let files = [
            "templates/gated-shell.md": Self.template,
            "templates/shell-orchestrator.md": Self.orchestrator,
        ]
        try await Tmpfs.withMount(size: "6m") { disk in
            try await withWorkspace(config: config, files: files, folder: disk + "/ws") { ws in
                let daemon = try await ws.startDaemon(logFolder: outside)
                let child = Self.gated("kid", gate: gate, runs: runs)
                try ws.drop(
                    "boss.md",
                    TestWorkspace.task(
                        [("role", "meta"), ("template", "shell-orchestrator"), ("id", "boss")],
                        Self.orchestration(child: child)))
                let childRuns = await eventually { Self.lines(runs).count == 1 }
                try #require(childRuns, "the child runs: \(ws.diagnostics())")
                let kid = try #require(try await ws.agents().first { $0.parent == "boss" })
                let resultWritten = await eventually { ws.exists("swarm/agents/\(kid.id)/results.json") }
                try #require(resultWritten)
                let bossIdle = try await eventually { try await ws.agent("boss")?.pid == nil }
                try #require(bossIdle, "the orchestrator waits, idle, for its child")

                let filler = disk + "/filler"
                _ = try Tmpfs.fill(filler)
                let topUp = { _ = try? Tmpfs.fill(filler) }
                try FileSystem.writeAtomically(gate, [])
                let stalled = await eventually {
                    topUp()
                    return daemon.logText.contains("cannot write")
                }
                #expect(stalled, "the child's end was recorded while the disk was full")
                let earlyFanIn = await eventually(timeout: 1) {
                    topUp()
                    return ws.exists("swarm/agents/boss/children.json")
                }
                #expect(!earlyFanIn, "children.json cannot land on a full disk")

                try FileSystem.remove(filler)
                let done = try await ws.waitForStates(["boss", kid.id], ["done"], timeout: 20)
                let states = try await ws.agents().map { "\($0.id) \($0.state)" }
                #expect(done, "\(states)\n\(daemon.logText.suffix(3000))")
                let summary = ws.text("swarm/agents/boss/children.json") ?? ""
                #expect(summary.contains("\"\(kid.id)\"") && summary.contains("fulfilled"), "\(summary)")
                for agent in try await ws.agents() {
                    #expect(agent.attempts == 1, "\(agent.id) ran \(agent.attempts) attempts")
                }
                #expect(await daemon.waitForExit(timeout: 0) == nil, "the daemon never exited")
            }
        }
    }

    /// The lines of a text file (none when it is missing).
    static func lines(_ path: String) -> [String] {
        Run.text(path).split(separator: "\n").map(String.init)
    }

    /// The alerts in a file of alert JSON lines; lines that do not parse are left out.
    static func alerts(_ path: String) -> [AlertLine] {
        lines(path).compactMap { try? decode(AlertLine.self, $0) }
    }
}

/// The two fields of meta.json the test compares with `swarm status`.
struct MetaRecord: Decodable {
    var state: String
    var attempts: Int
}

/// How alerts.jsonl compares with the alerts an alert command received. Alert commands run
/// side by side, so they may append in another order than they were started; an alert's
/// time is when it was raised, so two alerts of different times must be in time order.
struct AlertOrder {
    /// Lines the command saw that alerts.jsonl lacks.
    var missing: [String]
    /// Pairs of lines the command saw (earlier first) that alerts.jsonl has the other way round.
    var outOfOrder: [(String, String)]

    init(missing: [String], outOfOrder: [(String, String)]) {
        self.missing = missing
        self.outOfOrder = outOfOrder
    }

    init(log: [String], seen: [String]) {
        var positions: [String: [Int]] = [:]
        for (index, line) in log.enumerated() { positions[line, default: []].append(index) }
        var found: [(line: String, time: String, index: Int)] = []
        missing = []
        for line in seen {
            guard let index = positions[line]?.first else {
                missing.append(line)
                continue
            }
            positions[line]?.removeFirst()
            found.append((line, (try? decode(AlertLine.self, line))?.time ?? "", index))
        }
        outOfOrder = []
        for a in found {
            for b in found where a.time < b.time && a.index > b.index { outOfOrder.append((a.line, b.line)) }
        }
    }
}

/// `text` as a JSON string literal, for a raw value of swarm.json.
func jsonString(_ text: String) -> String {
    var out = "\""
    for character in text {
        switch character {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: out.append(character)
        }
    }
    return out + "\""
}

/// The log cap: an agent that prints without end takes about `logHead + logTail` of disk.
@Suite("Capped logs", .serialized, .timeLimit(.minutes(1)))
struct CappedLogTests {
    static let files = ["templates/gated-shell.md": DiskFullTests.template]

    /// With a heartbeat of a minute, only the log schedule caps the log: every second while it
    /// grows, and, for an agent that was quiet first (`quietFirst`), from the write its
    /// one-shot watch reports.
    @Test(
        "a chatty agent's stdout.log stays near logHead + logTail on disk while its size grows far past",
        arguments: [false, true])
    func chattyAgent(quietFirst: Bool) async throws {
        let config = [
            "logHead": "\"64KB\"", "logTail": "\"256KB\"", "confinement": "\"off\"", "investigateAfter": "50",
            "killAfter": "60",
        ]
        try await withWorkspace(config: config, files: Self.files) { ws in
            try await ws.startDaemon(["--heartbeat", "1m"])
            let quiet = "printf 'starting\\n'; sleep 3\n"
            let total = 48 << 20 + (quietFirst ? 9 : 0)
            let script =
                (quietFirst ? quiet : "") + """
                    yes 'a chatty agent says this again and again' | head -c \(48 << 20)
                    swarm result --json '{}'
                    while [ ! -e '\(ws.path("gate"))' ]; do sleep 0.02; done
                    """
            try ws.drop("chatty.md", DiskFullTests.task("chatty", script))
            let printed = await eventually(timeout: 15) { ws.exists("swarm/agents/chatty/results.json") }
            try #require(printed, "the agent printed its \(total) bytes: \(ws.diagnostics())")

            let log = ws.path("swarm/agents/chatty/stdout.log")
            let bound: Int64 = 1 << 20
            let capped = await eventually(timeout: 5) {
                (FileSystem.status(log)?.allocatedBytes ?? .max) <= bound
            }
            let status = try #require(FileSystem.status(log))
            #expect(status.size == Int64(total), "the file's size counts every byte printed")
            #expect(capped, "stdout.log takes \(status.allocatedBytes) bytes of disk; 64KB + 256KB are kept")
            let logs = try await ws.swarm("logs", "chatty")
            #expect(logs.stdout.contains("bytes dropped here to cap the log"), "\(logs.stdout.prefix(300))")

            try ws.write("gate", "")
            #expect(try await ws.waitForState("chatty", ["done"]), "\(ws.diagnostics())")
        }
    }

    @Test("swarm logs prints a capped log's head and tail and one line where the hole is")
    func logsSkipTheHole() async throws {
        try await withWorkspace(config: ["confinement": "\"off\""], files: Self.files) { ws in
            let total: Int64 = 2 << 20
            let script = "yes 'talker line' | head -c \(total)\nswarm result --json '{}'\n"
            try ws.drop("talker.md", DiskFullTests.task("talker", script))
            #expect(try await ws.runUntilIdle().status == 0)
            let hole: Range<Int64> = 65_536..<(total - 65_536)
            try FileSystem.punchHole(ws.path("swarm/agents/talker/stdout.log"), hole)

            let output = try await ws.swarm("logs", "talker")
            #expect(output.status == 0, "\(output)")
            let dropped = "[swarm: \(hole.count) bytes dropped here to cap the log]"
            let lines = output.stdout.split(separator: "\n").map(String.init)
            #expect(lines.filter { $0 == dropped }.count == 1, "\(output.stdout.prefix(300))")
            #expect(!output.stdout.contains("\0"), "no zero bytes of the hole are printed")
            #expect(output.stdout.utf8.count < 256 << 10)
            let kept = lines.filter { $0 == "talker line" }.count
            #expect(kept >= 2 * 65_536 / 12 - 3, "the head and the tail are printed whole: \(kept) lines")
        }
    }
}
