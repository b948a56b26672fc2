import SwarmSystem
import Testing

/// One run of the binary outside any daemon: its arguments, where it runs and what it must do.
struct CLICase: Sendable, CustomTestStringConvertible {
    var arguments: [String]
    /// Run inside a fresh workspace (with --root) rather than in an empty folder.
    var inWorkspace: Bool
    var status: Int32
    var stdout: String?
    var stderr: String?

    init(
        _ arguments: [String], workspace: Bool = false, exit status: Int32, stdout: String? = nil,
        stderr: String? = nil
    ) {
        self.arguments = arguments
        inWorkspace = workspace
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    var testDescription: String { "swarm " + arguments.joined(separator: " ") }
}

@Suite("The binary: help, exit statuses, init", .serialized, .timeLimit(.minutes(1)))
struct CLITests {
    static let cases: [CLICase] = [
        CLICase(["--help"], exit: 0, stdout: "Usage: swarm [--root DIR] COMMAND"),
        CLICase(["help"], exit: 0, stdout: "Operator commands"),
        CLICase([], exit: 0, stdout: "Agent-side commands"),
        CLICase(["status", "--help"], exit: 0, stdout: "Usage: swarm status"),
        CLICase(["help", "run"], exit: 0, stdout: "Usage: swarm run"),
        CLICase(["submit", "-h"], exit: 0, stdout: "Usage: swarm submit"),
        CLICase(["answer", "--help"], exit: 0, stdout: "Usage: swarm answer"),
        CLICase(["bogus"], exit: 2, stderr: "swarm: unknown command \"bogus\""),
        CLICase(["status", "--bogus"], exit: 2, stderr: "swarm: unknown option --bogus"),
        CLICase(["--bogus"], exit: 2, stderr: "swarm: "),
        CLICase(["kill"], exit: 2, stderr: "swarm: `swarm kill` takes 1 argument"),
        CLICase(["help", "bogus"], exit: 2, stderr: "swarm: "),
        CLICase(["run", "--heartbeat", "soon"], workspace: true, exit: 2, stderr: "swarm: --heartbeat soon"),
        CLICase(["status"], exit: 1, stderr: "swarm: no workspace here"),
        CLICase(["submit", "-m", "x"], exit: 1, stderr: "swarm init"),
        CLICase(["run", "--until-idle"], exit: 1, stderr: "swarm: "),
        CLICase(
            ["--root", "/nonexistent/swarm-e2e", "status"], exit: 1,
            stderr: "swarm: --root names /nonexistent/swarm-e2e"),
        CLICase(["status", "nobody"], workspace: true, exit: 1, stderr: "swarm: no agent nobody"),
        CLICase(["kill", "nobody"], workspace: true, exit: 1, stderr: "swarm: no agent nobody"),
        CLICase(["answer", "nobody", "yes"], workspace: true, exit: 1, stderr: "swarm: no agent nobody"),
        CLICase(["kill", "../x"], workspace: true, exit: 2, stderr: "swarm: "),
        CLICase(["sim"], workspace: true, exit: 1, stderr: "swarm: this command is run by agents"),
        CLICase(["progress", "hello"], workspace: true, exit: 1, stderr: "swarm: "),
        CLICase(["status", "--json"], workspace: true, exit: 0, stdout: "\"agents\""),
        CLICase(["alerts", "--json"], workspace: true, exit: 0, stdout: "\"alerts\""),
        CLICase(["tree"], workspace: true, exit: 0, stdout: "(no agents yet)"),
        CLICase(["check"], workspace: true, exit: 0),
    ]

    @Test("exit statuses and messages", arguments: cases)
    func exitStatus(_ row: CLICase) async throws {
        let output: CommandOutput
        if row.inWorkspace {
            output = try await withWorkspace { try await $0.swarm(row.arguments) }
        } else {
            // an empty folder with no workspace above it, and no SWARM_ROOT
            let folder = "/tmp/swarm-e2e-empty-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
            try FileSystem.makeDirectory(folder)
            defer { try? FileSystem.removeTree(folder) }
            output = try await Run.command(SwarmBinary.path, row.arguments, directory: folder)
        }
        #expect(output.status == row.status, "\(output)")
        if let fragment = row.stdout { #expect(output.stdout.contains(fragment), "\(output)") }
        if let fragment = row.stderr { #expect(output.stderr.contains(fragment), "\(output)") }
        if row.status != 0 {
            // exactly the contract's shape: the first line on stderr starts `swarm: `
            #expect(output.stderr.hasPrefix("swarm: "), "\(output)")
            #expect(output.stdout.isEmpty, "\(output)")
        } else {
            #expect(output.stderr.isEmpty, "\(output)")
        }
    }

    static let scaffold = [
        "AGENTS.md", "CLAUDE.md", "HEARTBEAT.md", "roles/_shared-rules.md", "roles/root.md", "roles/meta.md",
        "roles/worker.md", "roles/scout.md", "templates/sim-worker.md", "templates/sim-orchestrator.md",
        "templates/claude-worker.md", "templates/claude-orchestrator.md", "templates/codex-worker.md",
        "templates/shell.md", "swarm/swarm.json",
    ]

    /// Every regular file under `folder`, relative path to bytes.
    func snapshot(_ folder: String, _ prefix: String = "") -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for entry in (try? FileSystem.entries(of: folder + "/" + prefix)) ?? [] {
            let relative = prefix.isEmpty ? entry.name : prefix + "/" + entry.name
            switch entry.kind {
            case .directory: files.merge(snapshot(folder, relative)) { a, _ in a }
            case .regular: files[relative] = try? FileSystem.readFile(folder + "/" + relative, limit: 1 << 20)
            default: files[relative] = []
            }
        }
        return files
    }

    @Test("init creates the scaffold, a second init changes nothing, and an edited file is kept")
    func initNeverOverwrites() async throws {
        let root = "/tmp/swarm-e2e-init-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))/deeper/ws"
        defer { try? FileSystem.removeTree(SwarmBinary.parent(SwarmBinary.parent(root))) }
        let first = try await Run.command(SwarmBinary.path, ["init", root])
        #expect(first.status == 0, "\(first)")
        for file in Self.scaffold {
            #expect(FileSystem.status(root + "/" + file)?.kind == .regular, "\(file) missing")
        }
        #expect(FileSystem.status(root + "/swarm/inbox")?.kind == .directory)
        let made = snapshot(root)

        let second = try await Run.command(SwarmBinary.path, ["init", root])
        #expect(second.status == 0, "\(second)")
        #expect(snapshot(root) == made)

        // a person's edit survives; a deleted file comes back
        let edited = Array("# my own rules\n".utf8)
        try FileSystem.writeAtomically(root + "/AGENTS.md", edited)
        try FileSystem.writeAtomically(root + "/swarm/swarm.json", Array("{\"maxSlots\": 3}\n".utf8))
        try FileSystem.remove(root + "/roles/scout.md")
        let third = try await Run.command(SwarmBinary.path, ["init", root])
        #expect(third.status == 0, "\(third)")
        #expect(try FileSystem.readFile(root + "/AGENTS.md", limit: 1 << 20) == edited)
        #expect(
            try FileSystem.readFile(root + "/swarm/swarm.json", limit: 1 << 20)
                == Array("{\"maxSlots\": 3}\n".utf8))
        #expect(try FileSystem.readFile(root + "/roles/scout.md", limit: 1 << 20) == made["roles/scout.md"])
    }

    @Test("init with no folder scaffolds the current one; a fresh workspace passes swarm check")
    func initHere() async throws {
        let folder = "/tmp/swarm-e2e-here-\(Processes.currentID)-\(UInt64.random(in: 0...UInt64.max))"
        try FileSystem.makeDirectory(folder)
        defer { try? FileSystem.removeTree(folder) }
        let output = try await Run.command(SwarmBinary.path, ["init"], directory: folder)
        #expect(output.status == 0, "\(output)")
        #expect(FileSystem.exists(folder + "/swarm/swarm.json"))
        // found from a subfolder without --root or SWARM_ROOT
        let check = try await Run.command(SwarmBinary.path, ["check"], directory: folder + "/roles")
        #expect(check.status == 0, "\(check)")
    }

    @Test("submit prints the id, writes a valid task into the inbox atomically, and refuses a bad one")
    func submit() async throws {
        try await withWorkspace { ws in
            let output = try await ws.swarm(
                "submit", "--role", "worker", "--template", "sim-worker", "--priority", "urgent", "-m",
                "Fix the login")
            #expect(output.status == 0, "\(output)")
            let id = output.stdout.trimmingCharacters()
            #expect(!id.isEmpty)
            let text = try #require(ws.text("swarm/inbox/\(id).md"))
            #expect(text.hasPrefix("---\n"))
            #expect(text.contains("priority: urgent"))
            #expect(text.contains("Fix the login"))
            #expect(ws.entries("swarm/inbox").allSatisfy { !$0.contains(".tmp") })

            let again = try await ws.swarm("submit", "-m", "Fix the login")
            #expect(again.status == 0)
            #expect(again.stdout.trimmingCharacters() != id, "ids are unique")

            let bad = try await ws.swarm("submit", "--priority", "asap", "-m", "x")
            #expect(bad.status == 1, "\(bad)")
            #expect(bad.stderr.hasPrefix("swarm: "))
        }
    }

    @Test("submits running at the same time never replace each other's task")
    func concurrentSubmits() async throws {
        try await withWorkspace { ws in
            let outputs = try await withThrowingTaskGroup(of: CommandOutput.self) { group in
                for _ in 0..<12 { group.addTask { try await ws.swarm("submit", "-m", "the same words") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outputs.allSatisfy { $0.status == 0 }, "\(outputs)")
            let ids = Set(outputs.map { $0.stdout.trimmingCharacters() })
            let inbox = ws.entries("swarm/inbox").filter { !$0.hasPrefix(".") }
            #expect(ids.count == 12, "\(ids.count) distinct ids for 12 submits")
            #expect(inbox.count == 12, "\(inbox.count) tasks in the inbox for 12 submits")
        }
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
