import Testing

@testable import SwarmCLI

/// One command line and the invocation it must parse to.
struct Parsed: Sendable, CustomTestStringConvertible {
    var words: [String]
    var expected: Invocation

    init(
        _ words: [String], _ command: String, flags: Set<String> = [], options: [String: String] = [:],
        positionals: [String] = [], root: String? = nil, help: Bool = false
    ) {
        self.words = words
        expected = Invocation(
            command: command, flags: flags, options: options, positionals: positionals, root: root,
            wantsHelp: help)
    }

    var testDescription: String { "swarm " + words.joined(separator: " ") }
}

/// One command line that is a usage error, and a fragment the message must hold.
struct Misused: Sendable, CustomTestStringConvertible {
    var words: [String]
    var fragment: String
    /// The command the error is about (its usage line is printed), nil for none.
    var command: String?

    init(_ words: [String], _ fragment: String, command: String? = nil) {
        self.words = words
        self.fragment = fragment
        self.command = command
    }

    var testDescription: String { "swarm " + words.joined(separator: " ") }
}

func parse(_ words: [String]) -> Result<Invocation, UsageError> {
    ArgumentParser.parse(words, specs: CommandTable.all)
}

@Suite("The argument parser, as a pure function")
struct ArgumentParserTests {
    static let valid: [Parsed] = [
        Parsed([], "help"),
        Parsed(["init"], "init"),
        Parsed(["init", "/tmp/project"], "init", positionals: ["/tmp/project"]),
        Parsed(
            ["run", "--until-idle", "--heartbeat", "200ms"], "run", flags: ["--until-idle"],
            options: ["--heartbeat": "200ms"]),
        Parsed(
            ["run", "--heartbeat=1s", "--verbose", "--log-format", "json"], "run", flags: ["--verbose"],
            options: ["--heartbeat": "1s", "--log-format": "json"]),
        Parsed(
            [
                "submit", "--role", "worker", "--template", "sim-worker", "--priority", "urgent", "--slots",
                "3",
                "-m", "fix the login",
            ], "submit",
            options: [
                "--role": "worker", "--template": "sim-worker", "--priority": "urgent", "--slots": "3",
                "-m": "fix the login",
            ]),
        Parsed(["submit", "task.md"], "submit", positionals: ["task.md"]),
        Parsed(["submit", "-"], "submit", positionals: ["-"]),
        Parsed(["status"], "status"),
        Parsed(["status", "fix-login", "--json"], "status", flags: ["--json"], positionals: ["fix-login"]),
        Parsed(["tree", "--json"], "tree", flags: ["--json"]),
        Parsed(["alerts", "--follow", "--json"], "alerts", flags: ["--follow", "--json"]),
        Parsed(["answer", "asker", "Postgres"], "answer", positionals: ["asker", "Postgres"]),
        Parsed(
            ["answer", "asker", "use", "some", "words"], "answer", positionals: ["asker", "use some words"]),
        Parsed(["kill", "a1"], "kill", positionals: ["a1"]),
        Parsed(["retry", "a1"], "retry", positionals: ["a1"]),
        Parsed(["ack", "a1"], "ack", positionals: ["a1"]),
        Parsed(["logs", "a1", "--follow"], "logs", flags: ["--follow"], positionals: ["a1"]),
        Parsed(["check"], "check"),
        Parsed(["demo", "--keep"], "demo", flags: ["--keep"]),
        Parsed(["completions", "bash"], "completions", positionals: ["bash"]),
        Parsed(["help", "run"], "help", positionals: ["run"]),
        Parsed(["progress", "a", "b", "c"], "progress", positionals: ["a b c"]),
        Parsed(
            ["progress", "--outputs", "3", "wrote", "three", "files"], "progress",
            options: ["--outputs": "3"],
            positionals: ["wrote three files"]),
        Parsed(
            ["result", "--status", "error", "--error-kind", "budget", "--json", "{}"], "result",
            options: ["--status": "error", "--error-kind": "budget", "--json": "{}"]),
        Parsed(["result", "-"], "result", positionals: ["-"]),
        Parsed(
            ["spawn", "--template", "sim-worker", "--slots", "2", "-m", "a child"], "spawn",
            options: ["--template": "sim-worker", "--slots": "2", "-m": "a child"]),
        Parsed(
            ["ask", "--wait", "Which", "database?"], "ask", flags: ["--wait"],
            positionals: ["Which database?"]),
        Parsed(
            ["ask", "--timeout", "5s", "why?"], "ask", options: ["--timeout": "5s"], positionals: ["why?"]),
        Parsed(["sim"], "sim"),
        // --root before and after the command, spelled both ways
        Parsed(["--root", "/w", "status"], "status", root: "/w"),
        Parsed(["--root=/w", "status"], "status", root: "/w"),
        Parsed(["status", "--root", "/w"], "status", root: "/w"),
        Parsed(
            ["status", "--json", "--root=/w", "a1"], "status", flags: ["--json"], positionals: ["a1"],
            root: "/w"),
        Parsed(["--root", "/w"], "help", root: "/w"),
        // --help anywhere, also where the positionals are not complete yet
        Parsed(["--help"], "help", help: true),
        Parsed(["-h"], "help", help: true),
        Parsed(["--help", "status"], "status", help: true),
        Parsed(["status", "--help"], "status", help: true),
        Parsed(["answer", "--help"], "answer", help: true),
        Parsed(["kill", "a1", "-h"], "kill", positionals: ["a1"], help: true),
        Parsed(
            ["--root", "/w", "run", "--until-idle", "--help"], "run", flags: ["--until-idle"], root: "/w",
            help: true),
        // `--` ends the options: what follows is positional, even when it looks like a flag
        Parsed(
            ["progress", "--", "--outputs", "is", "a", "word"], "progress",
            positionals: ["--outputs is a word"]),
        Parsed(["answer", "a1", "--", "-1", "--json"], "answer", positionals: ["a1", "-1 --json"]),
        Parsed(["submit", "--", "-odd-name.md"], "submit", positionals: ["-odd-name.md"]),
        Parsed(["status", "--", "--help"], "status", positionals: ["--help"]),
    ]

    @Test("valid command lines", arguments: valid)
    func validLine(_ row: Parsed) throws {
        let invocation = try parse(row.words).get()
        #expect(invocation == row.expected)
    }

    static let invalid: [Misused] = [
        Misused(["bogus"], "unknown command \"bogus\""),
        Misused(["--root", "/w", "bogus", "--json"], "unknown command \"bogus\""),
        Misused(["--bogus", "status"], "unknown option --bogus"),
        Misused(["status", "--bogus"], "unknown option --bogus", command: "status"),
        Misused(["run", "-x"], "unknown option -x", command: "run"),
        Misused(["kill", "--json", "a1"], "unknown option --json", command: "kill"),
        Misused(["run", "--heartbeat"], "--heartbeat needs a value", command: "run"),
        Misused(["submit", "--role", "worker", "-m"], "-m needs a value", command: "submit"),
        Misused(["progress", "--outputs"], "--outputs needs a value", command: "progress"),
        Misused(["--root"], "--root needs a folder"),
        Misused(["status", "--root"], "--root needs a folder", command: "status"),
        Misused(["status", "--json=yes"], "--json takes no value", command: "status"),
        Misused(["kill"], "takes 1 argument, got 0", command: "kill"),
        Misused(["kill", "a", "b"], "takes 1 argument, got 2", command: "kill"),
        Misused(["answer", "a1"], "takes 2 arguments, got 1", command: "answer"),
        Misused(["answer"], "got 0", command: "answer"),
        Misused(["status", "a", "b"], "takes 0 to 1 arguments, got 2", command: "status"),
        Misused(["init", "a", "b"], "got 2", command: "init"),
        Misused(["tree", "x"], "takes 0 arguments, got 1", command: "tree"),
        Misused(["progress"], "got 0", command: "progress"),
        Misused(["ask"], "got 0", command: "ask"),
        Misused(["sim", "extra"], "got 1", command: "sim"),
    ]

    @Test("usage errors say what is wrong", arguments: invalid)
    func usageError(_ row: Misused) throws {
        switch parse(row.words) {
        case .success(let invocation):
            Issue.record("parsed as \(invocation)")
        case .failure(let error):
            #expect(error.message.contains(row.fragment), "\(error.message)")
            #expect(error.command == row.command)
            if let command = row.command, error.message.contains("argument") {
                // a wrong count quotes the command's usage line
                #expect(error.message.contains(CommandTable.spec(command)!.usage))
            }
        }
    }

    /// Every command of the table, with the fewest and with the most positionals it takes,
    /// every flag and every option: it must parse back to exactly that.
    static var everyCommand: [(String, Int)] {
        CommandTable.all.flatMap { spec in
            Set([spec.positionals.lowerBound, spec.positionals.upperBound]).sorted().map { (spec.name, $0) }
        }
    }

    @Test(
        "every command of the table accepts its own flags, options and positionals", arguments: everyCommand)
    func everyCommandParses(_ name: String, _ count: Int) throws {
        let spec = try #require(CommandTable.spec(name))
        var words = [name]
        for flag in spec.flags.sorted() { words.append(flag) }
        for option in spec.options.sorted() { words += [option, "value-of\(option)"] }
        let positionals = (0..<count).map { "p\($0)" }
        words += positionals
        let invocation = try parse(words).get()
        #expect(invocation.command == name)
        #expect(invocation.flags == spec.flags)
        #expect(
            invocation.options == Dictionary(uniqueKeysWithValues: spec.options.map { ($0, "value-of\($0)") })
        )
        #expect(invocation.positionals == positionals)
        #expect(invocation.root == nil)
        #expect(!invocation.wantsHelp)
        // one more positional than allowed is an error, except for commands whose words join
        if !spec.joinsText && count == spec.positionals.upperBound {
            let tooMany = words + ["extra"]
            #expect(throws: UsageError.self) { try parse(tooMany).get() }
        }
    }

    @Test("the parser is deterministic and does not depend on option order")
    func optionOrder() throws {
        let a = try parse(["submit", "--role", "worker", "-m", "x", "--priority", "urgent"]).get()
        let b = try parse(["submit", "--priority", "urgent", "-m", "x", "--role", "worker"]).get()
        #expect(a == b)
        #expect(try parse(["status", "--json"]).get() == parse(["status", "--json"]).get())
    }

    @Test("a repeated option keeps the last value")
    func repeatedOption() throws {
        let invocation = try parse(["run", "--heartbeat", "1s", "--heartbeat", "2s"]).get()
        #expect(invocation.option("--heartbeat") == "2s")
    }
}

@Suite("Help and overview texts")
struct HelpTextTests {
    /// The commands CLI.md promises, operator and agent side.
    static let contract = [
        "init", "run", "submit", "status", "tree", "top", "alerts", "answer", "kill", "retry", "logs",
        "check",
        "demo", "progress", "result", "spawn", "ask", "sim",
    ]

    @Test("every command of CLI.md is in the command table", arguments: contract)
    func contractCommandExists(_ name: String) {
        #expect(CommandTable.spec(name) != nil, "CLI.md promises `swarm \(name)`")
    }

    @Test("the overview names every command with its summary", arguments: CommandTable.all.map(\.name))
    func overviewMentions(_ name: String) throws {
        let spec = try #require(CommandTable.spec(name))
        let overview = CommandTable.overview
        let line = overview.split(separator: "\n").first { $0.droppingLeadingSpaces().hasPrefix(name + " ") }
        #expect(line != nil, "no line for \(name) in the overview")
        #expect(line?.contains(spec.summary) == true)
    }

    @Test("each command's help shows its usage and summary", arguments: CommandTable.all.map(\.name))
    func commandHelp(_ name: String) throws {
        let spec = try #require(CommandTable.spec(name))
        let text = CommandTable.help(spec)
        #expect(text.hasPrefix("Usage: " + spec.usage))
        #expect(text.contains(spec.summary))
        #expect(spec.usage.hasPrefix("swarm \(name)"))
    }

    @Test(
        "each command's usage line or details name every flag and option it accepts",
        arguments: CommandTable.all.map(\.name))
    func helpNamesEveryOption(_ name: String) throws {
        let spec = try #require(CommandTable.spec(name))
        let separators: Set<Character> = [" ", "[", "]", "(", ")", "|", ",", "=", "`"]
        let words = Set(
            (spec.usage + " " + spec.details).split(whereSeparator: { separators.contains($0) }).map(
                String.init))
        let missing = spec.flags.union(spec.options).filter { !words.contains($0) }.sorted()
        #expect(missing.isEmpty, "`swarm \(name) --help` never mentions \(missing)")
    }

    @Test("the overview explains the workspace lookup, exit statuses and durations")
    func overviewBasics() {
        let overview = CommandTable.overview
        #expect(overview.contains("--root DIR"))
        #expect(overview.contains("SWARM_ROOT"))
        #expect(overview.contains("2 usage error"))
        #expect(overview.contains("250ms"))
    }

    @Test("command names are unique")
    func uniqueNames() {
        let names = CommandTable.all.map(\.name)
        #expect(Set(names).count == names.count)
    }
}

extension Substring {
    fileprivate func droppingLeadingSpaces() -> Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        return s
    }
}
