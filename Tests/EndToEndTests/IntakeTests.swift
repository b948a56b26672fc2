@preconcurrency import Glibc
import SwarmSystem
import Testing

/// What lands in the inbox for one ugly-input row.
enum Drop: Sendable {
    case bytes([UInt8])
    case symlink(String)
    case fifo
    case directory
}

/// One file that intake must reject, keep and explain.
struct UglyInput: Sendable, CustomTestStringConvertible {
    var label: String
    var name: String
    var drop: Drop
    /// Fragments the .error file must hold.
    var fragments: [String]

    init(_ label: String, _ name: String, _ drop: Drop, _ fragments: String...) {
        self.label = label
        self.name = name
        self.drop = drop
        self.fragments = fragments
    }

    init(_ label: String, _ name: String, _ text: String, _ fragments: String...) {
        self.label = label
        self.name = name
        drop = .bytes(Array(text.utf8))
        self.fragments = fragments
    }

    var testDescription: String { label }
}

/// A task that works, to show that the daemon keeps going after each rejection.
func goodTask(_ id: String) -> String {
    TestWorkspace.simTask(id, [("sim.steps", "1"), ("sim.interval", "1ms")])
}

@Suite(
    "Intake: bad inbox files are kept and explained; the daemon goes on", .serialized, .timeLimit(.minutes(1))
)
struct IntakeTests {
    static let ugly: [UglyInput] = [
        UglyInput(
            "missing role", "norole.md", "---\ntemplate: sim-worker\n---\nNo role.\n", "no role", "role:"),
        UglyInput(
            "unknown role", "badrole.md", "---\nrole: nosuchrole\ntemplate: sim-worker\n---\nX\n",
            "nosuchrole", "worker"),
        UglyInput(
            "missing template", "notemplate.md", "---\nrole: worker\n---\nNo template.\n", "no template"),
        UglyInput(
            "unknown template", "badtemplate.md", "---\nrole: worker\ntemplate: reviewer\n---\nX\n",
            "reviewer", "sim-worker"),
        UglyInput(
            "unknown priority", "prio.md",
            "---\nrole: worker\ntemplate: sim-worker\npriority: asap\n---\nX\n",
            "asap", "urgent"),
        UglyInput(
            "id ../x", "escape.md", "---\nrole: worker\ntemplate: sim-worker\nid: ../x\n---\nX\n", "../x"),
        UglyInput(
            "id in capitals", "caps.md", "---\nrole: worker\ntemplate: sim-worker\nid: FixLogin\n---\nX\n",
            "FixLogin"),
        UglyInput(
            "no closing ---", "open.md", "---\nrole: worker\ntemplate: sim-worker\nThe text.\n", "line"),
        UglyInput(
            "a key twice", "twice.md", "---\nrole: worker\nrole: meta\ntemplate: sim-worker\n---\nX\n",
            "line 3", "role"),
        UglyInput(
            "slots not a number", "slots.md",
            "---\nrole: meta\ntemplate: sim-orchestrator\nslots: many\n---\nX\n", "many"),
        UglyInput(
            "binary bytes", "binary.md",
            .bytes(Array("---\nrole: worker\n".utf8) + [0, 1, 2, 0xFF, 0, 0x7F] + Array("\n---\n".utf8)),
            "NUL"),
        UglyInput(
            "invalid UTF-8", "latin1.md",
            .bytes(Array("---\nrole: worker\ntemplate: sim-worker\n---\nCaf".utf8) + [0xE9, 0x0A]), "UTF-8"),
        UglyInput("empty file", "empty.md", .bytes([]), "empty"),
        UglyInput(
            "JSON that is an array", "list.json", #"[{"role": "worker", "template": "sim-worker"}]"#,
            "object", "array"),
        UglyInput("JSON that does not parse", "broken.json", #"{"role": "worker", "#, "line 1", "ends early"),
        UglyInput("symlink to a real task", "link.md", .symlink("/etc/hostname"), "symbolic link"),
        UglyInput("FIFO", "pipe.md", .fifo, "fifo"),
        UglyInput("directory", "folder.md", .directory, "directory"),
        UglyInput(
            "2 MiB file", "huge.md",
            .bytes(
                Array(
                    ("---\nrole: worker\ntemplate: sim-worker\n---\n" + String(repeating: "x", count: 2 << 20))
                        .utf8)),
            "limit"),
    ]

    /// Makes the ugly thing in a staging folder beside the inbox and renames it in, so that it
    /// appears in one step (as `swarm submit` and careful people do).
    static func place(_ row: UglyInput, in ws: TestWorkspace) throws {
        let staging = ws.path("staging")
        try FileSystem.makeDirectory(staging)
        let staged = staging + "/" + row.name
        switch row.drop {
        case .bytes(let bytes): try FileSystem.writeAtomically(staged, bytes)
        case .symlink(let target): try FileSystem.symlink(target: target, at: staged)
        case .fifo: try #require(mkfifo(staged, 0o644) == 0)
        case .directory: try FileSystem.makeDirectory(staged)
        }
        try FileSystem.rename(staged, to: ws.path("swarm/inbox/" + row.name))
    }

    /// Checks that `row` was rejected: the original kept in rejected/, a .error that explains,
    /// a rejected-task alert; then that a good task still completes.
    static func expectRejected(_ row: UglyInput, in ws: TestWorkspace, good: String) async throws {
        let error = "swarm/rejected/\(row.name).error"
        let explained = await eventually { ws.exists(error) }
        try #require(
            explained, "no \(error); rejected/ holds \(ws.entries("swarm/rejected"))\n\(ws.diagnostics())")
        let reason = ws.text(error) ?? ""
        #expect(reason.contains(row.name), "\(reason)")
        for fragment in row.fragments { #expect(reason.contains(fragment), "\(reason)") }
        #expect(!ws.entries("swarm/inbox").contains(row.name))

        let kept = ws.path("swarm/rejected/" + row.name)
        switch row.drop {
        case .bytes(let bytes):
            #expect(ws.bytes("swarm/rejected/" + row.name) == bytes, "original bytes kept")
        case .symlink(let target): #expect(FileSystem.readLink(kept) == target)
        case .fifo: #expect(FileSystem.status(kept)?.kind == .fifo)
        case .directory: #expect(FileSystem.status(kept)?.kind == .directory)
        }
        // the alert follows the .error file: wait for it
        var alerts: [AlertLine] = []
        let alerted = try await eventually {
            alerts = try await ws.alerts("rejected-task")
            return alerts.contains { $0.message.contains(row.name) && $0.agent == nil }
        }
        #expect(alerted, "\(alerts)")

        try ws.drop(good + ".md", goodTask(good))
        #expect(try await ws.waitForState(good, ["done"]), "\(ws.diagnostics())")
        #expect(try await ws.agents().count == 1, "only the good task became an agent")
    }

    @Test("an ugly file dropped while the daemon runs", arguments: ugly)
    func uglyInput(_ row: UglyInput) async throws {
        try await withWorkspace { ws in
            let daemon = try await ws.startDaemon()
            try Self.place(row, in: ws)
            try await Self.expectRejected(row, in: ws, good: "after")
            #expect(await daemon.waitForExit(timeout: 0) == nil, "the daemon is still running")
        }
    }

    @Test("ugly files already in the inbox when the daemon starts, all at once")
    func uglyInputsAtStart() async throws {
        try await withWorkspace { ws in
            for row in Self.ugly { try Self.place(row, in: ws) }
            let output = try await ws.runUntilIdle()
            #expect(output.status == 0, "\(output)")
            for row in Self.ugly {
                #expect(ws.exists("swarm/rejected/\(row.name).error"), "\(row.name)")
            }
            #expect(try await ws.alerts("rejected-task").count == Self.ugly.count)
            #expect(try await ws.agents().isEmpty)
            #expect(ws.entries("swarm/inbox").allSatisfy { $0.hasPrefix(".") })
        }
    }

    /// Things made in place inside the inbox rather than renamed in: `ln -s`, `mkfifo`, `mkdir`.
    static let inPlaceRows: [UglyInput] = ugly.filter {
        if case .bytes = $0.drop { return false }
        return true
    }

    @Test(
        "a symlink, FIFO or directory made directly in the inbox while the daemon runs",
        arguments: inPlaceRows)
    func madeInPlace(_ row: UglyInput) async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon()
            let target = ws.path("swarm/inbox/" + row.name)
            switch row.drop {
            case .symlink(let to): try FileSystem.symlink(target: to, at: target)
            case .fifo: try #require(mkfifo(target, 0o644) == 0)
            case .directory: try FileSystem.makeDirectory(target)
            case .bytes: return
            }
            let seen = await eventually(timeout: 5) { ws.exists("swarm/rejected/\(row.name).error") }
            #expect(seen, "\(row.name) is still in the inbox: \(ws.entries("swarm/inbox"))")
            try ws.drop("after.md", goodTask("after"))
            #expect(try await ws.waitForState("after", ["done"]), "\(ws.diagnostics())")
        }
    }

    @Test("dotfiles and editor temp files are left alone")
    func ignoredNames() async throws {
        try await withWorkspace { ws in
            try await ws.startDaemon()
            let names = [".x.md", "x.md~", "x.swp", "draft.md.tmp", "#draft.md#", "4913"]
            for name in names {
                try FileSystem.writeAtomically(
                    ws.path("swarm/inbox/" + name), Array(goodTask("ignored").utf8))
            }
            try ws.drop("after.md", goodTask("after"))
            #expect(try await ws.waitForState("after", ["done"]))
            let inbox = ws.entries("swarm/inbox")
            for name in names { #expect(inbox.contains(name), "\(name) was taken") }
            #expect(try await ws.agents().map(\.id) == ["after"])
            #expect(!ws.exists("swarm/rejected"), "\(ws.entries("swarm/rejected"))")
            #expect(try await ws.alerts().isEmpty)
        }
    }

    @Test("inputs: a missing file is rejected naming its path; an existing one is accepted and listed")
    func inputs() async throws {
        try await withWorkspace(files: ["docs/present.md": "here\n"]) { ws in
            try ws.drop(
                "missing.md",
                TestWorkspace.simTask("missing", [("inputs", "docs/present.md, docs/absent.md")]))
            try ws.drop("present.md", TestWorkspace.simTask("present", [("inputs", "docs/present.md")]))
            let output = try await ws.runUntilIdle()
            #expect(output.status == 0, "\(output)")
            let reason = try #require(ws.text("swarm/rejected/missing.md.error"))
            #expect(reason.contains("docs/absent.md"), "\(reason)")
            #expect(!reason.contains("docs/present.md,"), "only the missing input is named: \(reason)")
            #expect(try await ws.state("present") == "done")
            #expect(try await ws.agent("missing") == nil)
            let brief = try #require(ws.text("swarm/agents/present/task.md"))
            #expect(brief.contains("- " + ws.path("docs/present.md")), "inputs are listed as absolute paths")
        }
    }

    @Test("a task whose id is taken is rejected; one without an id gets one from its file name")
    func ids() async throws {
        try await withWorkspace { ws in
            try ws.drop("first.md", goodTask("same"))
            #expect(try await ws.runUntilIdle().status == 0)
            try ws.drop("second.md", goodTask("same"))
            try ws.drop(
                "Fix Login!.md", TestWorkspace.task([("role", "worker"), ("template", "sim-worker")]))
            try ws.drop(
                "fix-login.json", #"{"role": "worker", "template": "sim-worker", "task": "The JSON form."}"#)
            #expect(try await ws.runUntilIdle().status == 0)
            let reason = try #require(ws.text("swarm/rejected/second.md.error"))
            #expect(reason.contains("\"same\" is taken"), "\(reason)")
            let agents = try await ws.agents()
            #expect(Set(agents.map(\.id)) == ["same", "fix-login", "fix-login-2"])
            #expect(agents.allSatisfy { $0.state == "done" })
            #expect(
                ws.exists("swarm/agents/fix-login-2/source.json")
                    || ws.exists("swarm/agents/fix-login/source.json"))
        }
    }

    @Test("a folder under agents/ that is not intake's keeps its name; the task gets the next one")
    func foreignFolders() async throws {
        try await withWorkspace { ws in
            let plain = TestWorkspace.task(
                [("role", "worker"), ("template", "sim-worker"), ("sim.steps", "1"), ("sim.interval", "1ms")])
            for name in ["idle", "busy", "named-idle", "named-busy"] {
                try FileSystem.makeDirectory(ws.path("swarm/agents/\(name)"))
                try FileSystem.writeAtomically(
                    ws.path("swarm/agents/\(name)/notes.txt"), Array("mine\n".utf8))
            }
            try await ws.startDaemon()
            // nothing runs: the folder is made on the loop's thread
            try ws.drop("idle.md", plain)
            #expect(try await ws.waitForState("idle-2", ["done"]))
            // a task that names such a folder's id is rejected, whichever way its folder is made
            try ws.drop("named-idle.md", goodTask("named-idle"))
            #expect(await eventually { ws.exists("swarm/rejected/named-idle.md.error") })
            // an agent runs: the folder is made on a lane, which finds the foreign one first
            try ws.drop(
                "long.md", TestWorkspace.simTask("long", [("sim.steps", "400"), ("sim.interval", "10ms")]))
            #expect(try await ws.waitForState("long", ["running"]))
            try ws.drop("busy.md", plain)
            #expect(try await ws.waitForState("busy-2", ["done"]))
            try ws.drop("named-busy.md", goodTask("named-busy"))
            #expect(await eventually { ws.exists("swarm/rejected/named-busy.md.error") })
            let reason = ws.text("swarm/rejected/named-busy.md.error") ?? ""
            #expect(
                reason.contains("agents/named-busy/ holds files the runtime did not put there"), "\(reason)")
            #expect(try await ws.state("long") == "running", "busy.md was taken in while an agent ran")
            for name in ["idle", "busy", "named-idle", "named-busy"] {
                #expect(
                    ws.entries("swarm/agents/\(name)") == ["notes.txt"],
                    "\(name): \(ws.entries("swarm/agents/\(name)"))")
                #expect(try await ws.agent(name) == nil)
            }
        }
    }

    @Test("a file name that is not UTF-8 is renamed and taken in, never left in the inbox")
    func nonUTF8Name() async throws {
        try await withWorkspace { ws in
            // "caf\xE9.md": Latin-1, as an old tool or a zip file might name it; found in the
            // inbox when the daemon starts
            let early = Array(ws.path("swarm/inbox/").utf8) + Array("caf".utf8) + [0xE9] + Array(".md".utf8)
            try writeFile(early, goodTask("latin"))
            let daemon = try await ws.startDaemon()
            // "na\xEF\xBBve.md", a character cut short, dropped while it runs (its inotify event)
            let late: [UInt8] = Array("na".utf8) + [0xEF, 0xBB] + Array("ve.md".utf8)
            let hidden = Array(ws.path("swarm/inbox/.").utf8) + late
            try writeFile(hidden, goodTask("late"))
            #expect(renameFile(hidden, Array(ws.path("swarm/inbox/").utf8) + late) == 0)
            #expect(try await ws.waitForStates(["latin", "late"], ["done"]))
            #expect(
                ws.entries("swarm/inbox").filter { !$0.hasPrefix(".") }.isEmpty,
                "\(ws.entries("swarm/inbox"))")
            #expect(
                ws.text("swarm/agents/latin/source.md")?.contains("id: latin") == true, "the content is kept")
            #expect(ws.text("swarm/agents/late/source.md")?.contains("id: late") == true)
            #expect(daemon.logText.contains("renamed the file to caf%E9.md"), "\(daemon.logText)")
            #expect(daemon.logText.contains("renamed the file to na%EF%BBve.md"), "\(daemon.logText)")
            // a symlink so named is renamed at once (no close will come) and rejected
            let link =
                (Array(ws.path("swarm/inbox/").utf8) + Array("lnk".utf8) + [0xE9] + Array(".md".utf8) + [0])
                .map { CChar(bitPattern: $0) }
            #expect(link.withUnsafeBufferPointer { symlink("/etc/passwd", $0.baseAddress!) } == 0)
            #expect(
                await eventually { ws.entries("swarm/rejected").contains("lnk%E9.md.error") },
                "\(daemon.logText)")
            #expect(
                ws.entries("swarm/inbox").filter { !$0.hasPrefix(".") }.isEmpty,
                "\(ws.entries("swarm/inbox"))")
        }
    }

    @Test("a spawn request whose name is not UTF-8 is renamed and taken in as a child")
    func nonUTF8SpawnRequest() async throws {
        try await withWorkspace { ws in
            try ws.drop(
                "boss.md",
                TestWorkspace.simTask(
                    "boss",
                    [
                        ("slots", "2"), ("sim.children", "1"), ("sim.child-steps", "20"),
                        ("sim.interval", "100ms"),
                    ],
                    kind: "orchestrator"))
            let daemon = try await ws.startDaemon()
            #expect(try await ws.waitForState("boss-1", ["running"]))
            let name: [UInt8] = Array("extra".utf8) + [0xFF] + Array(".md".utf8)
            let spawn = Array(ws.path("swarm/agents/boss/spawn/").utf8)
            try writeFile(spawn + [UInt8(ascii: ".")] + name, goodTask("extra"))
            #expect(renameFile(spawn + [UInt8(ascii: ".")] + name, spawn + name) == 0)
            #expect(try await ws.waitForState("extra", ["done"]), "\(ws.diagnostics())")
            #expect(try await ws.agent("extra")?.parent == "boss")
            #expect(daemon.logText.contains("renamed the file to extra%FF.md"), "\(daemon.logText)")
        }
    }

    @Test("a rejected file with a very long name still gets its explanation")
    func longName() async throws {
        try await withWorkspace { ws in
            let name = String(repeating: "a", count: 240) + ".md"
            try ws.drop(name, "---\nrole: nosuchrole\ntemplate: sim-worker\n---\nX\n")
            #expect(try await ws.runUntilIdle().status == 0)
            #expect(ws.entries("swarm/rejected").contains(name), "the original is kept")
            #expect(try await ws.alerts("rejected-task").count == 1)
            // NAME.error would be longer than a file name may be: the explanation goes to the
            // name cut to 200 bytes plus .error
            let explanations = ws.entries("swarm/rejected").filter { $0.hasSuffix(".error") }
            #expect(
                explanations.count == 1,
                "rejected/ holds \(ws.entries("swarm/rejected").map { $0.prefix(12) + "..." })")
        }
    }
}

/// Writes `text` to the file whose path is the bytes `path` (no NUL), created exclusively.
private func writeFile(_ path: [UInt8], _ text: String) throws {
    let fd = (path + [0]).withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
    }
    try #require(fd >= 0, "cannot create \(String(decoding: path, as: UTF8.self))")
    let bytes = Array(text.utf8)
    #expect(write(fd, bytes, bytes.count) == bytes.count)
    close(fd)
}

/// rename(2) of two paths given as bytes (no NUL).
private func renameFile(_ from: [UInt8], _ to: [UInt8]) -> Int32 {
    (from + [0]).withUnsafeBufferPointer { source in
        (to + [0]).withUnsafeBufferPointer { target in
            source.withMemoryRebound(to: CChar.self) { s in
                target.withMemoryRebound(to: CChar.self) { t in rename(s.baseAddress!, t.baseAddress!) }
            }
        }
    }
}
