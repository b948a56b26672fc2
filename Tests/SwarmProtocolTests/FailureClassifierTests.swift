import SwarmProtocol
import Testing

/// Runs the classifier on `fixture` as the runtime would (stdout and stderr tails, exit code).
private func diagnose(_ fixture: FailureFixture) -> FailureDiagnosis? {
    FailureClassifier.classify(
        stdout: utf8(fixture.stdout), stderr: utf8(fixture.stderr), exitCode: fixture.exitCode)
}

@Suite("FailureClassifierTests")
struct FailureClassifierTests {
    // MARK: Recorded and reconstructed CLI output

    @Test(arguments: FailureFixtures.all)
    func classifiesAgentOutput(_ fixture: FailureFixture) {
        let diagnosis = diagnose(fixture)
        guard let expect = fixture.expect else {
            #expect(diagnosis == nil, "expected no upstream failure, got \(String(describing: diagnosis))")
            return
        }
        guard let diagnosis else {
            Issue.record("expected \(expect.errorClass.rawValue), got nil")
            return
        }
        #expect(diagnosis.errorClass == expect.errorClass, "\(diagnosis.message)")
        #expect(diagnosis.httpStatus == expect.status)
        #expect(diagnosis.retryAfterMilliseconds == expect.retryAfter)
        #expect(diagnosis.source == expect.source)
        #expect(!diagnosis.message.isEmpty)
        #expect(!diagnosis.message.contains("\n"))
        #expect(diagnosis.message.count <= 301)
    }

    /// The exit code is not what tells them apart: the same output classifies the same with
    /// an unknown exit code (killed), except where only vague words were seen.
    @Test(arguments: FailureFixtures.all.filter { $0.expect != nil && $0.name.hasPrefix("aider") })
    func aiderIsClassifiedWhateverTheExitCode(_ fixture: FailureFixture) {
        for code: Int32? in [0, 1, nil] {
            let diagnosis = FailureClassifier.classify(
                stdout: utf8(fixture.stdout), stderr: utf8(fixture.stderr), exitCode: code)
            #expect(diagnosis?.errorClass == fixture.expect?.errorClass)
        }
    }

    @Test func fixturesCoverEachCLIAndClassTwice() {
        let wanted: [(cli: String, classes: [UpstreamErrorClass])] = [
            (
                "claude-",
                [
                    .rateLimited, .usageLimit, .quotaExhausted, .overloaded, .connection, .auth,
                    .contextTooLong,
                    .badOutput,
                ]
            ),
            (
                "codex-",
                [
                    .rateLimited, .usageLimit, .quotaExhausted, .overloaded, .connection, .auth,
                    .contextTooLong,
                ]
            ),
            ("aider-", [.rateLimited, .quotaExhausted, .overloaded, .connection, .auth, .contextTooLong]),
        ]
        for (cli, classes) in wanted {
            let mine = FailureFixtures.all.filter { $0.name.hasPrefix(cli) }
            #expect(mine.filter { $0.expect == nil }.count >= 2, "\(cli) successes")
            for errorClass in classes {
                #expect(
                    mine.filter { $0.expect?.errorClass == errorClass }.count >= 2, "\(cli) \(errorClass)")
            }
        }
        let names = FailureFixtures.all.map(\.name)
        #expect(Set(names).count == names.count, "fixture names are unique")
    }

    /// Every JSON line of the reconstructed Claude and Codex fixtures is valid JSON (except a
    /// first line that is cut on purpose), so the fixtures test parsing, not typos.
    @Test(arguments: FailureFixtures.claudeJSON + FailureFixtures.claudeStream + FailureFixtures.codex)
    func fixtureEventsAreValidJSON(_ fixture: FailureFixture) {
        let lines = fixture.stdout.split(separator: "\n", omittingEmptySubsequences: true)
        for (index, line) in lines.enumerated() {
            if index == 0, fixture.name.contains("cut first line") { continue }
            let bytes = utf8(String(line))
            #expect(failure { () throws(ProtocolError) in try JSON.parse(bytes) } == nil, "line \(index + 1)")
        }
    }

    // MARK: Edge cases

    @Test func emptyOutputIsNoDiagnosis() {
        for code: Int32? in [0, 1, 137, nil] {
            #expect(FailureClassifier.classify(stdout: [], stderr: [], exitCode: code) == nil)
        }
        #expect(FailureClassifier.classify(stdout: utf8("\n\n  \n"), stderr: utf8("\n"), exitCode: 1) == nil)
    }

    @Test func binaryJunkIsNoDiagnosis() {
        let junk = Self.junk(count: 64 * 1024, seed: 7)
        #expect(FailureClassifier.classify(stdout: junk, stderr: junk, exitCode: 1) == nil)
        #expect(FailureClassifier.classify(stdout: junk, stderr: [], exitCode: nil) == nil)
        // Junk that happens to open like JSON.
        let braces = Array(repeating: UInt8(ascii: "{"), count: 10_000) + [0xFF, 0xFE, 0x00, 0x22, 0x3A]
        #expect(FailureClassifier.classify(stdout: braces, stderr: braces, exitCode: 1) == nil)
    }

    @Test func junkBeforeAnErrorStillClassifies() {
        let stdout = Self.junk(count: 32 * 1024, seed: 11) + utf8("\nAPI Error: 529 Overloaded\n")
        let diagnosis = FailureClassifier.classify(stdout: stdout, stderr: [], exitCode: 1)
        #expect(diagnosis?.errorClass == .overloaded)
        #expect(diagnosis?.httpStatus == 529)
    }

    @Test func cutFirstLineOfStreamJSONIsIgnored() {
        // The tail starts in the middle of an assistant event whose text is prose about limits.
        let stdout = utf8(
            #"""
            nd I will handle the 429 rate limit error and the credit balance is too low case."}]},"session_id":"s"}
            {"type":"assistant","message":{"model":"claude-sonnet-4-5-20250929","role":"assistant","content":[{"type":"text","text":"Working on it."}]},"session_id":"s"}
            """#)
        #expect(FailureClassifier.classify(stdout: stdout, stderr: [], exitCode: nil) == nil)
        // ... and a failure after such a cut is still found.
        let failed =
            stdout
            + utf8(
                #"""

                {"type":"result","subtype":"success","is_error":true,"api_error_status":529,"result":"API Error: Repeated 529 Overloaded errors","session_id":"s"}
                """#)
        let diagnosis = FailureClassifier.classify(stdout: failed, stderr: [], exitCode: 1)
        #expect(diagnosis?.errorClass == .overloaded)
        #expect(diagnosis?.source == "claude-stream-json")
    }

    @Test func cutFirstLineOfAiderTextStillClassifies() {
        // Cut inside the JSON body of the litellm message: the rest of the record is enough.
        let stdout = utf8(
            """
            rror", "message": "Overloaded"}, "request_id": "req_011CTz9aB4cD5eF6gH7iJ8kL"}
            The API provider's servers are down or overloaded.
            Retrying in 32.0 seconds...
            litellm.InternalServerError: AnthropicError - {"type": "error", "error":
            {"type": "overloaded_error", "message": "Overloaded"}, "request_id":
            "req_011CTz9aB4cD5eF6gH7iJ8kL"}
            The API provider's servers are down or overloaded.

            """)
        #expect(
            FailureClassifier.classify(stdout: stdout, stderr: [], exitCode: 0)?.errorClass == .overloaded)
    }

    @Test(.timeLimit(.minutes(1)))
    func hugeOutputTail() {
        // 4 MiB of an agent's prose (mentioning every scary word) and then the fatal error.
        var prose: [UInt8] = []
        let line = utf8(
            "The retry layer handles 429 rate limits, 529 overloaded, 503 Service Unavailable, ECONNREFUSED and 401 invalid api key.\n"
        )
        while prose.count < 4 << 20 { prose += line }
        let failed = prose + utf8("litellm.RateLimitError: AnthropicException - rate_limit_error\n")
        var started = ContinuousClock().now
        #expect(
            FailureClassifier.classify(stdout: failed, stderr: [], exitCode: 0)?.errorClass == .rateLimited)
        #expect(FailureClassifier.classify(stdout: prose, stderr: [], exitCode: 0) == nil)
        #expect(ContinuousClock().now - started < .seconds(20))
        // A long stream-json run that ended well.
        var stream: [UInt8] = []
        let event = utf8(
            #"{"type":"assistant","message":{"model":"claude-sonnet-4-5-20250929","role":"assistant","content":[{"type":"text","text":"API Error: 429 is handled; overloaded too."}]},"session_id":"s"}"#
                + "\n")
        while stream.count < 2 << 20 { stream += event }
        stream += utf8(
            #"{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"s"}"# + "\n")
        started = ContinuousClock().now
        #expect(FailureClassifier.classify(stdout: stream, stderr: prose, exitCode: 0) == nil)
        #expect(ContinuousClock().now - started < .seconds(20))
    }

    @Test(.timeLimit(.minutes(1)))
    func logFullOfErrorLinesIsBoundedWork() {
        var log: [UInt8] = []
        let line = utf8("step failed on attempt, will try the next item\n")
        while log.count < 1 << 20 { log += line }
        let started = ContinuousClock().now
        #expect(FailureClassifier.classify(stdout: log, stderr: log, exitCode: 1) == nil)
        let late = log + utf8("Error: 503 Service Unavailable\n")
        #expect(FailureClassifier.classify(stdout: late, stderr: late, exitCode: 1)?.httpStatus == 503)
        #expect(ContinuousClock().now - started < .seconds(20))
    }

    @Test func successWithScaryWordsInProseIsNil() {
        let result = #"""
            {"type":"result","subtype":"success","is_error":false,"result":"rate limit, 429 Too Many Requests, API Error: 529 overloaded_error, ECONNREFUSED, connection refused, 401 Unauthorized, invalid api key, Please run /login, prompt is too long, credit balance is too low, usage limit reached, You've hit your session limit","session_id":"s","api_error_status":null}
            """#
        let stderr = "warning: 429 rate limit hit, retrying\nError: connect ECONNREFUSED 127.0.0.1:4000\n"
        for code: Int32? in [0, 1, nil] {
            #expect(
                FailureClassifier.classify(stdout: utf8(result), stderr: utf8(stderr), exitCode: code) == nil)
        }
        let codex = """
            {"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"API Error: 429 rate limit and ECONNREFUSED are handled now."}}
            {"type":"turn.completed","usage":{"input_tokens":1,"cached_input_tokens":0,"output_tokens":1}}
            """
        #expect(FailureClassifier.classify(stdout: utf8(codex), stderr: utf8(stderr), exitCode: 1) == nil)
    }

    @Test func aSuccessfulRunsTextDoesNotCountOnStdout() {
        // Prose lines that merely start with a scary word are not error reports.
        let prose = """
            Rate limit handling is now in place.
            Overloaded upstreams are skipped.
            Error handling for "prompt is too long" is unchanged.
            """
        #expect(FailureClassifier.classify(stdout: utf8(prose), stderr: [], exitCode: 0) == nil)
    }

    @Test func failedResultWithoutUpstreamWordsFallsBackToStderr() {
        let stdout = #"{"type":"result","subtype":"error_during_execution","is_error":true,"session_id":"s"}"#
        let stderr = "Error: connect ECONNREFUSED 127.0.0.1:4000\n"
        let diagnosis = FailureClassifier.classify(stdout: utf8(stdout), stderr: utf8(stderr), exitCode: 1)
        #expect(diagnosis?.errorClass == .connection)
        #expect(diagnosis?.source == "stderr")
        #expect(FailureClassifier.classify(stdout: utf8(stdout), stderr: [], exitCode: 1) == nil)
    }

    @Test func ansiColouredAndCRLFOutput() {
        let coloured =
            "\u{1B}[1;31mlitellm.AuthenticationError: AnthropicException - invalid x-api-key\u{1B}[0m\r\n"
            + "\u{1B}[33mThe API provider is not able to authenticate you. Check your API key.\u{1B}[0m\r\n"
        let diagnosis = FailureClassifier.classify(stdout: utf8(coloured), stderr: [], exitCode: 0)
        #expect(diagnosis?.errorClass == .auth)
        #expect(diagnosis?.source == "aider-text")
        #expect(diagnosis.map { !$0.message.contains("\u{1B}") } == true)
        // A spinner redrawn with carriage returns keeps only its last drawing.
        let spinner =
            "Waiting for API... 1s\rWaiting for API... 2s\rERROR: exceeded retry limit, last status: 503 Service Unavailable\n"
        #expect(FailureClassifier.classify(stdout: [], stderr: utf8(spinner), exitCode: 1)?.httpStatus == 503)
    }

    @Test func prettyPrintedClaudeResult() {
        let pretty = """
            {
              "type": "result",
              "subtype": "success",
              "is_error": true,
              "api_error_status": 401,
              "result": "Failed to authenticate. API Error: 401 Invalid bearer token"
            }
            """
        let diagnosis = FailureClassifier.classify(stdout: utf8(pretty), stderr: [], exitCode: 1)
        #expect(diagnosis?.errorClass == .auth)
        #expect(diagnosis?.httpStatus == 401)
        #expect(diagnosis?.source == "claude-json")
    }

    @Test func longMessagesAreShortenedToOneLine() {
        let long = "API Error: 529 " + String(repeating: "Overloaded\t", count: 100) + "\n\tmore\n"
        let diagnosis = FailureClassifier.classify(stdout: [], stderr: utf8(long), exitCode: 1)
        #expect(diagnosis?.errorClass == .overloaded)
        let message = diagnosis?.message ?? ""
        #expect(message.count <= 301)
        #expect(message.hasSuffix("…"))
        #expect(!message.contains("\n") && !message.contains("\t") && !message.contains("  "))
    }

    // MARK: Retry-After

    @Test(
        arguments: [
            ("30", 30_000), (" 7 \n", 7000), ("0", 0), ("120", 120_000),
            ("Wed, 21 Oct 2015 07:28:00 GMT", nil), ("", nil), ("-5", nil), ("1.5", nil), ("abc", nil),
            ("99999999999999999999", nil),
            ("retry after 20s", 20_000), ("Retry after 20 seconds.", 20_000), ("Retry-After: 30", 30_000),
            ("retry-after: 45\r\n", 45_000), ("(retry-after 30s)", 30_000), ("retry_after_ms: 1500", 1500),
            (#"{"retry_after_ms":250}"#, 250), (#"{"retry_after": 12}"#, 12_000),
            ("try again in 5 seconds", 5000), ("Please try again in 6.734s.", 6734),
            ("Please try again in 20ms. Visit https://platform.openai.com", 20),
            ("try again in 1m30s", 90_000),
            ("try again in 2 minutes", 120_000), ("Try again in 1 hour", 3_600_000), ("retry in 3s", 3000),
            ("try again in 0.5 seconds", 500), ("try again in 1.0001s", 1001),
            ("Try again at 3:12 PM.", nil), ("try again later", nil), ("Retrying in 2.0 seconds...", nil),
            ("You've hit your session limit · resets 4:50pm", nil), ("retry after Wed, 21 Oct 2015", nil),
            ("try again in 99999999999999 hours", nil),
            ("Retry-After: Wed, 21 Oct 2015 07:28:00 GMT; please try again in 9s", 9000),
        ] as [(String, Int64?)])
    func parsesRetryAfter(_ text: String, _ milliseconds: Int64?) {
        #expect(FailureClassifier.retryAfter(text) == milliseconds)
    }

    // MARK: Reported kinds

    @Test(
        arguments: [
            ("rate-limited", UpstreamErrorClass.rateLimited), ("quota", .quotaExhausted),
            ("overloaded", .overloaded),
            ("server-error", .overloaded), ("upstream", .overloaded), ("connection", .connection),
            ("auth", .auth),
            ("context-too-long", .contextTooLong), ("bad-output", .badOutput), ("RATE_LIMITED", .rateLimited),
            ("context_too_long", .contextTooLong), (" auth\n", .auth),
        ] as [(String, UpstreamErrorClass)])
    func reportedKinds(_ kind: String, _ errorClass: UpstreamErrorClass) {
        let diagnosis = FailureClassifier.fromReportedKind(
            kind, message: "it failed", retryAfterMilliseconds: nil)
        #expect(diagnosis?.errorClass == errorClass)
        #expect(diagnosis?.source == "results.json")
        #expect(diagnosis?.message == "it failed")
    }

    @Test(arguments: ["bad-request", "budget", "error", "unknown", "", "rate limited", "timeout"])
    func otherReportedKindsAreOrdinaryFailures(_ kind: String) {
        #expect(FailureClassifier.fromReportedKind(kind, message: "x", retryAfterMilliseconds: 1000) == nil)
    }

    @Test func reportedRetryAfterAndStatus() {
        let given = FailureClassifier.fromReportedKind(
            "rate-limited", message: "API Error: 429 rate_limit_error (retry-after 30s)",
            retryAfterMilliseconds: 5000)
        #expect(
            given
                == FailureDiagnosis(
                    errorClass: .rateLimited, httpStatus: 429, retryAfterMilliseconds: 5000,
                    message: "API Error: 429 rate_limit_error (retry-after 30s)", source: "results.json"))
        let fromMessage = FailureClassifier.fromReportedKind(
            "rate-limited", message: "API Error: 429 rate_limit_error (retry-after 30s)",
            retryAfterMilliseconds: nil)
        #expect(fromMessage?.retryAfterMilliseconds == 30_000)
        let negative = FailureClassifier.fromReportedKind(
            "overloaded", message: "529", retryAfterMilliseconds: -1)
        #expect(negative?.retryAfterMilliseconds == nil)
        let empty = FailureClassifier.fromReportedKind("quota", message: "  ", retryAfterMilliseconds: nil)
        #expect(empty?.message == "the agent reported quota")
    }

    // MARK: One message

    @Test(
        arguments: [
            (
                "API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
                UpstreamErrorClass?.some(.overloaded), Int?.some(529)
            ),
            ("You've hit your session limit · resets 3:45pm", .usageLimit, nil),
            ("exceeded retry limit, last status: 429 Too Many Requests", .rateLimited, 429),
            ("unexpected status 403 Forbidden: Access blocked by Cloudflare", .auth, 403),
            ("Error code: 413 - request_too_large", .contextTooLong, 413),
            ("HTTP/1.1 502 Bad Gateway", .overloaded, 502),
            (
                "API Error: 404 {\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model: claude-x\"}}",
                .unknown, 404
            ),
            ("litellm.Timeout: Connection timed out after 600.0 seconds", .connection, nil),
            ("All 42 tests passed in 0.5s", nil, nil),
            ("Error at line 404 of parser.c", nil, nil),
            ("API Error: Claude's response exceeded the 32000 output token maximum", nil, nil),
        ] as [(String, UpstreamErrorClass?, Int?)])
    func classifiesOneMessage(_ message: String, _ errorClass: UpstreamErrorClass?, _ status: Int?) {
        let diagnosis = FailureClassifier.classify(message: message, source: "test")
        #expect(diagnosis?.errorClass == errorClass)
        #expect(diagnosis?.httpStatus == status)
        if errorClass != nil { #expect(diagnosis?.source == "test") }
    }

    // MARK: Helpers

    /// Deterministic pseudo-random bytes (all 256 values, NULs and invalid UTF-8 included).
    static func junk(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for _ in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes.append(UInt8(truncatingIfNeeded: state >> 56))
        }
        return bytes
    }
}
