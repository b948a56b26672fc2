import SwarmProtocol
import SwarmRuntime
import SwarmSystem

/// `sim.call: api`: one real request to `$ANTHROPIC_BASE_URL/v1/messages` per step, failing as
/// the answer says, so that upstream handling can be tested end to end without a model.
enum APICall {
    /// The Messages API's error type for an HTTP status.
    static func errorType(_ status: Int) -> String {
        switch status {
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 400: "invalid_request_error"
        default: "api_error"
        }
    }

    /// The error kind an agent reports for an HTTP status (see `swarm result --error-kind`).
    static func errorKind(_ status: Int) -> String {
        switch status {
        case 429: "rate-limited"
        case 529: "overloaded"
        case 401, 403: "auth"
        case 400, 413: "bad-request"
        default: status >= 500 ? "server-error" : "unknown"
        }
    }

    /// Makes the call; on failure writes an error result naming the kind and exits 1.
    static func call(environment: [String: String]) throws {
        guard let base = environment["ANTHROPIC_BASE_URL"], !base.isEmpty else {
            throw SwarmError(
                "sim.call: api needs ANTHROPIC_BASE_URL (set it in an upstream's env in swarm.json)")
        }
        let body = #"{"model":"sim","max_tokens":16,"messages":[{"role":"user","content":"ping"}]}"#
        let headers = [
            "content-type": "application/json", "anthropic-version": "2023-06-01",
            "x-api-key": environment["ANTHROPIC_API_KEY"] ?? "sim",
        ]
        let url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/v1/messages"
        do {
            let response = try HTTPClient.post(url, body: Array(body.utf8), headers: headers)
            if (200..<300).contains(response.status) { return }
            var retryAfter = ""
            if let value = response.headers["retry-after"] { retryAfter = " (retry-after \(value)s)" }
            fail(
                kind: errorKind(response.status),
                message: "API Error: \(response.status) \(errorType(response.status))\(retryAfter)",
                retryAfter: response.headers["retry-after"], environment: environment)
        } catch {
            fail(
                kind: "connection", message: "API connection error: \(error)", retryAfter: nil,
                environment: environment)
        }
    }

    private static func fail(
        kind: String, message: String, retryAfter: String?, environment: [String: String]
    ) -> Never {
        if let path = environment["SWARM_RESULTS"], !path.isEmpty {
            var object = JSONObject()
            object["status"] = .string("error")
            object["error_kind"] = .string(kind)
            object["error"] = .string(message)
            if let retryAfter, let seconds = Int64(retryAfter) {
                object["retry_after_ms"] = .integer(seconds * 1000)
            }
            try? FileSystem.writeAtomically(
                path, JSON.encodeBytes(.object(object), pretty: true, sortKeys: false))
        }
        StandardStreams.write(2, "swarm sim: \(message)\n")
        Processes.exit(1)
    }
}
