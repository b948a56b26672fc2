import SwarmProtocol
import Testing

private let head = "---\nrole: worker\ntemplate: sim-worker\n"

/// Every ugly task file is one row.
private let rejectedTasks: [Rejection] = [
    Rejection("empty file", "", line: 1, "empty"),
    Rejection("only whitespace", "  \n\n", line: 1, "empty"),
    Rejection("binary with NUL", bytes: utf8("---\nrole: w") + [0] + utf8("\n"), line: 2, "looks binary"),
    Rejection(
        "invalid UTF-8", bytes: utf8("---\nrole: worker\ntemplate: t") + [0xFF, 0xFE] + utf8("\n---\n"),
        line: 3, "invalid UTF-8 at byte offset 28"),
    Rejection("truncated UTF-8 sequence", bytes: utf8(head + "---\nh") + [0xC3], line: 5, "invalid UTF-8"),
    Rejection("overlong UTF-8", bytes: utf8(head + "---\n") + [0xC0, 0xAF], line: 5, "invalid UTF-8"),
    Rejection(
        "UTF-16 surrogate encoded in UTF-8", bytes: utf8(head + "---\n") + [0xED, 0xA0, 0x80], line: 5,
        "invalid UTF-8"),
    Rejection("no front matter", "Fix the login page.\n", line: 1, "no front matter"),
    Rejection("front matter not on the first line", "\n---\nrole: w\n---\n", line: 1, "no front matter"),
    Rejection(
        "unterminated front matter", "---\nrole: worker\ntemplate: t\nDo it.\n", line: 4,
        "not a key: value line"),
    Rejection("unterminated, keys only", "---\nrole: worker\ntemplate: t\n", line: 1, "never closed"),
    Rejection("missing role", "---\ntemplate: t\n---\nx\n", line: nil, "no role"),
    Rejection(
        "misspelt role", "---\nrloe: worker\ntemplate: t\n---\n", line: nil,
        "did you mean \"role\" instead of \"rloe\"?"),
    Rejection("empty role", "---\nrole:\ntemplate: t\n---\n", line: 2, "no role"),
    Rejection("missing template", "---\nrole: worker\n---\n", line: nil, "no template"),
    Rejection(
        "role with a path", "---\nrole: ../secrets\ntemplate: t\n---\n", line: 2, "not a plain file name"),
    Rejection(
        "bad priority", head + "priority: high\n---\n", line: 4,
        "priority \"high\" is not one of urgent, normal, background"),
    Rejection("priority in capitals", head + "priority: Urgent\n---\n", line: 4, "did you mean \"urgent\"?"),
    Rejection("id ../x", head + "id: ../x\n---\n", line: 4, "contains \"/\""),
    Rejection("id a/b", head + "id: a/b\n---\n", line: 4, "contains \"/\""),
    Rejection(
        "id of 65 characters", head + "id: \(String(repeating: "a", count: 65))\n---\n", line: 4,
        "65 characters long (the limit is 64)"),
    Rejection("id in upper case", head + "id: Fix-Login\n---\n", line: 4, "upper-case"),
    Rejection("id with underscore", head + "id: fix_login\n---\n", line: 4, "contains \"_\""),
    Rejection("id starting with -", head + "id: -x\n---\n", line: 4, "starts with \"-\""),
    Rejection("id ..", head + "id: ..\n---\n", line: 4, "contains \".\""),
    Rejection("negative slots", head + "slots: -1\n---\n", line: 4, "not a whole number"),
    Rejection("slots in words", head + "slots: four\n---\n", line: 4, "not a whole number"),
    Rejection("huge slots", head + "slots: 99999999999999999999999\n---\n", line: 4, "not a whole number"),
    Rejection("bad token budget", head + "budget.tokens: lots\n---\n", line: 4, "budget.tokens"),
    Rejection("bad cost budget", head + "budget.cost: nan\n---\n", line: 4, "budget.cost"),
    Rejection(
        "inputs with ..", head + "inputs: data/a.csv, ../secret\n---\n", line: 4, "leaves the workspace"),
    Rejection(
        "inputs with .. inside", head + "inputs: data/../../etc\n---\n", line: 4, "leaves the workspace"),
    Rejection("absolute input", head + "inputs: /etc/passwd\n---\n", line: 4, "absolute path"),
    Rejection(
        "duplicate key", "---\nrole: worker\nrole: scout\ntemplate: t\n---\n", line: 3,
        "appears twice (first at line 2)"),
    Rejection("line without colon", head + "just words\n---\n", line: 4, "not a key: value line"),
    Rejection("empty key", head + ": value\n---\n", line: 4, "empty"),
    Rejection("key with spaces", head + "my key: value\n---\n", line: 4, "contains a space"),
    Rejection("reserved key task", head + "task: do it\n---\n", line: 4, "reserved"),
    Rejection(
        "JSON array", file: "t.json", "[\"role\", \"worker\"]", line: 1, "must be an object, not an array"),
    Rejection("JSON string", file: "t.json", "\"do it\"", line: 1, "must be an object, not a string"),
    Rejection("JSON empty", file: "t.json", "", line: 1, "empty"),
    Rejection(
        "JSON without task", file: "t.json", "{\"role\": \"w\", \"template\": \"t\"}", line: nil,
        "no \"task\" key"),
    Rejection(
        "JSON with text instead of task", file: "t.json",
        "{\"role\": \"w\", \"template\": \"t\", \"text\": \"x\"}", line: nil, "rename \"text\" to \"task\""),
    Rejection(
        "JSON task not a string", file: "t.json", "{\"role\": \"w\",\n\"template\": \"t\",\n\"task\": 42}",
        line: 3, "must be a string"),
    Rejection(
        "JSON trailing comment", file: "t.json",
        "{\"role\": \"w\", \"template\": \"t\", \"task\": \"x\"}\n// done\n", line: 2, "no comments"),
    Rejection(
        "JSON inline comment", file: "t.json", "{\"role\": \"w\", /* c */ \"task\": \"x\"}", line: 1,
        "column 15"),
    Rejection(
        "JSON duplicate keys", file: "t.json",
        "{\"role\": \"w\",\n\"template\": \"t\",\n\"role\": \"x\", \"task\": \"\"}", line: 3,
        "duplicate key \"role\" (first at line 1)"),
    Rejection(
        "JSON duplicate through nesting", file: "t.json",
        "{\"role\": \"w\", \"template\": \"t\", \"task\": \"\",\n\"budget.tokens\": 5,\n\"budget\": {\"tokens\": 6}}",
        line: 2, "appears twice"),
    Rejection(
        "JSON inputs with ..", file: "t.json",
        "{\"role\": \"w\", \"template\": \"t\", \"task\": \"x\",\n\"inputs\": [\"ok.txt\",\n\"../x\"]}",
        line: 3, "leaves the workspace"),
    Rejection(
        "JSON nested list", file: "t.json",
        "{\"role\": \"w\", \"template\": \"t\", \"task\": \"x\", \"inputs\": [[\"a\"]]}", line: 1, "flat list"
    ),
    Rejection(
        "JSON bad key", file: "t.json",
        "{\"role\": \"w\", \"template\": \"t\", \"task\": \"x\", \"my key\": 1}", line: 1, "contains a space"),
    Rejection("JSON trailing comma", file: "t.json", "{\"role\": \"w\",\n}", line: 2, "remove the comma"),
    Rejection(
        "JSON invalid UTF-8", file: "t.json", bytes: utf8("{\"task\": \"") + [0xFF] + utf8("\"}"), line: 1,
        "invalid UTF-8 at byte offset 10"),
]

@Test(arguments: rejectedTasks)
func rejectsUglyTaskFiles(_ row: Rejection) throws {
    let error = try #require(
        failure { () throws(ProtocolError) in try TaskParser.parse(fileName: row.fileName, bytes: row.bytes) }
    )
    #expect(error.line == row.line, "\(error)")
    #expect(error.description.contains(row.fragment), "\(error)")
}

@Test func acceptsBOMAndCRLF() throws {
    let bytes =
        [0xEF, 0xBB, 0xBF] + utf8("---\r\nrole: worker\r\ntemplate: t\r\n---\r\nLine one.\r\nLine two.\r\n")
    let task = try TaskParser.parse(fileName: "x.md", bytes: bytes)
    #expect(task.role == "worker")
    #expect(task.text == "Line one.\nLine two.")
    #expect(task.fields.map(\.line) == [2, 3])
}

@Test func readsEveryKnownKeyAndPassesTheRestThrough() throws {
    let text = """
        ---
        # a comment line

        id: fix-login
        role: worker      # roles/worker.md
        template: sim-worker
        priority: urgent
        slots: 4
        inputs: data/a.csv, notes.md
        inputs: more/b.txt
        budget.tokens: 200000
        budget.cost: 2.50
        sim.steps: 5
        note: a#b stays, 'quoted # stays' too # but this goes
        command: echo "x # y"
        prose: don't stop # here
        ---

        Fix the login page.

        """
    let task = try TaskParser.parse(fileName: "Fix Login.md", bytes: utf8(text))
    #expect(task.id == "fix-login")
    #expect(task.priority == .urgent)
    #expect(task.slots == 4)
    #expect(task.inputs == ["data/a.csv", "notes.md", "more/b.txt"])
    #expect(task.tokenBudget == 200_000)
    #expect(task.costBudget == 2.5)
    #expect(task.text == "Fix the login page.")
    #expect(task.value("sim.steps") == "5")
    #expect(task.value("note") == "a#b stays, 'quoted # stays' too")
    #expect(task.value("command") == "echo \"x # y\"")
    #expect(task.value("prose") == "don't stop")
    #expect(task.value("role") == "worker")
    #expect(task.fields.first?.key == "id")
    #expect(task.fields.first?.line == 4)
    #expect(task.placeholderValues["inputs"] == "data/a.csv, notes.md, more/b.txt")
    #expect(task.placeholderValues["sim.steps"] == "5")
}

@Test func toleratesHugeValuesAndKeepsDefaults() throws {
    let huge = String(repeating: "x", count: 300_000)
    let task = try TaskParser.parse(fileName: "t.md", bytes: utf8(head + "blob: \(huge)\n---\n"))
    #expect(task.value("blob")?.count == 300_000)
    #expect(task.priority == .normal)
    #expect(task.id == nil && task.slots == nil && task.inputs.isEmpty && task.text.isEmpty)
}

@Test func readsJSONTasks() throws {
    let json = """
        {
          "role": "worker",
          "template": "sim-worker",
          "task": "  Summarise the logs.\\n",
          "priority": "background",
          "slots": 2,
          "inputs": ["logs/a.log", "logs/b.log"],
          "sim": {"steps": 7, "fail": "exit"},
          "budget": {"cost": 1.5},
          "flag": true,
          "nothing": null,
          "list": [1, 2]
        }
        """
    let task = try TaskParser.parse(fileName: "Logs.JSON", bytes: utf8(json))
    #expect(task.text == "Summarise the logs.")
    #expect(task.priority == .background)
    #expect(task.slots == 2)
    #expect(task.inputs == ["logs/a.log", "logs/b.log"])
    #expect(task.value("sim.steps") == "7")
    #expect(task.value("flag") == "true")
    #expect(task.value("nothing") == nil)
    #expect(task.value("list") == "[1,2]")
    #expect(task.costBudget == 1.5)
    let lines = Dictionary(
        task.fields.map { ($0.key + "@" + $0.value, $0.line) }, uniquingKeysWith: { a, _ in a })
    #expect(lines["role@worker"] == 2)
    #expect(lines["inputs@logs/b.log"] == 7)
    #expect(lines["sim.fail@exit"] == 8)
}

@Test func formatRoundTrips() throws {
    let original = try TaskParser.parse(
        fileName: "t.md",
        bytes: utf8(
            "---\nrole: worker\nsim.steps: 3\ntemplate: t\ninputs: a.txt, b/c.txt\nid: abc\n---\nDo it.\n\nCarefully.\n"
        ))
    var changed = original
    changed.role = "scout"
    changed.priority = .urgent
    changed.fields.append(.init(key: "note", value: "two\nlines", line: 0))
    let text = TaskParser.format(changed)
    #expect(
        text.hasPrefix(
            "---\nid: abc\nrole: scout\ntemplate: t\npriority: urgent\ninputs: a.txt\ninputs: b/c.txt\nsim.steps: 3\nnote: two lines\n---\nDo it.\n"
        ))
    let reread = try TaskParser.parse(fileName: "t.md", bytes: utf8(text))
    #expect(reread.role == "scout" && reread.template == "t" && reread.id == "abc")
    #expect(reread.priority == .urgent && reread.inputs == ["a.txt", "b/c.txt"])
    #expect(reread.text == "Do it.\n\nCarefully.")
    #expect(reread.value("sim.steps") == "3")

    let minimal = TaskSpec(
        role: "worker", template: "shell", text: "echo hi", tokenBudget: 10, costBudget: 0.25)
    let back = try TaskParser.parse(fileName: "m.md", bytes: utf8(TaskParser.format(minimal)))
    #expect(
        back.role == "worker" && back.text == "echo hi" && back.tokenBudget == 10 && back.costBudget == 0.25)
}

@Test(
    arguments: [
        ("fix-login", nil), ("a", nil), ("0-9", nil), (String(repeating: "a", count: 64), nil),
        ("", "empty"), ("../x", "\"/\""), ("a/b", "\"/\""), ("Fix", "upper-case"), ("a b", "\" \""),
        ("é", "\"é\""), (".x", "\".\""), ("-x", "starts with"),
        (String(repeating: "a", count: 65), "65 characters"),
    ] as [(String, String?)])
func agentIDs(_ id: String, _ fragment: String?) {
    let problem = AgentID.problem(with: id)
    if let fragment {
        #expect(problem?.contains(fragment) == true, "\(problem ?? "nil")")
    } else {
        #expect(problem == nil)
    }
}

@Test(arguments: [
    ("Fix Login.md", "fix-login"), ("task.json", "task"), ("--Weird__name!!.md", "weird-name"),
    ("日本.md", "task"), (".md", "md"), ("", "task"), ("a.b.c.md", "a-b-c"), ("Résumé 2.md", "r-sum-2"),
    (String(repeating: "x", count: 80) + ".md", String(repeating: "x", count: 64)),
])
func slugsFromFileNames(_ name: String, _ slug: String) {
    #expect(AgentID.slug(fromFileName: name) == slug)
    #expect(AgentID.problem(with: AgentID.slug(fromFileName: name)) == nil)
}

@Test func numberedIDsStayShortEnough() {
    #expect(AgentID.numbered("fix", 1) == "fix")
    #expect(AgentID.numbered("fix", 2) == "fix-2")
    let long = AgentID.numbered(String(repeating: "a", count: 64), 12)
    #expect(long.count == 64 && long.hasSuffix("-12"))
    #expect(AgentID.problem(with: long) == nil)
}

@Test func prioritiesOrderUrgentFirst() {
    #expect([Priority.background, .urgent, .normal].sorted() == [.urgent, .normal, .background])
    #expect(Priority.urgent.rank == 0)
}
