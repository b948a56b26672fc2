import SwarmCore
import SwarmProtocol
import Testing

@testable import SwarmRuntime

/// One results.json and how the runtime must classify it.
struct Classified: Sendable, CustomTestStringConvertible {
    var name: String
    var json: String
    var contract: String?
    /// "ok", a failure kind ("contract", "error", "budget") or "upstream".
    var expected: String
    /// A fragment the reason must hold.
    var fragment: String?

    init(
        _ name: String, _ json: String, contract: String? = nil, _ expected: String, _ fragment: String? = nil
    ) {
        self.name = name
        self.json = json
        self.contract = contract
        self.expected = expected
        self.fragment = fragment
    }

    var testDescription: String { name }
}

/// The failure class of PROTOCOL.md's policy table an outcome falls in ("ok" for success,
/// "no-result" for an exit without results.json), and its reason.
func describe(_ outcome: Outcome) -> (String, String?) {
    switch outcome {
    case .succeeded: return ("ok", nil)
    case .noResult(let status, _): return ("no-result", status)
    case .failed(let kind, let reason): return (kind.rawValue, reason)
    case .upstreamFailed(let errorClass, let reason, _):
        // PROTOCOL.md: auth (and bad requests) are class `error`; the rest are class `upstream`
        return (errorClass == .auth ? "error" : "upstream", reason)
    case .usageLimited(let reason, _, _):
        // a usage limit gives the attempt back: no failure class at all
        return ("usage-limit", reason)
    }
}

@Suite("ResultReader.classify: what a results.json means")
struct ResultReaderTests {
    static let simContract = #"{"summary": "string", "outputs": "integer"}"#

    static let rows: [Classified] = [
        Classified("ok without a contract", #"{"anything": [1, 2]}"#, "ok"),
        Classified(
            "ok, status omitted, fits the contract", #"{"summary": "s", "outputs": 3}"#,
            contract: simContract, "ok"),
        Classified(
            "ok with extra keys", #"{"status": "ok", "summary": "s", "outputs": 3, "more": true}"#,
            contract: simContract, "ok"),
        Classified("an array is no result", "[1, 2]", "contract", "must be a JSON object"),
        Classified("a string is no result", #""done""#, "contract", "must be a JSON object"),
        Classified("null is no result", "null", "contract", "must be a JSON object"),
        Classified(
            "wrong type", #"{"summary": 42, "outputs": 3}"#, contract: simContract, "contract", "$.summary"),
        Classified("missing key", #"{"summary": "s"}"#, contract: simContract, "contract", "$.outputs"),
        Classified(
            "every violation named", #"{"summary": 1}"#, contract: simContract, "contract", "$.outputs"),
        Classified(
            "error without a kind", #"{"status": "error", "error": "could not"}"#, "error", "could not"),
        Classified(
            "error, not checked against the contract", #"{"status": "error", "summary": 1}"#,
            contract: simContract, "error"),
        Classified(
            "error kind auth", #"{"status": "error", "error_kind": "auth", "error": "401"}"#, "error", "401"),
        Classified(
            "error kind bad-request", #"{"status": "error", "error_kind": "bad-request"}"#, "error",
            "bad-request"),
        Classified(
            "error kind unknown", #"{"status": "error", "error_kind": "confused"}"#, "error", "confused"),
        Classified(
            "error kind budget", #"{"status": "error", "error_kind": "budget", "error": "out of tokens"}"#,
            "budget", "out of tokens"),
        Classified("rate-limited", #"{"status": "error", "error_kind": "rate-limited"}"#, "upstream"),
        Classified("quota", #"{"status": "error", "error_kind": "quota"}"#, "upstream"),
        Classified("overloaded", #"{"status": "error", "error_kind": "overloaded"}"#, "upstream"),
        Classified("server-error", #"{"status": "error", "error_kind": "server-error"}"#, "upstream"),
        Classified("connection", #"{"status": "error", "error_kind": "connection"}"#, "upstream"),
        Classified("upstream", #"{"status": "error", "error_kind": "upstream"}"#, "upstream"),
        Classified("context-too-long", #"{"status": "error", "error_kind": "context-too-long"}"#, "upstream"),
    ]

    @Test("classify", arguments: rows)
    func classify(_ row: Classified) throws {
        let value = try JSON.parse(Array(row.json.utf8))
        let contract = try row.contract.map { try ResultContract.parse($0) }
        let (kind, reason) = describe(ResultReader.classify(value, contract: contract))
        #expect(kind == row.expected)
        if let fragment = row.fragment {
            #expect(reason?.contains(fragment) == true, "\(reason ?? "no reason")")
        }
    }

    @Test("an upstream failure keeps its class and the retry-after the agent asked for")
    func upstreamDetails() throws {
        let value = try JSON.parse(
            Array(
                #"{"status": "error", "error_kind": "rate-limited", "error": "slow down", "retry_after_ms": 1500}"#
                    .utf8))
        guard
            case .upstreamFailed(let errorClass, let reason, let retryAfter) = ResultReader.classify(
                value, contract: nil)
        else {
            Issue.record("not an upstream failure")
            return
        }
        #expect(errorClass == .rateLimited)
        #expect(reason.contains("slow down"))
        #expect(retryAfter == 1500)
    }

    @Test("outcome: no results.json, unreadable or too large")
    func outcomeFromFiles() throws {
        try withTemporaryFolder { folder in
            let files = AgentFiles(folder)
            let missing = describe(ResultReader.outcome(files: files, exit: .exited(1), contract: nil))
            #expect(missing.0 == "no-result")
            #expect(missing.1 == "exit status 1")

            try write(files.results, "{\"summary\": ")
            let broken = describe(ResultReader.outcome(files: files, exit: .exited(0), contract: nil))
            #expect(broken.0 == "contract")
            #expect(broken.1?.contains("not valid JSON") == true)

            try write(files.results, "{\"pad\": \"" + String(repeating: "x", count: 5 << 20) + "\"}")
            let large = describe(ResultReader.outcome(files: files, exit: .exited(0), contract: nil))
            #expect(large.0 == "contract")
            #expect(large.1?.contains("limit") == true)

            try write(files.results, #"{"status": "ok"}"#)
            #expect(describe(ResultReader.outcome(files: files, exit: nil, contract: nil)).0 == "ok")
        }
    }
}
