/// The class of a failed agent attempt, for routing between upstreams.
public enum UpstreamErrorClass: String, Sendable, CaseIterable {
    /// 429, `rate_limit_error`: back off and lower that upstream's concurrency.
    case rateLimited = "rate-limited"
    /// A subscription's usage limit, which resets by itself at a time the CLI names (Claude
    /// Code "Claude AI usage limit reached|1755615600", "5-hour limit reached ∙ resets 5am",
    /// "You've hit your session limit · resets 4:50pm (America/Denver)", a rejected
    /// `rate_limit_event`; Codex "You've hit your usage limit ... try again at 3:12 PM").
    case usageLimit = "usage-limit"
    /// A credit, billing or quota limit that does not reset by itself ("credit balance is too
    /// low", OpenAI `insufficient_quota`, "exceeded your current quota", HTTP 402).
    case quotaExhausted = "quota"
    /// 529 `overloaded_error`, 5xx `api_error`, 500, 502, 503, 504.
    case overloaded = "overloaded"
    /// Connection refused or reset, DNS, timeouts ("APIConnectionError", "ECONNREFUSED",
    /// "fetch failed").
    case connection = "connection"
    /// 401/403, `authentication_error`, `permission_error`, invalid x-api-key, "Please run
    /// /login".
    case auth = "auth"
    /// "prompt is too long", `context_length_exceeded`, 413 `request_too_large`.
    case contextTooLong = "context-too-long"
    /// The agent produced output that cannot be used (only when clearly so).
    case badOutput = "bad-output"
    /// An upstream API error that names no class this enum knows (a 400 or 404 from the API,
    /// "API Error: Request was aborted.").
    case unknown = "unknown"
}

/// What the classifier concluded and from where.
public struct FailureDiagnosis: Sendable, Equatable {
    /// The class of the failure.
    public var errorClass: UpstreamErrorClass
    /// The HTTP status the output names, when it names one.
    public var httpStatus: Int?
    /// How long the upstream asked the caller to wait, in milliseconds, when it said so in a
    /// form that needs no clock (a `Retry-After` in seconds, "try again in 20s").
    public var retryAfterMilliseconds: Int64?
    /// A short, single-line message for a person.
    public var message: String
    /// Where the evidence came from: `results.json`, `claude-json`, `claude-stream-json`,
    /// `codex-jsonl`, `aider-text`, `stderr`, `stdout`, or `exit-status`.
    public var source: String
    /// For a usage limit: when it resets, as the output said it (nil when it does not say).
    public var resetsAt: LimitReset?

    public init(
        errorClass: UpstreamErrorClass, httpStatus: Int? = nil, retryAfterMilliseconds: Int64? = nil,
        message: String, source: String, resetsAt: LimitReset? = nil
    ) {
        self.errorClass = errorClass
        self.httpStatus = httpStatus
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.message = message
        self.source = source
        self.resetsAt = resetsAt
    }
}

/// Classifies a failed agent attempt from what the agent reported or from what its CLI printed.
///
/// Structured output wins over text: a Claude Code result object, a Codex `turn.failed`
/// event. A successful Claude result (`"is_error": false`) or a completed Codex turn means the
/// upstream worked, whatever the model wrote in its prose. Text is matched only on stderr and
/// on stdout lines that are not JSON; on stdout a line counts only when it starts like an error
/// report (`litellm.RateLimitError: ...`, `API Error: 529 ...`, `ERROR: ...`), so a model's
/// answer that talks about rate limits is not taken for one. Vague words ("rate limit",
/// "overloaded", "401") count only on stderr and only when the command failed.
public enum FailureClassifier {
    /// The most bytes of each stream looked at (the end of it).
    static let maxTail = 1 << 20

    /// The longest message kept, in characters.
    static let maxMessage = 300

    /// How many candidate error lines of one stream are read, from the end: the error that
    /// ended a run is near the end of its output, and this bounds the work on a log full of
    /// lines that mention errors.
    static let maxRecordsExamined = 500

    // MARK: - Reported kinds

    /// The class an agent reported itself in results.json.
    ///
    /// `error_kind` values: `rate-limited`, `usage-limit`, `quota`, `overloaded`, `server-error`
    /// and `upstream` (both overloaded), `connection`, `auth`, `context-too-long`, `bad-output`;
    /// case and `_` for `-` do not matter. Any other kind gives nil (an ordinary failure). A
    /// non-negative `retry_after_ms` is honoured; without one, a "retry after 20s" phrase in the
    /// message is. A usage limit resets after `retry_after_ms`, else when its message says.
    public static func fromReportedKind(
        _ kind: String, message: String, retryAfterMilliseconds: Int64?
    ) -> FailureDiagnosis? {
        var normalized = ""
        for scalar in kind.unicodeScalars {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" { continue }
            normalized.unicodeScalars.append(scalar == "_" ? "-" : scalar)
        }
        normalized = normalized.lowercased()
        let errorClass: UpstreamErrorClass
        switch normalized {
        case "rate-limited": errorClass = .rateLimited
        case "usage-limit": errorClass = .usageLimit
        case "quota": errorClass = .quotaExhausted
        case "overloaded", "server-error", "upstream": errorClass = .overloaded
        case "connection": errorClass = .connection
        case "auth": errorClass = .auth
        case "context-too-long": errorClass = .contextTooLong
        case "bad-output": errorClass = .badOutput
        default: return nil
        }
        let text = ClassifierText(message)
        var retry: Int64?
        if let given = retryAfterMilliseconds, given >= 0 { retry = given }
        let summary = summarize(message)
        var reset: LimitReset?
        if errorClass == .usageLimit {
            reset = retry.map(LimitReset.after) ?? LimitResetText.find(in: message)
        }
        return FailureDiagnosis(
            errorClass: errorClass, httpStatus: statusIn(text),
            retryAfterMilliseconds: retry ?? retryAfterPhrase(message),
            message: summary.isEmpty ? "the agent reported \(normalized)" : summary,
            source: "results.json", resetsAt: reset)
    }

    // MARK: - Output of the agent CLIs

    /// Classifies from the tail of stdout.log and stderr.log (each possibly cut mid-line at the
    /// start) and the exit code (nil if unknown, e.g. killed by a signal).
    ///
    /// Recognises Claude Code `-p --output-format json` (one result object, or the array that
    /// `--verbose` gives) and `stream-json` (the last `result` line counts; without one, the
    /// last `api_retry`, API-error assistant message or rejected `rate_limit_event` not
    /// followed by a normal assistant message), Codex `exec --json` (the last `turn.failed`,
    /// else the last `error` event not followed by `turn.completed`), aider's text (which
    /// exits 0 after fatal API errors and wraps long messages over several lines), and
    /// generic error text. Returns nil when nothing upstream-related is recognised.
    public static func classify(stdout: [UInt8], stderr: [UInt8], exitCode: Int32?) -> FailureDiagnosis? {
        let out = Array(stdout.suffix(maxTail))
        let err = Array(stderr.suffix(maxTail))
        let scan = ClassifierScan(out)
        switch structured(scan) {
        case .succeeded: return nil
        case .failed(var diagnosis):
            if diagnosis.errorClass == .usageLimit, let epoch = scan.rejectedLimitReset {
                diagnosis.resetsAt = .instant(epoch * 1000)
            }
            return diagnosis
        case .none: break
        }
        return textual(stdoutLines: scan.textLines, stderrLines: splitLines(err), exitCode: exitCode)
    }

    /// Classifies one error message on its own (a Claude `result` text, a Codex error
    /// message, one line of a log); `source` is copied into the diagnosis. Nil when the
    /// message names no upstream failure.
    public static func classify(message: String, source: String) -> FailureDiagnosis? {
        let inner = embeddedError(message)
        guard let verdict = decide(status: inner.status, code: inner.code, text: ClassifierText(message))
        else {
            return nil
        }
        return diagnosis(verdict, message: message, source: source)
    }

    // MARK: - Retry-After

    /// The wait a text asks for, in milliseconds.
    ///
    /// A bare `Retry-After` value in seconds (`"30"`), or a phrase inside a message: "retry
    /// after 20s", "Retry-After: 30", "retry_after_ms: 1500", "try again in 5 seconds",
    /// "Please try again in 6.734s", "try again in 1m30s". Fractions round up to the next
    /// millisecond. An HTTP date, an absolute time ("resets 4:50pm", "Try again at 3:12 PM")
    /// or a vague phrase ("try again later") gives nil: turning those into a wait needs a clock.
    /// "Retrying in 2.0 seconds" is a client's own backoff and is not read.
    public static func retryAfter(_ text: String) -> Int64? {
        let bytes = ClassifierText.lowercase(Array(text.utf8))
        var start = 0
        var end = bytes.count
        while start < end, ClassifierText.isSpace(bytes[start]) { start += 1 }
        while end > start, ClassifierText.isSpace(bytes[end - 1]) { end -= 1 }
        if start < end, end - start <= 12, bytes[start..<end].allSatisfy(ClassifierText.isDigit) {
            var seconds: Int64 = 0
            for byte in bytes[start..<end] { seconds = seconds * 10 + Int64(byte - 0x30) }
            return seconds.multipliedReportingOverflow(by: 1000).overflow ? nil : seconds * 1000
        }
        return phraseRetryAfter(bytes)
    }

    /// The wait a phrase inside a message asks for ("try again in 20s"); a bare number in a
    /// message is not one.
    static func retryAfterPhrase(_ text: String) -> Int64? {
        phraseRetryAfter(ClassifierText.lowercase(Array(text.utf8)))
    }

    private static func phraseRetryAfter(_ bytes: [UInt8]) -> Int64? {
        var best: (position: Int, value: Int64)?
        for phrase in retryPhrases {
            var from = 0
            while let found = ClassifierText.find(phrase.bytes, in: bytes, from: from) {
                from = found + 1
                if phrase.bytes == Array("retry in".utf8), found > 0,
                    ClassifierText.isLetter(bytes[found - 1])
                {
                    continue
                }
                if let value = duration(bytes, at: found + phrase.bytes.count, defaultUnit: phrase.unit) {
                    if best == nil || found < best!.position { best = (found, value) }
                    break
                }
            }
        }
        return best?.value
    }

    private struct RetryPhrase {
        let bytes: [UInt8]
        let unit: Int64
        init(_ text: String, unit: Int64) {
            bytes = Array(text.utf8)
            self.unit = unit
        }
    }

    private static let retryPhrases: [RetryPhrase] = [
        RetryPhrase("retry_after_ms", unit: 1), RetryPhrase("retry-after-ms", unit: 1),
        RetryPhrase("retryafterms", unit: 1),
        RetryPhrase("retry after", unit: 1000), RetryPhrase("retry-after", unit: 1000),
        RetryPhrase("retry_after", unit: 1000), RetryPhrase("retryafter", unit: 1000),
        RetryPhrase("try again in", unit: 1000), RetryPhrase("retry in", unit: 1000),
    ]

    /// A duration such as `20`, `20s`, `1.5 seconds`, `250ms`, `1m30s` at `index` (after
    /// separators), in milliseconds; a number without a unit is in `defaultUnit`.
    private static func duration(_ bytes: [UInt8], at index: Int, defaultUnit: Int64) -> Int64? {
        var i = index
        while i < bytes.count,
            bytes[i] == 0x20 || bytes[i] == 0x3A || bytes[i] == 0x3D || bytes[i] == 0x22
                || bytes[i] == 0x27 || bytes[i] == 0x09
        {
            i += 1
        }
        if ClassifierText.hasPrefix(Array("about ".utf8), in: bytes, at: i) { i += 6 }
        if i < bytes.count, bytes[i] == 0x7E { i += 1 }  // "~5s"
        var total: Int64 = 0
        var parts = 0
        while i < bytes.count, ClassifierText.isDigit(bytes[i]) {
            var whole: Int64 = 0
            var digits = 0
            while i < bytes.count, ClassifierText.isDigit(bytes[i]) {
                if digits >= 12 { return nil }
                whole = whole * 10 + Int64(bytes[i] - 0x30)
                digits += 1
                i += 1
            }
            var fraction: Int64 = 0
            var scale: Int64 = 1
            if i + 1 < bytes.count, bytes[i] == 0x2E, ClassifierText.isDigit(bytes[i + 1]) {
                i += 1
                while i < bytes.count, ClassifierText.isDigit(bytes[i]) {
                    if scale < 1_000_000 {
                        fraction = fraction * 10 + Int64(bytes[i] - 0x30)
                        scale *= 10
                    }
                    i += 1
                }
            }
            var j = i
            while j < bytes.count, bytes[j] == 0x20 { j += 1 }
            var k = j
            while k < bytes.count, ClassifierText.isLetter(bytes[k]) { k += 1 }
            let word = String(decoding: bytes[j..<k], as: UTF8.self)
            let unit: Int64
            switch word {
            case "ms", "msec", "msecs", "millisecond", "milliseconds": unit = 1
            case "s", "sec", "secs", "second", "seconds": unit = 1000
            case "m", "min", "mins", "minute", "minutes": unit = 60_000
            case "h", "hr", "hrs", "hour", "hours": unit = 3_600_000
            case "d", "day", "days": unit = 86_400_000
            case "":
                if parts > 0 { return nil }
                unit = defaultUnit
            default:
                if parts > 0 { return total }
                unit = defaultUnit
            }
            let (scaled, overflow) = whole.multipliedReportingOverflow(by: unit)
            if overflow { return nil }
            let fractional = (fraction * unit + scale - 1) / scale
            let (sum, overflow2) = total.addingReportingOverflow(scaled + fractional)
            if overflow2 { return nil }
            total = sum
            parts += 1
            if word.isEmpty { return total }
            i = k
            // Another part follows: "1m30s", "1 minute 30 seconds".
            if i < bytes.count, ClassifierText.isDigit(bytes[i]) { continue }
            if i + 1 < bytes.count, bytes[i] == 0x20, ClassifierText.isDigit(bytes[i + 1]) { i += 1 }
        }
        return parts > 0 ? total : nil
    }

    // MARK: - Structured output

    private enum StructuredOutcome {
        case succeeded
        case failed(FailureDiagnosis)
    }

    /// The verdict of the JSON events on stdout: nil when they say nothing either way.
    private static func structured(_ scan: ClassifierScan) -> StructuredOutcome? {
        let source = scan.jsonLineCount == 1 ? "claude-json" : "claude-stream-json"
        // Claude Code.
        var result: JSONObject?
        var evidence: (object: JSONObject, kind: ClaudeEvidence)?
        // Codex.
        var codexTerminal: (failed: Bool, object: JSONObject)?
        var codexError: JSONObject?
        for event in scan.events {
            guard let object = event.objectValue, let type = object["type"]?.stringValue else { continue }
            switch type {
            case "result":
                result = object
            case "system":
                if object["subtype"]?.stringValue == "api_retry" { evidence = (object, .retry) }
            case "assistant":
                if isClaudeAPIError(object) {
                    evidence = (object, .assistant)
                } else if object["message"]?["model"]?.stringValue != "<synthetic>" {
                    evidence = nil  // a real answer came after: the retries worked
                }
            case "rate_limit_event":
                if object["rate_limit_info"]?["status"]?.stringValue == "rejected" {
                    evidence = (object, .rateLimitEvent)
                }
            case "turn.completed":
                codexTerminal = (false, object)
                codexError = nil
            case "turn.failed":
                codexTerminal = (true, object)
            case "error":
                if object["message"]?.stringValue != nil { codexError = object }
            default:
                continue
            }
        }
        if let result {
            let isError = result["is_error"]?.boolValue
            if isError == false || (isError == nil && result["subtype"]?.stringValue == "success") {
                return .succeeded
            }
            if result["is_error"]?.boolValue == true
                || result["subtype"]?.stringValue?.hasPrefix("error") == true
            {
                if let diagnosis = claudeResult(result, evidence: evidence, source: source) {
                    return .failed(diagnosis)
                }
            }
            return nil
        }
        if let codexTerminal {
            if !codexTerminal.failed { return .succeeded }
            let message =
                codexTerminal.object["error"]?["message"]?.stringValue
                ?? codexTerminal.object["error"]?.stringValue ?? codexError?["message"]?.stringValue ?? ""
            return codexMessage(message).map { .failed($0) }
        }
        if let codexError, let message = codexError["message"]?.stringValue {
            return codexMessage(message).map { .failed($0) }
        }
        if let evidence,
            let diagnosis = claudeEvidence(evidence.object, kind: evidence.kind, source: "claude-stream-json")
        {
            return .failed(diagnosis)
        }
        return nil
    }

    private enum ClaudeEvidence { case retry, assistant, rateLimitEvent }

    /// True for the assistant message Claude Code makes up to carry an API error.
    private static func isClaudeAPIError(_ object: JSONObject) -> Bool {
        if object["isApiErrorMessage"]?.boolValue == true || object["is_api_error_message"]?.boolValue == true
        {
            return true
        }
        if let code = object["error"]?.stringValue, !code.isEmpty { return true }
        if object["message"]?["model"]?.stringValue == "<synthetic>" {
            return assistantText(object).hasPrefix("API Error")
        }
        return false
    }

    /// The text blocks of an assistant message, joined.
    private static func assistantText(_ object: JSONObject) -> String {
        let content = object["message"]?["content"]
        if let text = content?.stringValue { return text }
        var parts: [String] = []
        for block in content?.arrayValue ?? [] {
            if block["type"]?.stringValue == "text", let text = block["text"]?.stringValue {
                parts.append(text)
            }
        }
        return parts.joined(separator: " ")
    }

    /// A failed Claude Code result object.
    private static func claudeResult(
        _ result: JSONObject, evidence: (object: JSONObject, kind: ClaudeEvidence)?, source: String
    ) -> FailureDiagnosis? {
        let subtype = result["subtype"]?.stringValue ?? ""
        var text = result["result"]?.stringValue ?? ""
        if text.isEmpty, let errors = result["errors"]?.arrayValue {
            text = errors.compactMap(\.stringValue).joined(separator: "; ")
        }
        let status = httpStatus(result["api_error_status"])
        let code = result["error"]?.stringValue
        let terminal = result["terminal_reason"]?.stringValue ?? ""
        if subtype == "error_max_structured_output_retries" {
            return FailureDiagnosis(
                errorClass: .badOutput,
                message: summarize(text).isEmpty
                    ? "Claude Code gave up producing valid structured output (\(subtype))" : summarize(text),
                source: source)
        }
        if terminal == "prompt_too_long" || terminal == "blocking_limit" {
            return FailureDiagnosis(
                errorClass: .contextTooLong, httpStatus: status,
                message: summarize(text).isEmpty ? "Claude Code stopped: \(terminal)" : summarize(text),
                source: source)
        }
        let body = ClassifierText(text)
        if let verdict = decide(status: status, code: code, text: body) {
            return diagnosis(
                verdict,
                message: text.isEmpty ? "Claude Code API error \(status.map(String.init) ?? "")" : text,
                source: source)
        }
        if let evidence, let diagnosis = claudeEvidence(evidence.object, kind: evidence.kind, source: source)
        {
            return diagnosis
        }
        if terminal == "api_error" || (text.hasPrefix("API Error") && !body.contains("output token maximum"))
        {
            return FailureDiagnosis(
                errorClass: .unknown, httpStatus: status, retryAfterMilliseconds: retryAfterPhrase(text),
                message: summarize(text).isEmpty ? "Claude Code API error" : summarize(text), source: source)
        }
        return nil
    }

    /// A Claude Code `api_retry` event, API-error assistant message or rejected rate limit.
    private static func claudeEvidence(_ object: JSONObject, kind: ClaudeEvidence, source: String)
        -> FailureDiagnosis?
    {
        switch kind {
        case .retry:
            let status = httpStatus(object["error_status"])
            let code = object["error"]?.stringValue
            let text = object["error_message"]?.stringValue ?? object["message"]?.stringValue ?? ""
            guard let verdict = decide(status: status, code: code, text: ClassifierText(text)) else {
                return nil
            }
            var message = "API retry"
            if let code { message += ": \(code)" }
            if let status { message += " (HTTP \(status))" }
            if let attempt = object["attempt"]?.intValue {
                message += ", attempt \(attempt)"
                if let most = object["max_retries"]?.intValue { message += "/\(most)" }
            }
            if !text.isEmpty { message += ": \(text)" }
            return diagnosis(verdict, message: message, source: source, retryText: text)
        case .assistant:
            let text = assistantText(object)
            let status = httpStatus(
                object["apiErrorStatus"] ?? object["api_error_status"] ?? object["error_status"])
            let code = object["error"]?.stringValue
            if code == "max_output_tokens" { return nil }
            guard let verdict = decide(status: status, code: code, text: ClassifierText(text)) else {
                return text.hasPrefix("API Error")
                    ? FailureDiagnosis(
                        errorClass: .unknown, httpStatus: status, message: summarize(text), source: source)
                    : nil
            }
            return diagnosis(
                verdict, message: text.isEmpty ? "API error: \(code ?? "unknown")" : text, source: source)
        case .rateLimitEvent:
            let info = object["rate_limit_info"]
            let window = info?["rateLimitType"]?.stringValue ?? info?["rate_limit_type"]?.stringValue
            let reset = (info?["resetsAt"] ?? info?["resets_at"])?.intValue
            return FailureDiagnosis(
                errorClass: .usageLimit, httpStatus: 429,
                message: "usage limit rejected" + (window.map { " (\($0))" } ?? ""), source: source,
                resetsAt: reset.map { .instant($0 * 1000) })
        }
    }

    /// A Codex error message: plain text, or the API's JSON error body as a string.
    private static func codexMessage(_ message: String) -> FailureDiagnosis? {
        let text = ClassifierText(message)
        let inner = embeddedError(message)
        guard let verdict = decide(status: inner.status, code: inner.code, text: text) else { return nil }
        let shown = inner.message.map { m in verdict.status.map { "\($0) \(m)" } ?? m } ?? message
        return diagnosis(verdict, message: shown, source: "codex-jsonl", retryText: message)
    }

    /// An HTTP status held as a number or as text starting with one ("429 Too Many Requests").
    private static func httpStatus(_ value: JSONValue?) -> Int? {
        guard let value else { return nil }
        if let number = value.intValue, (100...999).contains(number) { return Int(number) }
        if let text = value.stringValue {
            let digits = text.utf8.prefix(while: ClassifierText.isDigit)
            if digits.count == 3, let number = Int(String(decoding: digits, as: UTF8.self)) { return number }
        }
        return nil
    }

    /// The status, error code and message of a JSON error body inside `text` (a Codex message
    /// that is the body itself, or `API Error: 529 {"type":"error",...}`).
    static func embeddedError(_ text: String) -> (status: Int?, code: String?, message: String?) {
        let bytes = Array(text.utf8)
        guard let open = bytes.firstIndex(of: 0x7B), let close = bytes.lastIndex(of: 0x7D), open < close,
            let value = try? JSON.parse(Array(bytes[open...close])), let object = value.objectValue
        else { return (nil, nil, nil) }
        let status = httpStatus(object["status"] ?? object["status_code"] ?? object["statusCode"])
        var code: String?
        var message: String?
        if let error = object["error"] {
            if let text = error.stringValue {
                code = text
            } else {
                let typeName = error["type"]?.stringValue
                let codeName = error["code"]?.stringValue
                code = codeName.flatMap { codeClass($0) != nil ? $0 : nil } ?? typeName ?? codeName
                message = error["message"]?.stringValue
            }
        } else {
            code = object["type"]?.stringValue == "error" ? nil : object["code"]?.stringValue
            message = object["message"]?.stringValue
        }
        return (status, code, message)
    }

    // MARK: - Deciding

    private struct Verdict {
        var errorClass: UpstreamErrorClass
        var status: Int?
    }

    /// The class from an explicit status, an error code and the error text, in that order,
    /// except that quota and context wording beats a status (a 429 "You've hit your session
    /// limit" is quota; a 400 "prompt is too long" is context) and specific text beats an
    /// unknown status. Nil when nothing points at the upstream.
    private static func decide(status given: Int?, code: String?, text: ClassifierText) -> Verdict? {
        if text.contains("output token maximum") { return nil }  // the agent's own output cap
        let fromText = textClass(text)
        let status = given ?? statusIn(text)
        if let fromText,
            [.usageLimit, .quotaExhausted, .contextTooLong, .badOutput].contains(fromText)
        {
            return Verdict(errorClass: fromText, status: status)
        }
        if let status {
            let fromStatus = statusClass(status)
            if fromStatus != .unknown { return Verdict(errorClass: fromStatus, status: status) }
        }
        if let code, let fromCode = codeClass(code), fromCode != .unknown {
            return Verdict(errorClass: fromCode, status: status)
        }
        if let fromText { return Verdict(errorClass: fromText, status: status) }
        if status != nil || code.flatMap(codeClass) != nil {
            return Verdict(errorClass: .unknown, status: status)
        }
        return nil
    }

    private static func diagnosis(
        _ verdict: Verdict, message: String, source: String, retryText: String? = nil
    )
        -> FailureDiagnosis
    {
        FailureDiagnosis(
            errorClass: verdict.errorClass, httpStatus: verdict.status,
            retryAfterMilliseconds: retryAfterPhrase(retryText ?? message), message: summarize(message),
            source: source, resetsAt: reset(verdict.errorClass, retryText ?? message))
    }

    /// For a usage limit, when `text` says it resets.
    private static func reset(_ errorClass: UpstreamErrorClass, _ text: String) -> LimitReset? {
        errorClass == .usageLimit ? LimitResetText.find(in: text) : nil
    }

    /// The class an HTTP status stands for.
    static func statusClass(_ status: Int) -> UpstreamErrorClass {
        switch status {
        case 429: return .rateLimited
        case 401, 403, 407: return .auth
        case 402: return .quotaExhausted
        case 413: return .contextTooLong
        case 408: return .connection
        case 500...599: return .overloaded
        default: return .unknown
        }
    }

    /// The class an error code stands for: Claude Code's `error` field (`rate_limit`,
    /// `authentication_failed`, `billing_error`, `server_error`...), the Anthropic and OpenAI
    /// error types and codes.
    static func codeClass(_ code: String) -> UpstreamErrorClass? {
        switch code.lowercased() {
        case "rate_limit", "rate_limit_error", "rate_limit_exceeded", "ratelimiterror", "too_many_requests",
            "requests", "tokens":
            return .rateLimited
        case "usage_limit_reached", "usage_limit_exceeded":
            return .usageLimit
        case "billing_error", "insufficient_quota", "usage_not_included", "quota_exceeded", "budget_exceeded":
            return .quotaExhausted
        case "overloaded", "overloaded_error", "server_error", "api_error", "internal_server_error",
            "timeout_error", "service_unavailable", "server_overloaded":
            return .overloaded
        case "authentication_failed", "authentication_error", "permission_error", "invalid_api_key",
            "unauthorized", "oauth_org_not_allowed":
            return .auth
        case "context_length_exceeded", "request_too_large", "prompt_too_long", "context_window_exceeded":
            return .contextTooLong
        case "connection_error", "api_connection_error", "connection_failed":
            return .connection
        case "invalid_request", "invalid_request_error", "not_found_error", "model_not_found", "unknown":
            return .unknown
        default:
            return nil
        }
    }

    // MARK: - ClassifierText patterns (all lowercase; matched on ASCII-lowercased text)

    private static let contextWords = ClassifierText.patterns([
        "prompt is too long", "context_length_exceeded", "contextwindowexceedederror", "context window",
        "maximum context length", "context length", "request_too_large", "request too large",
        "input is too long", "has hit a token limit", "ran out of room", "too many tokens",
        "request entity too large", "payload too large", "exceeds the context",
    ])
    /// A subscription's limit that resets by itself (checked before the quota words: Codex's
    /// "You've hit your usage limit ... purchase more credits or try again at 3:12 PM" is one).
    private static let usageLimitWords = ClassifierText.patterns([
        "usage limit", "you've hit your", "you have hit your", "you’ve hit your", "session limit",
        "weekly limit", "5-hour limit", "opus limit", "usage_limit_reached", "usage_limit_exceeded",
    ])
    private static let quotaWords = ClassifierText.patterns([
        "credit balance is too low", "insufficient_quota",
        "exceeded your current quota", "quota exceeded", "quota_exceeded", "billing_error", "billing details",
        "out of credits", "purchase more credits", "spend cap", "spending limit",
        "usage_not_included", "upgrade to plus", "budgetexceedederror", "budget has been exceeded",
        "payment required",
    ])
    private static let authWords = ClassifierText.patterns([
        "authentication_error", "authenticationerror", "authentication_failed", "permission_error",
        "permissiondeniederror", "invalid x-api-key", "invalid api key", "invalid_api_key",
        "incorrect api key", "please run /login", "failed to authenticate", "oauth token has expired",
        "oauth token revoked", "token has expired", "could not be refreshed", "invalid bearer token",
        "unauthorized", "forbidden", "not logged in", "api key not valid", "no api key",
        "missing api key", "does not have permission", "access blocked by cloudflare",
    ])
    private static let rateWords = ClassifierText.patterns([
        "rate_limit_error", "ratelimiterror", "rate_limit", "rate limit", "rate-limit", "ratelimit",
        "rate limited", "too many requests", "throttl", "resource_exhausted", "slow down",
    ])
    /// Connection failures that must win over the generic server-error class names a client
    /// wraps them in (litellm reports a refused connection as `InternalServerError`).
    private static let connectionWords = ClassifierText.patterns([
        "connection refused", "econnrefused", "errno 111", "connection reset", "econnreset",
        "apiconnectionerror", "connection error", "connection failed", "fetch failed", "etimedout",
        "enotfound", "eai_again", "ehostunreach", "enetunreach", "name or service not known",
        "nodename nor servname", "could not resolve", "failed to resolve",
        "temporary failure in name resolution",
        "dns error", "failed to lookup address", "network is unreachable", "no route to host",
        "socket hang up", "stream disconnected", "error sending request", "connection closed",
        "connection aborted", "unable to connect", "timed out", "network error", "und_err_",
    ])
    private static let overloadWords = ClassifierText.patterns([
        "overloaded", "internalservererror", "serviceunavailableerror", "badgatewayerror",
        "internal server error", "service unavailable", "bad gateway", "gateway timeout",
        "server_error", "api_error", "timeout_error", "high demand", "temporarily unavailable",
        "capacity", "server had an error", "upstream connect error",
    ])
    private static let weakConnectionWords = ClassifierText.patterns(["timeout", "apitimeouterror"])
    private static let badOutputWords = ClassifierText.patterns([
        "jsonschemavalidationerror", "apiresponsevalidationerror", "error_max_structured_output_retries",
    ])

    /// The class the wording of an error names, most specific first.
    private static func textClass(_ text: ClassifierText) -> UpstreamErrorClass? {
        if text.containsAny(contextWords) { return .contextTooLong }
        if text.containsAny(usageLimitWords) { return .usageLimit }
        if text.containsAny(quotaWords) { return .quotaExhausted }
        if text.containsAny(badOutputWords) { return .badOutput }
        if text.containsAny(authWords) { return .auth }
        if text.containsAny(rateWords) { return .rateLimited }
        if text.containsAny(connectionWords) { return .connection }
        if text.containsAny(overloadWords) { return .overloaded }
        if text.containsAny(weakConnectionWords) { return .connection }
        return nil
    }

    /// Words that make a line an unmistakable error report (not a model's prose about one).
    private static let specificWords = ClassifierText.patterns([
        "api error", "litellm.", "exceeded retry limit", "unexpected status", "rate_limit_error",
        "overloaded_error", "authentication_error", "permission_error", "billing_error", "insufficient_quota",
        "context_length_exceeded", "request_too_large", "invalid_api_key", "invalid x-api-key",
        "econnrefused", "econnreset", "etimedout", "enotfound", "eai_again", "errno 111", "you've hit your",
        "you have hit your", "you’ve hit your", "usage limit reached", "5-hour limit reached",
        "weekly limit reached", "credit balance is too low", "invalid api key",
        "please run /login", "prompt is too long", "fetch failed", "stream disconnected before completion",
        "quota exceeded", "exceeded your current quota", "too many requests", "service unavailable",
        "bad gateway", "gateway timeout", "has hit a token limit", "connection refused",
        "failed to authenticate", "error sending request", "dns error", "could not resolve host",
        "name or service not known", "apiconnectionerror", "internalservererror", "ratelimiterror",
        "authenticationerror", "serviceunavailableerror", "contextwindowexceedederror",
    ])

    /// How a stdout line that reports an error starts (after any leading punctuation).
    private static let stdoutStarts = ClassifierText.patterns([
        "api error", "litellm.", "litellm ", "error:", "error code", "fatal:", "fatal error",
        "exceeded retry limit", "unexpected status",
        "stream error", "stream disconnected", "you've hit your", "you have hit your",
        "claude ai usage limit", "claude usage limit", "5-hour limit reached", "weekly limit reached",
        "you’ve hit your",
        "credit balance is too low", "invalid api key", "please run /login", "failed to authenticate",
        "prompt is too long", "openai.", "anthropic.", "request timed out", "connection error",
        "quota exceeded", "rate limit reached", "not logged in", "oauth token",
    ])

    /// Words that make a stderr line worth reading as an error at all.
    private static let errorishWords = ClassifierText.patterns([
        "error", "fail", "fatal", "exception", "refused", "denied", "unavailable", "invalid", "exceeded",
        "reached", "too many", "unauthorized", "forbidden", "overloaded", "timed out", "timeout", "quota",
        "limit", "econn", "enotfound", "eai_again", "/login", "not logged in",
    ])

    // MARK: - HTTP status in text

    private static let statusKeywords = ClassifierText.patterns([
        "status", "error", "code", "http", "http/1.1", "http/1.0", "http/2", "statuscode",
    ])
    private static let reasonPhrases = ClassifierText.patterns([
        "too many requests", "service unavailable", "bad gateway", "gateway timeout", "internal server error",
        "unauthorized", "forbidden", "overloaded", "request entity too large", "payload too large",
        "bad request", "not found", "payment required", "request timeout", "unprocessable",
    ])

    /// The first HTTP status (400-599) the text names: after "status", "error", "code" or
    /// "HTTP" (`API Error: 529`, `last status: 429`, `unexpected status 401`, `"status":400`,
    /// `Error code: 429`), or before a reason phrase (`503 Service Unavailable`).
    fileprivate static func statusIn(_ text: ClassifierText) -> Int? {
        let b = text.lower
        var i = 0
        while i < b.count {
            guard ClassifierText.isDigit(b[i]) else {
                i += 1
                continue
            }
            var j = i
            while j < b.count, ClassifierText.isDigit(b[j]) { j += 1 }
            defer { i = j }
            guard j - i == 3 else { continue }
            if i > 0, ClassifierText.isLetter(b[i - 1]) || b[i - 1] == 0x2E || b[i - 1] == 0x24 { continue }
            if j < b.count, ClassifierText.isLetter(b[j]) { continue }
            if j + 1 < b.count, b[j] == 0x2E, ClassifierText.isDigit(b[j + 1]) { continue }
            let value = Int(b[i] - 0x30) * 100 + Int(b[i + 1] - 0x30) * 10 + Int(b[i + 2] - 0x30)
            guard (400...599).contains(value) else { continue }
            var k = i
            while k > 0, [0x20, 0x3A, 0x22, 0x27, 0x3D, 0x28, 0x5B, 0x5F, 0x2D, 0x09].contains(b[k - 1]) {
                k -= 1
            }
            if k < i, statusKeywords.contains(where: { ClassifierText.hasSuffix($0, in: b, before: k) }) {
                return value
            }
            var m = j
            while m < b.count, b[m] == 0x20 || b[m] == 0x2D || b[m] == 0x3A { m += 1 }
            if m > j, reasonPhrases.contains(where: { ClassifierText.hasPrefix($0, in: b, at: m) }) {
                return value
            }
        }
        return nil
    }

    // MARK: - ClassifierText output

    private struct Record {
        var text: String
        var verdict: Verdict
        var specific: Bool
        var aider: Bool
    }

    /// The verdict of the text: stderr lines, and stdout lines that are not JSON.
    private static func textual(stdoutLines: [[UInt8]], stderrLines: [[UInt8]], exitCode: Int32?)
        -> FailureDiagnosis?
    {
        let failed = exitCode != 0
        var best: (record: Record, stream: String)?
        // stdout: only lines that start like an error report; a later "Tokens: ... sent" (aider's
        // cost line after an answer) means the API recovered.
        if let record = lastRecord(
            stdoutLines, admit: { startsLikeError($0) }, counts: { $0.specific || failed },
            recovered: { line in
                let lower = ClassifierText.lowercase(Array(line.drop(while: ClassifierText.isSpace)))
                return ClassifierText.hasPrefix(Array("tokens: ".utf8), in: lower, at: 0)
                    && ClassifierText.contains(Array(" sent".utf8), in: lower)
            })
        {
            best = (record, "stdout")
        }
        if let record = lastRecord(
            stderrLines,
            admit: { startsLikeError($0) || ClassifierText.lowercase($0).containsAnyOf(errorishWords) },
            counts: { $0.specific || failed }, recovered: { _ in false })
        {
            if best == nil || record.specific || !best!.record.specific { best = (record, "stderr") }
        }
        guard let best else { return nil }
        let verdict = best.record.verdict
        return FailureDiagnosis(
            errorClass: verdict.errorClass, httpStatus: verdict.status,
            retryAfterMilliseconds: retryAfterPhrase(best.record.text), message: summarize(best.record.text),
            source: best.record.aider ? "aider-text" : best.stream,
            resetsAt: reset(verdict.errorClass, best.record.text))
    }

    /// The last record (an admitted line and its continuation lines) that classifies and
    /// counts, scanning from the end; nil when a recovery line comes first.
    private static func lastRecord(
        _ lines: [[UInt8]], admit: ([UInt8]) -> Bool, counts: (Record) -> Bool, recovered: ([UInt8]) -> Bool
    ) -> Record? {
        var index = lines.count - 1
        var examined = 0
        while index >= 0, examined < maxRecordsExamined {
            let line = lines[index]
            if recovered(line) { return nil }
            if admit(line) {
                examined += 1
                if let record = record(lines, from: index), counts(record) { return record }
            }
            index -= 1
        }
        return nil
    }

    /// The record starting at line `start`, when its text names an upstream failure.
    private static func record(_ lines: [[UInt8]], from start: Int) -> Record? {
        var joined = trim(lines[start])
        var next = start + 1
        var taken = 1
        while next < lines.count, taken < 16, joined.count < 4096 {
            let trimmed = trim(lines[next])
            if trimmed.isEmpty || startsLikeError(trimmed) { break }
            let lower = ClassifierText.lowercase(trimmed)
            if ClassifierText.hasPrefix(Array("retrying in".utf8), in: lower, at: 0) { break }
            if ClassifierText.hasPrefix(Array("tokens: ".utf8), in: lower, at: 0) { break }
            joined.append(0x20)
            joined.append(contentsOf: trimmed)
            next += 1
            taken += 1
        }
        let text = String(decoding: joined, as: UTF8.self)
        let lower = ClassifierText(text)
        let specific = lower.containsAny(specificWords) || statusIn(lower) != nil
        var verdict = decide(status: nil, code: nil, text: lower)
        if verdict == nil, let bare = bareAuthStatus(lower.lower) {
            verdict = Verdict(errorClass: .auth, status: bare)
        }
        guard let verdict else { return nil }
        let aider =
            lower.contains("litellm") || lower.contains("has hit a token limit")
            || lower.contains("the api provider")
        return Record(text: text, verdict: verdict, specific: specific, aider: aider)
    }

    /// A standalone 401 or 403 in a line (`request failed: 401`): vague, so it counts only on
    /// stderr of a failed command, like the other vague words.
    private static func bareAuthStatus(_ b: [UInt8]) -> Int? {
        for status in [401, 403] {
            let digits = Array(String(status).utf8)
            var from = 0
            while let found = ClassifierText.find(digits, in: b, from: from) {
                from = found + 1
                let end = found + 3
                if found > 0,
                    ClassifierText.isDigit(b[found - 1]) || ClassifierText.isLetter(b[found - 1])
                        || b[found - 1] == 0x2E
                        || b[found - 1] == 0x3A && found > 1 && ClassifierText.isDigit(b[found - 2])
                {
                    continue
                }
                if end < b.count,
                    ClassifierText.isDigit(b[end]) || ClassifierText.isLetter(b[end])
                        || b[end] == 0x2E
                            && end + 1 < b.count && ClassifierText.isDigit(b[end + 1])
                {
                    continue
                }
                return status
            }
        }
        return nil
    }

    /// `line` without leading and trailing spaces.
    private static func trim(_ line: [UInt8]) -> [UInt8] {
        var start = 0
        var end = line.count
        while start < end, ClassifierText.isSpace(line[start]) { start += 1 }
        while end > start, ClassifierText.isSpace(line[end - 1]) { end -= 1 }
        return Array(line[start..<end])
    }

    /// True when a line, after leading punctuation and spaces, starts like an error report.
    private static func startsLikeError(_ line: [UInt8]) -> Bool {
        let lower = ClassifierText.lowercase(line)
        var i = 0
        // Spaces, list bullets and the symbols CLIs put before an error (■ ⎿ ✗ are non-ASCII).
        while i < lower.count,
            lower[i] >= 0x80 || [0x20, 0x09, 0x21, 0x3E, 0x2A, 0x2D, 0x5B, 0x23].contains(lower[i])
        {
            i += 1
        }
        if stdoutStarts.contains(where: { ClassifierText.hasPrefix($0, in: lower, at: i) }) { return true }
        return ClassifierText.contains(Array("has hit a token limit".utf8), in: lower)
    }

    // MARK: - Lines and messages

    /// The lines of `bytes`, with ANSI escapes removed and, for lines redrawn with carriage
    /// returns, only the last drawing kept.
    static func splitLines(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x0A {
                lines.append(current)
                current.removeAll(keepingCapacity: true)
            } else if byte == 0x0D {
                if i + 1 < bytes.count, bytes[i + 1] != 0x0A { current.removeAll(keepingCapacity: true) }
            } else if byte == 0x1B {
                i += 1
                if i < bytes.count, bytes[i] == 0x5B {  // CSI: parameters, then a final byte
                    i += 1
                    while i < bytes.count, !(0x40...0x7E).contains(bytes[i]) { i += 1 }
                } else if i < bytes.count, bytes[i] == 0x5D {  // OSC: up to BEL or ST
                    while i < bytes.count, bytes[i] != 0x07, bytes[i] != 0x0A {
                        if bytes[i] == 0x1B, i + 1 < bytes.count, bytes[i + 1] == 0x5C {
                            i += 1
                            break
                        }
                        i += 1
                    }
                }
            } else {
                current.append(byte)
            }
            i += 1
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// `text` on one line: control characters become spaces, runs of spaces shrink to one,
    /// and a long text is cut (with "…") at `maxMessage` characters.
    static func summarize(_ text: String) -> String {
        var result = ""
        var count = 0
        var pendingSpace = false
        for character in text {
            if character.isWhitespace
                || character.unicodeScalars.allSatisfy({ $0.value < 0x20 || $0.value == 0x7F })
            {
                pendingSpace = !result.isEmpty
                continue
            }
            if count + (pendingSpace ? 1 : 0) >= maxMessage {
                result.append("…")
                return result
            }
            if pendingSpace {
                result.append(" ")
                count += 1
                pendingSpace = false
            }
            result.append(character)
            count += 1
        }
        return result
    }
}

// MARK: - Scanning stdout

/// The JSON events of a stdout tail and its other lines.
private struct ClassifierScan {
    /// Every JSON value found, in order (the elements of a top-level array count one by one).
    var events: [JSONValue] = []
    /// How many lines held JSON.
    var jsonLineCount = 0
    /// The lines to read as text. When stdout carries Claude Code or Codex events, these are
    /// only the lines that neither parse nor look like a piece of JSON, and never the first line
    /// (most likely the cut end of an event); otherwise every line that is not an event.
    var textLines: [[UInt8]] = []

    init(_ bytes: [UInt8]) {
        let lines = FailureClassifier.splitLines(bytes)
        var plain: [(index: Int, line: [UInt8], jsonish: Bool)] = []
        for (index, line) in lines.enumerated() {
            let trimmed = line.drop(while: ClassifierText.isSpace)
            let opensLikeJSON = trimmed.first == 0x7B || trimmed.first == 0x5B
            if opensLikeJSON, let value = try? JSON.parse(line) {
                jsonLineCount += 1
                if let elements = value.arrayValue {
                    events.append(contentsOf: elements)
                } else {
                    events.append(value)
                }
                continue
            }
            let jsonish =
                opensLikeJSON || ClassifierText.contains(Array("\":".utf8), in: line)
                || ClassifierText.contains(Array("{\"".utf8), in: line)
            plain.append((index, line, jsonish))
        }
        if jsonLineCount == 0 {
            // One document spread over several lines (pretty-printed).
            let trimmed = bytes.drop(while: ClassifierText.isSpace)
            if trimmed.first == 0x7B || trimmed.first == 0x5B, let value = try? JSON.parse(bytes) {
                jsonLineCount = 1
                events = value.arrayValue ?? [value]
                return
            }
        }
        let agentEvents = events.contains { event in
            guard let type = event["type"]?.stringValue else { return false }
            return ClassifierScan.eventTypes.contains(type)
        }
        if agentEvents {
            textLines = plain.filter { $0.index != 0 && !$0.jsonish }.map(\.line)
        } else {
            textLines = plain.map(\.line)
        }
    }

    /// The `resetsAt` (Unix seconds) of the last rejected Claude Code `rate_limit_event` that no
    /// real answer followed.
    var rejectedLimitReset: Int64? {
        var reset: Int64?
        for event in events {
            switch event["type"]?.stringValue {
            case "rate_limit_event":
                let info = event["rate_limit_info"]
                if info?["status"]?.stringValue == "rejected" {
                    reset = (info?["resetsAt"] ?? info?["resets_at"])?.intValue ?? reset
                }
            case "assistant":
                if event["message"]?["model"]?.stringValue != "<synthetic>", event["error"] == nil {
                    reset = nil
                }
            default:
                continue
            }
        }
        return reset
    }

    /// The `type` values of Claude Code and Codex events.
    static let eventTypes: Set<String> = [
        "result", "system", "assistant", "user", "stream_event", "rate_limit_event", "tool_progress",
        "thread.started", "turn.started", "turn.completed", "turn.failed", "item.started", "item.updated",
        "item.completed", "error",
    ]
}

// MARK: - Byte text

/// ClassifierText as ASCII-lowercased UTF-8 bytes, for fast case-insensitive substring tests.
private struct ClassifierText {
    let lower: [UInt8]

    init(_ text: String) { lower = ClassifierText.lowercase(Array(text.utf8)) }

    init(bytes: [UInt8]) { lower = ClassifierText.lowercase(bytes) }

    func contains(_ needle: String) -> Bool { ClassifierText.contains(Array(needle.utf8), in: lower) }

    func containsAny(_ needles: [[UInt8]]) -> Bool { lower.containsAnyOf(needles) }

    static func patterns(_ words: [String]) -> [[UInt8]] { words.map { Array($0.utf8) } }

    static func lowercase(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    static func hasPrefix(_ needle: [UInt8], in bytes: [UInt8], at index: Int) -> Bool {
        guard index >= 0, index + needle.count <= bytes.count else { return false }
        for offset in 0..<needle.count where bytes[index + offset] != needle[offset] { return false }
        return true
    }

    static func hasSuffix(_ needle: [UInt8], in bytes: [UInt8], before end: Int) -> Bool {
        hasPrefix(needle, in: bytes, at: end - needle.count)
    }

    static func contains(_ needle: [UInt8], in bytes: [UInt8]) -> Bool {
        find(needle, in: bytes, from: 0) != nil
    }

    /// The first index at or after `from` where `needle` starts in `bytes`.
    static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, needle.count <= bytes.count else { return nil }
        var i = max(0, from)
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first, hasPrefix(needle, in: bytes, at: i) { return i }
            i += 1
        }
        return nil
    }
}

extension Array where Element == UInt8 {
    /// True when any of `needles` occurs in these (lowercased) bytes.
    fileprivate func containsAnyOf(_ needles: [[UInt8]]) -> Bool {
        needles.contains { ClassifierText.contains($0, in: self) }
    }
}
