// One function per fuzz target. Each feeds the input to one parser (errors are fine; traps,
// hangs and memory errors are not) and, when the parser accepts it, checks what the parser's
// documentation promises. README.md lists the checks.

import SwarmProtocol

enum Targets {
    // MARK: json

    /// `JSON.parse`: parse -> encode -> parse gives an equal value and the same text again, in
    /// every encoding mode; compact output is one line; `parseWithLines` agrees with `parse`.
    static func json(_ bytes: [UInt8]) {
        let value: JSONValue
        do {
            value = try JSON.parse(bytes)
        } catch {
            checkErrorLine(error.line, in: bytes)
            check((try? JSON.parseWithLines(bytes)) == nil, "parseWithLines accepts what parse rejects")
            return
        }
        check((try? JSON.parseWithLines(bytes))?.0 == value, "parseWithLines disagrees with parse")
        for (pretty, sortKeys) in [(true, true), (false, true), (false, false)] {
            let text = JSON.encode(value, pretty: pretty, sortKeys: sortKeys)
            guard let again = try? JSON.parse(Array(text.utf8)) else {
                fail("encode wrote text that does not parse: \(show(text))")
                return
            }
            check(again == value, "parse(encode(v)) != v for \(show(text))")
            if sortKeys {
                check(JSON.encode(again, pretty: pretty) == text, "encode is not stable: \(show(text))")
            }
            if !pretty { check(!text.utf8.contains(0x0A), "compact JSON spans lines: \(show(text))") }
        }
    }

    // MARK: frontmatter

    /// `FrontMatter.parse`: keys are valid, values are trimmed and on one line, lines increase
    /// and lie before the body, only list keys repeat, the body is the tail of the text.
    static func frontMatter(_ bytes: [UInt8]) {
        let parsed: FrontMatter
        do {
            parsed = try FrontMatter.parse(bytes, listKeys: TaskParser.listKeys)
        } catch {
            checkErrorLine(error.line, in: bytes)
            return
        }
        guard let text = try? TextDecoding.decode(bytes) else {
            fail("FrontMatter accepted bytes that TextDecoding rejects")
            return
        }
        check(Array(text.utf8).suffix(parsed.body.utf8.count) == Array(parsed.body.utf8), "body is not the tail")
        guard parsed.hasFrontMatter else {
            check(parsed.fields.isEmpty && parsed.body == text && parsed.bodyStartLine == 1, "no-front-matter result")
            return
        }
        var previousLine = 1
        var seen: Set<String> = []
        for field in parsed.fields {
            check(isFrontMatterKey(field.key), "invalid key \(show(field.key))")
            check(!field.value.utf8.contains(0x0A), "value of \(show(field.key)) spans lines: \(show(field.value))")
            check(isTrimmed(field.value), "value of \(show(field.key)) is not trimmed: \(show(field.value))")
            check(field.line > previousLine && field.line < parsed.bodyStartLine, "field line \(field.line)")
            previousLine = field.line
            if !TaskParser.listKeys.contains(field.key) {
                check(seen.insert(field.key).inserted, "key \(show(field.key)) repeats")
            }
        }
    }

    // MARK: task-md, task-json

    /// `TaskParser.parse`: the typed keys are valid (id per `AgentID.problem`, role and
    /// template per `ResourceName.problem`, inputs relative without `..`, numbers >= 0); a
    /// front matter task without CR bytes reads back the same after `TaskParser.format`.
    static func task(_ bytes: [UInt8], fileName: String) {
        guard let task = try? TaskParser.parse(fileName: fileName, bytes: bytes) else { return }
        if let id = task.id { check(AgentID.problem(with: id) == nil, "invalid id \(show(id))") }
        check(ResourceName.problem(with: task.role, what: "role") == nil, "invalid role \(show(task.role))")
        check(
            ResourceName.problem(with: task.template, what: "template") == nil,
            "invalid template \(show(task.template))")
        check((task.slots ?? 0) >= 0, "negative slots")
        check((task.tokenBudget ?? 0) >= 0, "negative budget.tokens")
        if let cost = task.costBudget { check(cost.isFinite && cost >= 0, "bad budget.cost \(cost)") }
        for input in task.inputs {
            check(
                !input.isEmpty && !input.hasPrefix("/") && !input.split(separator: "/").contains(".."),
                "input \(show(input)) escapes the workspace")
        }
        check(!task.fields.contains { $0.key == "task" }, "a field named task")
        _ = task.placeholderValues

        // Round trip: format's doc turns line breaks in values into spaces, so skip inputs
        // with CR bytes (a lone CR is a line break there but not for FrontMatter).
        guard fileName.hasSuffix(".md"), !bytes.contains(0x0D) else { return }
        let text = TaskParser.format(task)
        let again: TaskSpec
        do {
            again = try TaskParser.parse(fileName: "again.md", bytes: Array(text.utf8))
        } catch {
            fail("TaskParser.format wrote a task that does not parse (\(error)): \(show(text))")
            return
        }
        check(
            again.id == task.id && again.role == task.role && again.template == task.template
                && again.priority == task.priority && again.slots == task.slots && again.inputs == task.inputs
                && again.tokenBudget == task.tokenBudget && again.costBudget == task.costBudget
                && again.text == task.text,
            "format -> parse changed the task: \(show(text))")
        let passThrough = { (spec: TaskSpec) in
            spec.fields.filter { !TaskParser.knownKeys.contains($0.key) }.map { "\($0.key)=\($0.value)" }
        }
        check(passThrough(again) == passThrough(task), "format -> parse changed the other keys: \(show(text))")
    }

    // MARK: template

    /// `TemplateParser.parse`: known keys only, a command, valid slots/upstream/backoff/actions,
    /// the contract re-parses to itself, and the brief renders once every placeholder has a value.
    static func template(_ bytes: [UInt8]) {
        guard let template = try? TemplateParser.parse(name: "fuzz", bytes: bytes) else { return }
        check(!template.command.isEmpty, "empty command")
        check((template.slots ?? 0) >= 0, "negative slots")
        if let upstream = template.upstream {
            check(ResourceName.problem(with: upstream, what: "upstream") == nil, "invalid upstream")
        }
        for field in template.fields {
            check(TemplateParser.knownKeys.contains(field.key), "unknown key \(show(field.key)) accepted")
        }
        if let contract = template.contract {
            check((try? ResultContract.parse(contract.text)) == contract, "contract does not re-parse")
        }
        let policy = template.policy
        check(
            policy.backoffBaseMilliseconds > 0 && policy.backoffCapMilliseconds >= policy.backoffBaseMilliseconds,
            "backoff \(policy.backoffBaseMilliseconds)..\(policy.backoffCapMilliseconds)")
        for (_, action) in policy.actions {
            if case .retry(let count) = action { check(count >= 0, "retry \(count)") }
            check(FailureAction.parse(action.text) == action, "action text \(show(action.text))")
        }
        var values: [String: String] = [:]
        for name in Placeholders.names(in: template.body) { values[name] = "x" }
        check(
            (try? Placeholders.render(template.body, values: values, firstLine: template.bodyStartLine)) != nil,
            "the brief does not render with every name known")
    }

    // MARK: config

    /// `ConfigParser.parse` (never throws): unreadable or non-object JSON gives the standard
    /// configuration and one problem; otherwise every value is in range and the cross-key
    /// rules hold (reserve < maxSlots, killAfter > investigateAfter, unique valid upstreams).
    static func config(_ bytes: [UInt8]) {
        let (config, problems) = ConfigParser.parse(bytes)
        for problem in problems {
            check(!problem.message.isEmpty, "empty problem message")
            if let line = problem.line { check(line >= 1, "problem line \(line)") }
        }
        guard case .object? = try? JSON.parse(bytes) else {
            check(config == .standard && problems.count == 1, "unreadable config: \(problems.count) problems")
            return
        }
        check(config.maxSlots >= 1 && config.reserve >= 0 && config.reserve < config.maxSlots, "slots/reserve")
        check(config.maxDepth >= 1, "maxDepth")
        check(
            config.investigateAfter >= 1 && config.killAfter > config.investigateAfter,
            "investigateAfter/killAfter")
        check(config.orphanAfter >= 1 && config.spinAfter >= 1 && config.loopAfter >= 1, "counts")
        check(config.heartbeatMilliseconds >= 1 && config.killGraceMilliseconds >= 0, "durations")
        check(
            config.breakerFailures >= 1 && config.breakerOpenForMilliseconds >= 1
                && config.breakerMaxOpenForMilliseconds >= config.breakerOpenForMilliseconds,
            "breaker settings")
        for (role, cap) in config.roleSlots {
            check(ResourceName.problem(with: role, what: "role") == nil && cap >= 0, "roleSlots \(show(role))")
        }
        var names: Set<String> = []
        for upstream in config.upstreams {
            check(names.insert(upstream.name).inserted, "upstream \(show(upstream.name)) twice")
            check(ResourceName.problem(with: upstream.name, what: "upstream") == nil, "upstream name")
            check((upstream.concurrency ?? 1) >= 1 && (upstream.context ?? 1) >= 1, "concurrency/context")
        }
    }

    // MARK: contract

    /// `ResultContract.parse`: the contract re-parses from its own text; an error result and a
    /// non-object get the documented answers; a value built from the contract's type names
    /// (a string for "string", [x] for ["T"], ...) has no violations.
    static func contract(_ bytes: [UInt8]) {
        guard let contract = try? ResultContract.parse(String(decoding: bytes, as: UTF8.self)) else { return }
        check((try? ResultContract.parse(contract.text)) == contract, "contract does not re-parse")
        check(contract.violations(in: ["status": "error"]).isEmpty, "an error result breaks the contract")
        check(contract.violations(in: .null).count == 1, "a non-object gives one violation")
        guard let shape = try? JSON.parse(Array(contract.text.utf8), maxDepth: 16) else {
            fail("the contract's text is not JSON")
            return
        }
        let sample = sampleValue(for: shape)
        let found = contract.violations(in: sample)
        check(
            found.isEmpty,
            "a value made from the contract breaks it: \(show(JSON.encode(sample, pretty: false))) -> \(found)")
    }

    /// A value of the shape a contract describes.
    private static func sampleValue(for shape: JSONValue) -> JSONValue {
        switch shape {
        case .string("string"): return "s"
        case .string("number"): return .number(0.5)
        case .string("integer"): return 1
        case .string("boolean"): return true
        case .string("object"): return .object(JSONObject())
        case .string("array"): return []
        case .array(let elements): return .array(elements.map(sampleValue(for:)))
        case .object(let object):
            var sample = JSONObject()
            for entry in object.entries {
                let key = entry.key.hasSuffix("?") ? String(entry.key.dropLast()) : entry.key
                sample[key] = sampleValue(for: entry.value)
            }
            return .object(sample)
        default: return .null  // "null", "any"
        }
    }

    // MARK: violations

    /// `ResultContract.violations(in:)`. Input: the first line is a contract (the empty
    /// contract when it does not parse), the rest a results.json. Every violation names a
    /// `$` path; a non-object gives exactly one; the same object with status "error" and no
    /// error/error_kind gives none.
    static func violations(_ bytes: [UInt8]) {
        let newline = bytes.firstIndex(of: 0x0A) ?? bytes.count
        let contract =
            (try? ResultContract.parse(String(decoding: bytes[..<newline], as: UTF8.self))) ?? .empty
        guard let value = try? JSON.parse(Array(bytes[min(newline + 1, bytes.count)...])) else { return }
        let found = contract.violations(in: value)
        check(found.allSatisfy { $0.hasPrefix("$") }, "violation without a path: \(found)")
        guard case .object(var object) = value else {
            check(found.count == 1, "a non-object gives \(found.count) violations")
            return
        }
        object["status"] = "error"
        object["error"] = nil
        object["error_kind"] = nil
        check(contract.violations(in: .object(object)).isEmpty, "an error result breaks the contract")
    }

    // MARK: progress

    /// `ProgressLine.parse`: outputs and tokens >= 0, cost finite and >= 0, the status is at
    /// most 500 characters, trimmed, without control characters; `formatted()` is exactly one
    /// line and (for four-digit years) parses back to the same line.
    static func progress(_ bytes: [UInt8]) {
        guard let line = ProgressLine.parse(String(decoding: bytes, as: UTF8.self)) else { return }
        check((line.outputs ?? 0) >= 0 && (line.tokens ?? 0) >= 0, "negative outputs or tokens")
        if let cost = line.cost { check(cost.isFinite && cost >= 0, "bad cost \(cost)") }
        check(line.status.count <= ProgressLine.maxStatusLength, "status too long")
        check(isTrimmed(line.status), "status not trimmed: \(show(line.status))")
        check(
            !line.status.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) },
            "control character in status: \(show(line.status))")
        let text = line.formatted()
        check(
            text.hasSuffix("\n") && text.utf8.filter { $0 == 0x0A || $0 == 0x0D }.count == 1,
            "formatted() is not one line: \(show(text))")
        if hasFourDigitYear(line.timeMilliseconds) {
            let again = ProgressLine.parse(text)
            check(again == line, "parse(formatted()) differs: \(show(text)) -> \(String(describing: again))")
        }
    }

    // MARK: slurmjob

    /// `SlurmJob.parseList` (the output of `squeue --Format=` `SlurmJob.queueFormat`): every job
    /// read has an id of digits and a state, reason, name and nodes without the separator, one
    /// job per line at most, and its phase is decided for any state; a job line read on its own
    /// gives the same job.
    static func slurmJob(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let jobs = SlurmJob.parseList(text)
        check(jobs.count <= text.split(separator: "\n").count, "more jobs than lines")
        for job in jobs {
            check(!job.id.isEmpty && job.id.allSatisfy(\.isNumber), "bad id \(show(job.id))")
            check(!job.state.isEmpty && !job.state.contains("\n"), "bad state \(show(job.state))")
            for field in [job.state, job.reason, job.name, job.nodes] {
                check(!field.contains("|"), "a field holds the separator: \(show(field))")
            }
            check(job.signal >= 0 && job.signal < 128 && job.exitCode >= 0 && job.exitCode < 256, "bad status")
            _ = job.phase
        }
        for line in text.split(separator: "\n") {
            if let job = SlurmJob.parse(String(line)) { check(jobs.contains(job), "a line read alone differs") }
        }
    }

    // MARK: duration

    /// `DurationText.parse`: >= 0, and `format` -> `parse` gives the same milliseconds (also for
    /// the first 8 input bytes read as an Int64 >= 0).
    static func duration(_ bytes: [UInt8]) {
        if let milliseconds = DurationText.parse(String(decoding: bytes, as: UTF8.self)) {
            check(milliseconds >= 0, "negative duration")
            let text = DurationText.format(milliseconds)
            check(DurationText.parse(text) == milliseconds, "format(\(milliseconds)) = \(show(text)) reads back differently")
        }
        if let number = int64(bytes), number >= 0 {
            let text = DurationText.format(number)
            check(DurationText.parse(text) == number, "format(\(number)) = \(show(text)) reads back differently")
        }
    }

    // MARK: timestamp

    /// `Timestamp.parse`: for four-digit years, `iso8601` -> `parse` gives the same
    /// milliseconds (also for the first 8 input bytes read as an Int64).
    static func timestamp(_ bytes: [UInt8]) {
        if let milliseconds = Timestamp.parse(String(decoding: bytes, as: UTF8.self)),
            hasFourDigitYear(milliseconds)
        {
            let text = Timestamp.iso8601(milliseconds: milliseconds)
            check(Timestamp.parse(text) == milliseconds, "\(show(text)) reads back differently")
        }
        if let number = int64(bytes) {
            let text = Timestamp.iso8601(milliseconds: number)
            if hasFourDigitYear(number) {
                check(Timestamp.parse(text) == number, "iso8601(\(number)) = \(show(text)) reads back differently")
            }
        }
    }

    // MARK: placeholders

    /// `Placeholders.render` (hangs are caught by -timeout): names and occurrences agree;
    /// rendering succeeds when every name has a value, even a value that looks like an unknown
    /// placeholder (values are not scanned again); with no placeholders the text is unchanged;
    /// empty values never make the text longer; no values fails iff there is a placeholder.
    static func placeholders(_ bytes: [UInt8]) {
        let body = String(decoding: bytes, as: UTF8.self)
        let names = Placeholders.names(in: body)
        let occurrences = Placeholders.occurrences(in: body, firstLine: 1)
        check(Set(names).count == names.count, "names repeat")
        check(Set(names) == Set(occurrences.map(\.name)), "names and occurrences disagree")
        let lineCount = body.utf8.filter { $0 == 0x0A }.count + 1
        check(occurrences.allSatisfy { $0.line >= 1 && $0.line <= lineCount }, "occurrence line out of range")
        var tricky: [String: String] = [:]
        var blank: [String: String] = [:]
        for name in names {
            tricky[name] = "{{zz-not-a-name}}"
            blank[name] = ""
        }
        guard let rendered = try? Placeholders.render(body, values: tricky) else {
            fail("render failed with every name known (or a value was scanned again)")
            return
        }
        if names.isEmpty { check(rendered == body, "no placeholders, yet the text changed") }
        if let shrunk = try? Placeholders.render(body, values: blank) {
            check(shrunk.utf8.count <= body.utf8.count, "empty values made the text longer")
        } else {
            fail("render failed with every name known")
        }
        check(((try? Placeholders.render(body, values: [:])) == nil) == !names.isEmpty, "render without values")
    }

    // MARK: classifier

    /// `FailureClassifier.classify(stdout:stderr:exitCode:)`. Input: byte 0 picks the exit
    /// code (nil, 0, 1, 2, 124, 137, 143, -1), the rest is stdout, then a NUL, then stderr.
    /// A diagnosis has a single-line message of at most 300 characters (+ "…"), a status in
    /// 100...999, a wait >= 0 and a documented source. Also runs `classify(message:source:)`
    /// and `retryAfter` on the stderr text.
    static func classifier(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let exitCodes: [Int32?] = [nil, 0, 1, 2, 124, 137, 143, -1]
        let exitCode = exitCodes[Int(first % 8)]
        let rest = bytes.dropFirst()
        let nul = rest.firstIndex(of: 0) ?? rest.endIndex
        let stdout = Array(rest[..<nul])
        let stderr = nul < rest.endIndex ? Array(rest[(nul + 1)...]) : []
        if let diagnosis = FailureClassifier.classify(stdout: stdout, stderr: stderr, exitCode: exitCode) {
            checkDiagnosis(diagnosis)
        }
        let message = String(decoding: stderr, as: UTF8.self)
        if let diagnosis = FailureClassifier.classify(message: message, source: "stderr") {
            checkDiagnosis(diagnosis)
        }
        if let wait = FailureClassifier.retryAfter(message) { check(wait >= 0, "negative retryAfter") }
    }

    private static let sources: Set<String> = [
        "results.json", "claude-json", "claude-stream-json", "codex-jsonl", "aider-text", "stderr", "stdout",
        "exit-status",
    ]

    private static func checkDiagnosis(_ diagnosis: FailureDiagnosis) {
        check(
            !diagnosis.message.utf8.contains(0x0A) && !diagnosis.message.utf8.contains(0x0D),
            "message is not one line: \(show(diagnosis.message))")
        check(diagnosis.message.count <= 301, "message has \(diagnosis.message.count) characters")
        if let status = diagnosis.httpStatus { check((100...999).contains(status), "status \(status)") }
        if let wait = diagnosis.retryAfterMilliseconds { check(wait >= 0, "negative wait") }
        check(sources.contains(diagnosis.source), "undocumented source \(show(diagnosis.source))")
    }

    // MARK: textdecoding

    /// `TextDecoding.decode`: succeeds exactly when the bytes after a BOM are valid UTF-8
    /// without NUL (checked against the standard library); the text is the input without the
    /// BOM and with the CR of each CR LF dropped, and holds no CR LF ("CRLF line ends become LF").
    static func textDecoding(_ bytes: [UInt8]) {
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        let body = bytes[start...]
        let valid = !body.contains(0) && String(validating: body, as: UTF8.self) != nil
        let text: String
        do {
            text = try TextDecoding.decode(bytes)
        } catch {
            check(!valid, "valid UTF-8 rejected: \(error)")
            checkErrorLine(error.line, in: bytes)
            return
        }
        check(valid, "invalid UTF-8 or NUL accepted")
        var expected: [UInt8] = []
        for index in body.indices where !(body[index] == 0x0D && index + 1 < body.endIndex && body[index + 1] == 0x0A) {
            expected.append(body[index])
        }
        let output = Array(text.utf8)
        check(output == expected, "decoded text differs from the model")
        check(!zip(output, output.dropFirst()).contains { $0 == 0x0D && $1 == 0x0A }, "decoded text still has CR LF")
    }

    // MARK: Helpers

    /// An error's line, when given, is a line of the input.
    private static func checkErrorLine(_ line: Int?, in bytes: [UInt8]) {
        guard let line else { return }
        let lines = bytes.filter { $0 == 0x0A }.count + 1
        check(line >= 1 && line <= lines, "error line \(line) of \(lines)")
    }

    private static func isFrontMatterKey(_ key: String) -> Bool {
        !key.isEmpty
            && key.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2E || byte == 0x2D || byte == 0x5F
            }
    }

    private static func isTrimmed(_ text: String) -> Bool {
        !(text.first?.isWhitespace ?? false) && !(text.last?.isWhitespace ?? false)
    }

    /// True when `iso8601` writes the time with a four-digit year (0000-9999), the range
    /// `Timestamp.parse` reads.
    private static func hasFourDigitYear(_ milliseconds: Int64) -> Bool {
        // 0000-01-01T00:00:00.000Z ... 9999-12-31T23:59:59.999Z
        milliseconds >= -62_167_219_200_000 && milliseconds <= 253_402_300_799_999
    }

    /// The first 8 bytes as a little-endian Int64, or nil for shorter input.
    private static func int64(_ bytes: [UInt8]) -> Int64? {
        guard bytes.count >= 8 else { return nil }
        var value: UInt64 = 0
        for (offset, byte) in bytes.prefix(8).enumerated() { value |= UInt64(byte) << (8 * UInt64(offset)) }
        return Int64(bitPattern: value)
    }
}
