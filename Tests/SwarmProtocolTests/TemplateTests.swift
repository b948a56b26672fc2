import SwarmProtocol
import Testing

@Test func readsAFullTemplate() throws {
    let text = """
        ---
        kind: orchestrator
        command: claude -p --output-format json "$(cat task.md)"   # run by /bin/sh -c
        workdir: ../../..
        slots: 6
        contract: {"summary": "string", "files": ["string"], "notes?": "string"}
        on.exit: retry 4
        on.upstream: skip
        backoff: 1s..1m
        acceptance: every test passes
        acceptance: the README says how, in one paragraph
        upstream: primary
        writes: src/
        home: private
        ---
        {{shared_rules}}

        You are {{ role }}. Task: {{task}}
        """
    let template = try TemplateParser.parse(name: "claude-orchestrator", bytes: utf8(text))
    #expect(template.name == "claude-orchestrator" && template.kind == .orchestrator)
    #expect(template.command == "claude -p --output-format json \"$(cat task.md)\"")
    #expect(template.workdir == "../../.." && template.slots == 6)
    #expect(template.contract?.violations(in: ["summary": "s", "files": []]) == [])
    #expect(template.policy.action(for: .exit) == .retry(4))
    #expect(template.policy.action(for: .upstream) == .skip)
    #expect(template.policy.action(for: .killed) == .retry(1))
    #expect(
        template.policy.backoffBaseMilliseconds == 1000 && template.policy.backoffCapMilliseconds == 60_000)
    #expect(template.acceptance == ["every test passes", "the README says how, in one paragraph"])
    #expect(template.upstreams == ["primary"] && template.writes == ["src/"] && template.privateHome)
    #expect(template.bodyStartLine == 16)
    #expect(Placeholders.names(in: template.body) == ["shared_rules", "role", "task"])
    #expect(template.fields.count == 13)
}

@Test func aMinimalTemplateGetsTheDefaults() throws {
    let template = try TemplateParser.parse(
        name: "shell", bytes: utf8("---\ncommand: sh task.md\n---\n{{task}}\n"))
    #expect(template.kind == .worker && template.contract == nil && template.policy == .standard)
    #expect(template.workdir == nil && template.slots == nil && !template.privateHome)
    #expect(template.body == "{{task}}\n" && template.bodyStartLine == 4)
}

private let rejectedTemplates: [Rejection] = [
    Rejection("no front matter", "{{task}}", line: 1, "no front matter"),
    Rejection("missing command", "---\nkind: worker\n---\n", line: nil, "no command"),
    Rejection("empty command", "---\ncommand:\n---\n", line: 2, "no command"),
    Rejection(
        "unknown key", "---\ncommand: x\ncomand: y\n---\n", line: 3,
        "unknown template key \"comand\"; did you mean \"command\"?"),
    Rejection(
        "unknown key far away", "---\ncommand: x\nflavour: y\n---\n", line: 3,
        "known keys: kind, command, workdir"),
    Rejection("bad kind", "---\ncommand: x\nkind: manager\n---\n", line: 3, "worker or orchestrator"),
    Rejection("bad slots", "---\ncommand: x\nslots: lots\n---\n", line: 3, "whole number"),
    Rejection("bad action", "---\ncommand: x\non.exit: retry twice\n---\n", line: 3, "not a failure action"),
    Rejection(
        "unknown failure kind", "---\ncommand: x\non.crash: skip\n---\n", line: 3,
        "unknown template key \"on.crash\""),
    Rejection("bad backoff", "---\ncommand: x\nbackoff: 30s..1s\n---\n", line: 3, "BASE..CAP"),
    Rejection(
        "bad contract type", "---\ncommand: x\ncontract: {\"a\": \"str\"}\n---\n", line: 3,
        "unknown type \"str\""),
    Rejection(
        "contract not JSON", "---\ncommand: x\ncontract: {summary: string}\n---\n", line: 3, "not valid JSON"),
    Rejection("bad upstream", "---\ncommand: x\nupstream: ../x\n---\n", line: 3, "not a plain file name"),
    Rejection("bad home", "---\ncommand: x\nhome: mine\n---\n", line: 3, "private or shared"),
    Rejection("bad launcher", "---\ncommand: x\nlauncher: pbs\n---\n", line: 3, "local, slurm or slurm-srun"),
    Rejection("duplicate command", "---\ncommand: x\ncommand: y\n---\n", line: 3, "appears twice"),
]

@Test func aTemplateMayPickItsLauncher() throws {
    let slurm = try TemplateParser.parse(
        name: "t", bytes: utf8("---\ncommand: x\nlauncher: slurm-srun\n---\n"))
    #expect(slurm.launcher == .slurmSrun)
    let plain = try TemplateParser.parse(name: "t", bytes: utf8("---\ncommand: x\n---\n"))
    #expect(plain.launcher == nil)
}

@Test(arguments: rejectedTemplates)
func rejectsBadTemplates(_ row: Rejection) throws {
    let error = try #require(
        failure { () throws(ProtocolError) in try TemplateParser.parse(name: "t", bytes: row.bytes) })
    #expect(error.line == row.line, "\(error)")
    #expect(error.description.contains(row.fragment), "\(error)")
}

@Test(arguments: [
    ("Hello {{name}}!", "Hello Ada!"), ("{{ name }} and {{name}}", "Ada and Ada"), ("{{sim.steps}}", "3"),
    ("{{{{", "{{{{"), ("{{ two words }}", "{{ two words }}"), ("${{ }}", "${{ }}"),
    ("${{ secrets.token }}", "${{ secrets.token }}"), ("{{}}", "{{}}"), ("{{name", "{{name"),
    ("{{{name}}}", "{Ada}"), ("{{ value }}", "{{name}}"), ("é{{name}}ü\n", "éAdaü\n"), ("", ""),
    ("no braces", "no braces"),
])
func rendersPlaceholders(_ body: String, _ rendered: String) throws {
    let values = ["name": "Ada", "sim.steps": "3", "value": "{{name}}"]
    #expect(try Placeholders.render(body, values: values) == rendered)
}

@Test func unknownPlaceholdersNameTheirLine() throws {
    let body = "line one\n{{role}}\nthird {{rol}} here\n"
    let error = try #require(
        failure { () throws(ProtocolError) in
            try Placeholders.render(body, values: ["role": "r", "task": "t"], firstLine: 10)
        })
    #expect(error.line == 12)
    #expect(
        error.description == "line 12: unknown placeholder {{rol}}; did you mean {{role}}? known: role, task")
    #expect(Placeholders.names(in: body) == ["role", "rol"])
    #expect(Placeholders.occurrences(in: body, firstLine: 5).map(\.line) == [6, 7])
}

@Test func decodesText() throws {
    #expect(try TextDecoding.decode([0xEF, 0xBB, 0xBF] + utf8("a\r\nb\rc\r\n")) == "a\nb\rc\n")
    #expect(try TextDecoding.decode([]) == "")
    let error = try #require(
        failure { () throws(ProtocolError) in try TextDecoding.decode(utf8("ok\nok\n") + [0xE2, 0x82]) })
    #expect(error.description == "line 3: invalid UTF-8 at byte offset 6 (byte 0xE2); save the file as UTF-8")
    let binary = try #require(
        failure { () throws(ProtocolError) in try TextDecoding.decode([0x7F, 0x45, 0x4C, 0x46, 0, 1]) })
    #expect(binary.message.contains("looks binary") && binary.line == 1)
}

@Test func frontMatterKeepsBodyAndLines() throws {
    let parsed = try FrontMatter.parse(
        utf8("---   \nb: 1\n\n# note\na: x: y\n---\nbody\n---\nmore"), listKeys: ["a"])
    #expect(parsed.fields == [.init(key: "b", value: "1", line: 2), .init(key: "a", value: "x: y", line: 5)])
    #expect(parsed.body == "body\n---\nmore" && parsed.bodyStartLine == 7 && parsed.hasFrontMatter)
    #expect(parsed.value("a") == "x: y" && parsed.values("a") == ["x: y"] && parsed.value("zz") == nil)
    let plain = try FrontMatter.parse(utf8("no front matter\n"))
    #expect(!plain.hasFrontMatter && plain.body == "no front matter\n" && plain.bodyStartLine == 1)
    let empty = try FrontMatter.parse(utf8("---\n---\n"))
    #expect(empty.fields.isEmpty && empty.body == "" && empty.hasFrontMatter)
}

@Test func errorsDescribeThemselves() {
    #expect(ProtocolError(line: 3, "bad", hint: "fix it").description == "line 3: bad; fix it")
    #expect(ProtocolError("bad").description == "bad")
    #expect(ConfigProblem(line: nil, message: "m").description == "m")
}

@Test func aTemplatePrefersUpstreamsAndSetsItsTasksPriority() throws {
    let text =
        "---\ncommand: x\nupstreams: local, primary\npriority: background\nresumeAfterLimit: false\n---\n"
    let template = try TemplateParser.parse(name: "cheap", bytes: utf8(text))
    #expect(template.upstreams == ["local", "primary"])
    #expect(template.priority == .background && !template.resumeAfterLimit)
    let single = try TemplateParser.parse(
        name: "one", bytes: utf8("---\ncommand: x\nupstream: primary\n---\n"))
    #expect(single.upstreams == ["primary"] && single.priority == nil && single.resumeAfterLimit)
}

@Test(arguments: [
    ("upstreams: local, local", "named twice"), ("upstreams: ,", "no upstream named"),
    ("upstreams: a/b", "upstream"), ("priority: later", "not one of urgent, normal, background"),
    ("resumeAfterLimit: maybe", "not true or false"),
])
func badUpstreamAndPriorityKeysAreExplained(_ line: String, _ fragment: String) {
    let error = failure { () throws(ProtocolError) in
        try TemplateParser.parse(name: "t", bytes: utf8("---\ncommand: x\n\(line)\n---\n"))
    }
    #expect(
        error?.line == 3 && (error?.description.contains(fragment) ?? false), "\(String(describing: error))")
}

@Test func aTaskMayNameItsUpstreams() throws {
    let task = try TaskParser.parse(
        fileName: "t.md", bytes: utf8("---\nrole: worker\ntemplate: t\nupstreams: local\n---\ndo it\n"))
    #expect(task.upstreams == ["local"] && !task.givesPriority)
    let bad = failure { () throws(ProtocolError) in
        try TaskParser.parse(
            fileName: "t.md", bytes: utf8("---\nrole: worker\ntemplate: t\nupstreams: a, a\n---\n"))
    }
    #expect(bad?.line == 4)
}
