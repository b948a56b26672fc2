import SwarmProtocol

/// One recorded (or reconstructed) run of an agent CLI and what the classifier must say
/// about it; `expect == nil` means "no upstream failure".
struct FailureFixture: Sendable, CustomStringConvertible {
    struct Expected: Sendable {
        var errorClass: UpstreamErrorClass
        var status: Int?
        var retryAfter: Int64?
        var source: String

        init(_ errorClass: UpstreamErrorClass, status: Int?, retryAfter: Int64?, source: String) {
            self.errorClass = errorClass
            self.status = status
            self.retryAfter = retryAfter
            self.source = source
        }
    }

    var name: String
    var exitCode: Int32?
    var expect: Expected?
    var stdout: String
    var stderr: String

    init(_ name: String, exit: Int32?, expect: Expected?, stdout: String = "", stderr: String = "") {
        self.name = name
        self.exitCode = exit
        self.expect = expect
        self.stdout = stdout
        self.stderr = stderr
    }

    var description: String { name }
}

/// The fixtures, by CLI. Each name starts with the CLI and the version the output comes from.
enum FailureFixtures {
    static let all: [FailureFixture] = claudeJSON + claudeStream + codex + aider + generic
}

// MARK: - Claude Code

// Claude Code 2.1.x, `claude -p --output-format json` and `--output-format stream-json
// --verbose`. NOT recorded on this machine (its npm registry is unreachable here, so the CLI
// could not be installed): each fixture is rebuilt from outputs quoted in public bug reports and
// in other projects' tests that say they captured them live, with the fields the headless
// docs list. What is confirmed and what is not:
//  - confirmed by several reports: a failed call still says `"subtype":"success"` with
//    `"is_error":true`; `api_error_status` carries the HTTP status (null on success);
//    `terminal_reason` is "completed" on success and "api_error" on API failures;
//    `stop_reason` is "stop_sequence" on those failures; `"API Error: Rate limit reached"`
//    (2.1.49), `"You've hit your session limit · resets 4:50pm (America/Denver)"` with status
//    429 (2.1.175), `"Failed to authenticate. API Error: 401 Invalid bearer token"`,
//    `"API Error: 500 {...api_error...} · check status.claude.com"`;
//    stream-json `{"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,
//    "retry_delay_ms":600,"error_status":529,"error":"overloaded"}` (2.1.241);
//    the synthetic assistant message (`"model":"<synthetic>"`) with a top-level `"error"`
//    code ("authentication_failed", "rate_limit", ...) before the failed result;
//    `{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","rateLimitType":...}}`.
//  - not confirmed (guessed from the SDK's types or the API's error bodies): the exact key
//    order and the other fields around them (ids, costs, usage are made up); whether
//    "Credit balance is too low" comes with `api_error_status` 400; `terminal_reason`
//    "prompt_too_long" together with "Prompt is too long"; `api_retry` with
//    `"error_status":null,"error":"unknown"` for a connection failure; the wording
//    "API Error: Connection error." and "API Error: Request timed out." in 2.1 (older
//    versions printed "API Error (Connection error.)"); `error_max_structured_output_retries`
//    as a result subtype of the CLI (it is one in the Agent SDK's types).

extension FailureFixtures {
    static let claudeJSON: [FailureFixture] = [
        FailureFixture(
            "claude-2.1 json success, prose about 429 and overloaded", exit: 0, expect: nil,
            stdout: #"""
                {"type":"result","subtype":"success","is_error":false,"duration_ms":48211,"duration_api_ms":45102,"num_turns":9,"result":"Added retry handling to the client: a 429 rate limit error now backs off with jitter, a 529 overloaded_error or a 503 Service Unavailable retries three times, and ECONNREFUSED is reported as a connection error. API Error: 401 responses are surfaced unchanged. All 42 tests pass.","stop_reason":"end_turn","session_id":"5b1c7a52-2f0e-4a8e-9d1b-7f3e0c6a9d41","total_cost_usd":0.1873,"usage":{"input_tokens":31,"cache_creation_input_tokens":10211,"cache_read_input_tokens":88412,"output_tokens":2210,"server_tool_use":{"web_search_requests":0,"web_fetch_requests":0},"service_tier":"standard"},"modelUsage":{"claude-sonnet-4-5-20250929":{"inputTokens":31,"outputTokens":2210,"cacheReadInputTokens":88412,"cacheCreationInputTokens":10211,"webSearchRequests":0,"costUSD":0.1873,"contextWindow":200000}},"permission_denials":[],"terminal_reason":"completed","api_error_status":null,"uuid":"0f4c2d7e-61a5-4b8a-a1c2-3e9d5f7b8a60"}
                """#),
        FailureFixture(
            "claude-2.1 json success, answer quotes an API error", exit: 0, expect: nil,
            stdout: #"""
                {"type":"result","subtype":"success","is_error":false,"duration_ms":9120,"duration_api_ms":8877,"num_turns":2,"result":"The log shows `API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}` followed by `You've hit your session limit`; the credit balance is too low warning comes from the billing page, not from this code.","stop_reason":"end_turn","session_id":"d2a9e4c1-8b3f-4f6e-b0a7-1c5e9f2d3b84","total_cost_usd":0.0214,"usage":{"input_tokens":12,"cache_creation_input_tokens":3120,"cache_read_input_tokens":14002,"output_tokens":187,"service_tier":"standard"},"permission_denials":[],"terminal_reason":"completed","api_error_status":null,"uuid":"7e0b1f3a-2c4d-4e5f-8a9b-0c1d2e3f4a5b"}
                """#,
            stderr: "[DEBUG] retrying after 429 rate limit\n"),
        FailureFixture(
            "claude-2.1 json 529 overloaded_error", exit: 1,
            expect: .init(.overloaded, status: 529, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":61877,"duration_api_ms":0,"num_turns":1,"result":"API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"},\"request_id\":\"req_011CUa4dZqg1tYv7fGx2kLmN\"}","stop_reason":"stop_sequence","session_id":"9c3e1d7a-4b2f-4e8a-a6d1-2f7b0c9e5a13","total_cost_usd":0,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0,"service_tier":"standard"},"permission_denials":[],"terminal_reason":"api_error","api_error_status":529,"uuid":"3b7d9f1e-5a2c-4c6e-8b0d-1f3a5c7e9b2d"}
                """#),
        FailureFixture(
            "claude-2.1 json 500 api_error", exit: 1,
            expect: .init(.overloaded, status: 500, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":21345,"duration_api_ms":20110,"num_turns":4,"result":"API Error: 500 {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Internal server error\"},\"request_id\":\"req_011Ca5jwkFwWNdxLqG6pJZFd\"} · check status.claude.com","stop_reason":"stop_sequence","session_id":"1e5a7c9b-3d2f-4b6e-9a8c-7d1f3e5b9c20","total_cost_usd":0.0412,"usage":{"input_tokens":8,"cache_creation_input_tokens":2011,"cache_read_input_tokens":30120,"output_tokens":412,"service_tier":"standard"},"permission_denials":[],"terminal_reason":"api_error","api_error_status":500,"uuid":"6a8c0e2f-4b1d-4f3a-9c5e-7b9d1f3a5c72"}
                """#),
        FailureFixture(
            "claude-2.1 json 429 rate limit reached", exit: 1,
            expect: .init(.rateLimited, status: 429, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":1204,"duration_api_ms":0,"num_turns":1,"result":"API Error: Rate limit reached","stop_reason":"stop_sequence","session_id":"4f2b8d6a-1c3e-4a5b-8d7f-9e0a2c4b6d81","total_cost_usd":0,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0},"permission_denials":[],"terminal_reason":"api_error","api_error_status":429,"uuid":"8c0e2a4b-6d1f-4c3e-a5b7-9d1f3b5c7e94"}
                """#),
        FailureFixture(
            "claude-2.1 json 429 rate_limit_error body", exit: 1,
            expect: .init(.rateLimited, status: 429, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":33071,"duration_api_ms":31877,"num_turns":6,"result":"API Error: 429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"This request would exceed the rate limit for your organization (3f6d2c1a-9b8e-4d7f-a6c5-1e2b3c4d5e6f) of 30,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.\"},\"request_id\":\"req_011CUb7yHw2sQ9kLmN3pRt5v\"}","stop_reason":"stop_sequence","session_id":"c7e9a1b3-5d2f-4e6a-8b0c-3d5f7a9c1e26","total_cost_usd":0.0831,"usage":{"input_tokens":20,"cache_creation_input_tokens":5120,"cache_read_input_tokens":61004,"output_tokens":933},"permission_denials":[],"terminal_reason":"api_error","api_error_status":429,"uuid":"2d4f6b8a-0c1e-4a3c-9e5b-7f9a1c3e5b08"}
                """#),
        FailureFixture(
            "claude-2.1 json 429 session limit (subscription)", exit: 1,
            expect: .init(.usageLimit, status: 429, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"api_error_status":429,"duration_ms":115161,"duration_api_ms":109002,"num_turns":35,"result":"You've hit your session limit · resets 4:50pm (America/Denver)","stop_reason":"stop_sequence","session_id":"30f7a294-526a-483e-b9c4-4384deb09e79","total_cost_usd":0.1517513,"terminal_reason":"api_error"}
                """#),
        FailureFixture(
            "claude-2.1 json credit balance too low", exit: 1,
            expect: .init(.quotaExhausted, status: 400, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":1964,"duration_api_ms":0,"num_turns":1,"result":"Credit balance is too low","stop_reason":"stop_sequence","session_id":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0},"modelUsage":{},"permission_denials":[],"terminal_reason":"api_error","api_error_status":400,"uuid":"f0e1d2c3-b4a5-4968-8776-a5b4c3d2e1f0"}
                """#),
        FailureFixture(
            "claude-1.0 json usage limit reached with epoch", exit: 1,
            expect: .init(.usageLimit, status: nil, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":1520,"duration_api_ms":0,"num_turns":1,"result":"Claude AI usage limit reached|1760000000","session_id":"0d8e2f4a-6b1c-4d3e-9f5a-7b9c1d3e5f62","total_cost_usd":0,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}
                """#),
        FailureFixture(
            "claude-2.1 json 401 invalid bearer token", exit: 1,
            expect: .init(.auth, status: 401, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":291,"duration_api_ms":0,"num_turns":1,"result":"Failed to authenticate. API Error: 401 Invalid bearer token","stop_reason":"stop_sequence","session_id":"e3f5a7b9-1c2d-4e6f-8a0b-2c4d6e8f0a13","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0},"permission_denials":[],"terminal_reason":"api_error","api_error_status":401,"uuid":"b9d1f3a5-7c2e-4a6c-8e0a-4c6e8a0c2e46"}
                """#),
        FailureFixture(
            "claude-2.1 json invalid API key, please run /login", exit: 1,
            expect: .init(.auth, status: nil, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":88,"duration_api_ms":0,"num_turns":1,"result":"Invalid API key · Please run /login","stop_reason":"stop_sequence","session_id":"5c7e9a1b-3d4f-4a6b-8c0d-2e4f6a8b0c35","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0},"permission_denials":[],"terminal_reason":"api_error","api_error_status":null,"uuid":"d1f3a5c7-9e2b-4c4e-a6b8-0d2f4a6c8e57"}
                """#),
        FailureFixture(
            "claude-2.1 json prompt is too long", exit: 1,
            expect: .init(.contextTooLong, status: 400, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":3021,"duration_api_ms":2410,"num_turns":12,"result":"Prompt is too long","stop_reason":"stop_sequence","session_id":"7a9c1e3b-5d6f-4a8b-9c0e-4f6a8c0e2b79","total_cost_usd":0.6621,"usage":{"input_tokens":0,"output_tokens":0},"permission_denials":[],"terminal_reason":"prompt_too_long","api_error_status":400,"uuid":"e5a7c9e1-3b2d-4f6a-8c0e-6a8c0e2a4c91"}
                """#),
        FailureFixture(
            "claude-2.1 json 400 prompt is too long body", exit: 1,
            expect: .init(.contextTooLong, status: 400, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":4410,"duration_api_ms":3972,"num_turns":18,"result":"API Error: 400 {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"prompt is too long: 212043 tokens > 200000 maximum\"},\"request_id\":\"req_011CUc9zKx4tRa2bNm5qPs7w\"}","stop_reason":"stop_sequence","session_id":"9e1a3c5e-7b8d-4f0a-a2c4-6e8a0c2e4a13","total_cost_usd":0.9012,"permission_denials":[],"terminal_reason":"api_error","api_error_status":400,"uuid":"a3c5e7a9-1d4f-4b8c-a0e2-8c0e2a4c6e35"}
                """#),
        FailureFixture(
            "claude-2.1 json connection error", exit: 1,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":128774,"duration_api_ms":0,"num_turns":1,"result":"API Error: Connection error.","stop_reason":"stop_sequence","session_id":"2b4d6f8a-0c1e-4a3b-9d5f-7a9c1e3b5d80","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0},"permission_denials":[],"terminal_reason":"api_error","api_error_status":null,"uuid":"c5e7a9c1-3e6a-4d0e-b2c4-0e2a4c6e8a57"}
                """#),
        FailureFixture(
            "claude-2.1 json request timed out", exit: 1,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":602114,"duration_api_ms":600031,"num_turns":3,"result":"API Error: Request timed out.","stop_reason":"stop_sequence","session_id":"6f8a0c2e-4b5d-4e7f-a1c3-5e7a9c1e3b24","total_cost_usd":0.0101,"permission_denials":[],"terminal_reason":"api_error","api_error_status":null,"uuid":"e7a9c1e3-5a8c-4f2a-b4d6-2a4c6e8a0c79"}
                """#),
        FailureFixture(
            "claude-2.1 json verbose array 529", exit: 1,
            expect: .init(.overloaded, status: 529, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                [{"type":"system","subtype":"init","cwd":"/work/agents/w3","session_id":"8a0c2e4a-6d7f-4a9b-b3d5-7f9b1d3f5a46","tools":["Task","Bash","Glob","Grep","Read","Edit","Write"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","output_style":"default","uuid":"0c2e4a6c-8f1b-4d3f-a5c7-9b1d3f5a7c68"},{"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"retry_delay_ms":600,"error_status":529,"error":"overloaded","session_id":"8a0c2e4a-6d7f-4a9b-b3d5-7f9b1d3f5a46","uuid":"2e4a6c8e-0b3d-4f5b-b7d9-1d3f5a7c9e80"},{"type":"result","subtype":"success","is_error":true,"duration_ms":187233,"duration_api_ms":0,"num_turns":1,"result":"API Error: Repeated 529 Overloaded errors","stop_reason":"stop_sequence","session_id":"8a0c2e4a-6d7f-4a9b-b3d5-7f9b1d3f5a46","total_cost_usd":0,"permission_denials":[],"terminal_reason":"api_error","api_error_status":529,"uuid":"4a6c8e0a-2d5f-4b7d-b9f1-3f5a7c9e1b02"}]
                """#),
        FailureFixture(
            "claude-2.1 json structured output retries exhausted", exit: 1,
            expect: .init(.badOutput, status: nil, retryAfter: nil, source: "claude-json"),
            stdout: #"""
                {"type":"result","subtype":"error_max_structured_output_retries","is_error":true,"duration_ms":40012,"duration_api_ms":38550,"num_turns":5,"session_id":"b1d3f5a7-9c0e-4b2d-a4f6-8b0d2f4a6c13","total_cost_usd":0.0722,"usage":{"input_tokens":40,"output_tokens":2210},"permission_denials":[],"errors":["Failed to provide valid structured output after 5 attempts"],"uuid":"d3f5a7c9-1e2a-4d4f-a6b8-0d2f4a6c8e35"}
                """#),
        FailureFixture(
            "claude-2.1 json max turns is not an upstream failure", exit: 1, expect: nil,
            stdout: #"""
                {"type":"result","subtype":"error_max_turns","is_error":true,"duration_ms":201772,"duration_api_ms":196004,"num_turns":31,"session_id":"f5a7c9e1-3b4d-4f6a-a8c0-2f4a6c8e0a57","total_cost_usd":1.2041,"usage":{"input_tokens":120,"output_tokens":9120},"permission_denials":[],"terminal_reason":"max_turns","uuid":"a7c9e1a3-5d6f-4a8c-b0e2-4a6c8e0a2c79"}
                """#),
        FailureFixture(
            "claude-2.1 json output token maximum is not an upstream failure", exit: 1, expect: nil,
            stdout: #"""
                {"type":"result","subtype":"success","is_error":true,"duration_ms":99120,"duration_api_ms":98004,"num_turns":3,"result":"API Error: Claude's response exceeded the 32000 output token maximum. To configure this behavior, set the CLAUDE_CODE_MAX_OUTPUT_TOKENS environment variable.","stop_reason":"max_tokens","session_id":"c9e1a3c5-7f8b-4a0e-b2d4-6c8e0a2c4e91","total_cost_usd":0.5011,"permission_denials":[],"uuid":"e1a3c5e7-9b0d-4c2a-b4f6-8e0a2c4e6a13"}
                """#),
    ]

    static let claudeStream: [FailureFixture] = [
        FailureFixture(
            "claude-2.1 stream-json success after 529 retries", exit: 0, expect: nil,
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w7","session_id":"3f2a9c40-7b18-4c6d-9e51-8a2b1d4f0c73","tools":["Task","Bash","Glob","Grep","Read","Edit","Write","TodoWrite"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","slash_commands":[],"apiKeySource":"none","claude_code_version":"2.1.49","output_style":"default","agents":[],"skills":[],"plugins":[],"uuid":"6b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"}
                {"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"retry_delay_ms":600,"error_status":529,"error":"overloaded","session_id":"3f2a9c40-7b18-4c6d-9e51-8a2b1d4f0c73","uuid":"7c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e5f"}
                {"type":"system","subtype":"api_retry","attempt":2,"max_retries":10,"retry_delay_ms":1187,"error_status":529,"error":"overloaded","session_id":"3f2a9c40-7b18-4c6d-9e51-8a2b1d4f0c73","uuid":"8d3e4f5a-6b7c-4d8e-af9a-1b2c3d4e5f60"}
                {"type":"assistant","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_01Xq7bW2kLmN3pRt5vYz8aCd","type":"message","role":"assistant","content":[{"type":"text","text":"I'll add a backoff for 429 rate limit and 529 overloaded errors."}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":4,"cache_creation_input_tokens":8120,"cache_read_input_tokens":12004,"output_tokens":3,"service_tier":"standard"}},"parent_tool_use_id":null,"session_id":"3f2a9c40-7b18-4c6d-9e51-8a2b1d4f0c73","uuid":"9e4f5a6b-7c8d-4e9f-b0a1-2c3d4e5f6a71"}
                {"type":"assistant","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_01Xq7bW2kLmN3pRt5vYz8aCd","type":"message","role":"assistant","content":[{"type":"tool_use","id":"toolu_01AbCdEfGhIjKlMnOpQrStUv","name":"Edit","input":{"file_path":"/work/src/client.py","old_string":"raise","new_string":"backoff()"}}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":4,"cache_creation_input_tokens":8120,"cache_read_input_tokens":12004,"output_tokens":210,"service_tier":"standard"}},"parent_tool_use_id":null,"session_id":"3f2a9c40-7b18-4c6d-9e51-8a2b1d4f0c73","uuid":"af5a6b7c-8d9e-4fa0-b1b2-3d4e5f6a7b82"}
                {"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_01AbCdEfGhIjKlMnOpQrStUv","type":"tool_result","content":"The file /work/src/client.py has been updated."}]},"parent_tool_use_id":null,"session_id":"3f2a9c40-7b18-4c6d-9e51-8a2b1d4f0c73","uuid":"b06b7c8d-9eaf-40b1-82c3-4e5f6a7b8c93"}
                {"type":"result","subtype":"success","is_error":false,"duration_ms":84213,"duration_api_ms":71904,"num_turns":11,"result":"Fixed: 429 and 529 now back off; connection refused is retried.","stop_reason":"end_turn","session_id":"3f2a9c40-7b18-4c6d-9e51-8a2b1d4f0c73","total_cost_usd":0.2214,"usage":{"input_tokens":40,"cache_creation_input_tokens":16240,"cache_read_input_tokens":120040,"output_tokens":3120,"service_tier":"standard"},"permission_denials":[],"terminal_reason":"completed","api_error_status":null,"uuid":"c17c8d9e-af0b-41c2-93d4-5f6a7b8c9da4"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json success, cut first line", exit: 0, expect: nil,
            stdout: #"""
                ext":"the API Error: 429 rate limit handling is in client.py"}]},"parent_tool_use_id":null,"session_id":"3f2a9c40-7b18-4c6d-9e51-8a2b1d4f0c73","uuid":"d28d9eaf-0b1c-42d3-a4e5-6a7b8c9dae05"}
                {"type":"result","subtype":"success","is_error":false,"duration_ms":12040,"duration_api_ms":11020,"num_turns":2,"result":"Done.","stop_reason":"end_turn","session_id":"3f2a9c40-7b18-4c6d-9e51-8a2b1d4f0c73","total_cost_usd":0.0191,"permission_denials":[],"terminal_reason":"completed","api_error_status":null,"uuid":"e39eafb0-1c2d-43e4-b5f6-7b8c9daeb016"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json 529 after retries", exit: 1,
            expect: .init(.overloaded, status: 529, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w2","session_id":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","tools":["Bash","Read","Edit"],"mcp_servers":[],"model":"claude-opus-4-1-20250805","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"f4a0b1c2-d3e4-45f6-a7b8-c9d0e1f2a3b4"}
                {"type":"system","subtype":"api_retry","attempt":9,"max_retries":10,"retry_delay_ms":32811,"error_status":529,"error":"overloaded","session_id":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","uuid":"05b1c2d3-e4f5-46a7-b8c9-d0e1f2a3b4c5"}
                {"type":"system","subtype":"api_retry","attempt":10,"max_retries":10,"retry_delay_ms":38004,"error_status":529,"error":"overloaded","session_id":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","uuid":"16c2d3e4-f5a6-47b8-c9d0-e1f2a3b4c5d6"}
                {"type":"assistant","message":{"id":"0e6a4b1c-2d3e-4f5a-8b9c-0d1e2f3a4b5c","model":"<synthetic>","role":"assistant","stop_reason":"stop_sequence","stop_sequence":"","type":"message","usage":{"input_tokens":0,"output_tokens":0},"content":[{"type":"text","text":"API Error: Repeated 529 Overloaded errors"}]},"parent_tool_use_id":null,"session_id":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","uuid":"27d3e4f5-a6b7-48c9-d0e1-f2a3b4c5d6e7","error":"overloaded"}
                {"type":"result","subtype":"success","is_error":true,"duration_ms":187233,"duration_api_ms":0,"num_turns":1,"result":"API Error: Repeated 529 Overloaded errors","stop_reason":"stop_sequence","session_id":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0},"permission_denials":[],"terminal_reason":"api_error","api_error_status":529,"uuid":"38e4f5a6-b7c8-49d0-e1f2-a3b4c5d6e7f8"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json killed while retrying 503", exit: nil,
            expect: .init(.overloaded, status: 503, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w4","session_id":"2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e","tools":["Bash","Read","Edit"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"49f5a6b7-c8d9-40e1-f2a3-b4c5d6e7f809"}
                {"type":"system","subtype":"api_retry","attempt":4,"max_retries":10,"retry_delay_ms":4730,"error_status":503,"error":"server_error","session_id":"2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e","uuid":"5a06b7c8-d9e0-41f2-a3b4-c5d6e7f8091a"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json 429 rate_limit_error", exit: 1,
            expect: .init(.rateLimited, status: 429, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/srv/swarm/agents/w9","session_id":"3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f","tools":["Bash","Read"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"6b17c8d9-e0f1-42a3-b4c5-d6e7f8091a2b"}
                {"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"retry_delay_ms":5000,"error_status":429,"error":"rate_limit","session_id":"3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f","uuid":"7c28d9e0-f1a2-43b4-c5d6-e7f8091a2b3c"}
                {"type":"system","subtype":"api_retry","attempt":10,"max_retries":10,"retry_delay_ms":40000,"error_status":429,"error":"rate_limit","session_id":"3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f","uuid":"8d39e0f1-a2b3-44c5-d6e7-f8091a2b3c4d"}
                {"type":"result","subtype":"success","is_error":true,"duration_ms":240114,"duration_api_ms":0,"num_turns":1,"result":"API Error: 429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"Number of request tokens has exceeded your per-minute rate limit (https://docs.claude.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.\"},\"request_id\":\"req_011CUd1aBc2DeF3gHi4JkL5m\"}","stop_reason":"stop_sequence","session_id":"3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f","total_cost_usd":0,"permission_denials":[],"terminal_reason":"api_error","api_error_status":429,"uuid":"9e4af1a2-b3c4-45d6-e7f8-091a2b3c4d5e"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json killed while rate limited", exit: nil,
            expect: .init(.rateLimited, status: 429, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w5","session_id":"4d5e6f7a-8b9c-4d0e-1f2a-3b4c5d6e7f80","tools":["Bash"],"mcp_servers":[],"model":"claude-haiku-4-5-20251001","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"af5b02b3-c4d5-46e7-f809-1a2b3c4d5e6f"}
                {"type":"assistant","message":{"model":"claude-haiku-4-5-20251001","id":"msg_01Lm2No3Pq4Rs5Tu6Vw7Xy8Z","type":"message","role":"assistant","content":[{"type":"text","text":"Reading the failing test first."}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":9}},"parent_tool_use_id":null,"session_id":"4d5e6f7a-8b9c-4d0e-1f2a-3b4c5d6e7f80","uuid":"b06c13c4-d5e6-47f8-091a-2b3c4d5e6f70"}
                {"type":"system","subtype":"api_retry","attempt":3,"max_retries":10,"retry_delay_ms":2390,"error_status":429,"error":"rate_limit","session_id":"4d5e6f7a-8b9c-4d0e-1f2a-3b4c5d6e7f80","uuid":"c17d24d5-e6f7-48a9-1a2b-3c4d5e6f7081"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json weekly limit (subscription)", exit: 1,
            expect: .init(.usageLimit, status: 429, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w1","session_id":"5e6f7a8b-9c0d-4e1f-2a3b-4c5d6e7f8091","tools":["Bash","Read","Edit"],"mcp_servers":[],"model":"claude-opus-4-1-20250805","permissionMode":"bypassPermissions","apiKeySource":"none","uuid":"d28e35e6-f7a8-49ba-2b3c-4d5e6f708192"}
                {"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1790161200,"rateLimitType":"seven_day","overageStatus":"rejected","overageDisabledReason":"org_level_disabled"},"uuid":"e39f46f7-a8b9-4acb-3c4d-5e6f708192a3","session_id":"5e6f7a8b-9c0d-4e1f-2a3b-4c5d6e7f8091"}
                {"type":"assistant","message":{"id":"1f7b5c2d-3e4f-4a6b-9c0d-1e2f3a4b5c6d","model":"<synthetic>","role":"assistant","stop_reason":"stop_sequence","stop_sequence":"","type":"message","usage":{"input_tokens":0,"output_tokens":0},"content":[{"type":"text","text":"You've hit your weekly limit · resets Mon 9am (Europe/Berlin)"}]},"parent_tool_use_id":null,"session_id":"5e6f7a8b-9c0d-4e1f-2a3b-4c5d6e7f8091","uuid":"f4a057a8-b9ca-4bdc-4d5e-6f708192a3b4","error":"rate_limit"}
                {"type":"result","subtype":"success","is_error":true,"duration_ms":1342,"duration_api_ms":0,"num_turns":1,"result":"You've hit your weekly limit · resets Mon 9am (Europe/Berlin)","stop_reason":"stop_sequence","session_id":"5e6f7a8b-9c0d-4e1f-2a3b-4c5d6e7f8091","total_cost_usd":0,"permission_denials":[],"terminal_reason":"api_error","api_error_status":429,"error":"rate_limit","uuid":"05b168b9-cadb-4ced-5e6f-708192a3b4c5"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json killed after five-hour limit rejected", exit: nil,
            expect: .init(.usageLimit, status: 429, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w6","session_id":"6f7a8b9c-0d1e-4f2a-3b4c-5d6e7f8091a2","tools":["Bash"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"none","uuid":"16c279ca-dbec-4dfe-6f70-8192a3b4c5d6"}
                {"type":"rate_limit_event","rate_limit_info":{"status":"allowed_warning","resetsAt":1790161200,"rateLimitType":"five_hour","utilization":0.93},"uuid":"27d38adb-ecfd-4e0f-7081-92a3b4c5d6e7","session_id":"6f7a8b9c-0d1e-4f2a-3b4c-5d6e7f8091a2"}
                {"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1790161200,"rateLimitType":"five_hour"},"uuid":"38e49bec-fd0e-4f10-8192-a3b4c5d6e7f8","session_id":"6f7a8b9c-0d1e-4f2a-3b4c-5d6e7f8091a2"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json credit balance too low", exit: 1,
            expect: .init(.quotaExhausted, status: 400, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/srv/swarm/agents/w9","session_id":"8b9c0d1e-2f3a-4b4c-5d6e-7f8091a2b3c4","tools":["Bash"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"5a06bd0e-1f20-4132-a3b4-c5d6e7f8091a"}
                {"type":"assistant","message":{"id":"2a8c6d3e-4f5a-4b7c-8d9e-0f1a2b3c4d5e","model":"<synthetic>","role":"assistant","stop_reason":"stop_sequence","stop_sequence":"","type":"message","usage":{"input_tokens":0,"output_tokens":0},"content":[{"type":"text","text":"Credit balance is too low"}]},"parent_tool_use_id":null,"session_id":"8b9c0d1e-2f3a-4b4c-5d6e-7f8091a2b3c4","uuid":"6b17ce1f-2031-4243-b4c5-d6e7f8091a2b","error":"billing_error"}
                {"type":"result","subtype":"success","is_error":true,"duration_ms":811,"duration_api_ms":0,"num_turns":1,"result":"Credit balance is too low","stop_reason":"stop_sequence","session_id":"8b9c0d1e-2f3a-4b4c-5d6e-7f8091a2b3c4","total_cost_usd":0,"permission_denials":[],"terminal_reason":"api_error","api_error_status":400,"error":"billing_error","uuid":"7c28df20-3142-4354-c5d6-e7f8091a2b3c"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json oauth session expired", exit: 1,
            expect: .init(.auth, status: nil, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w8","session_id":"7a8b9c0d-1e2f-4a3b-4c5d-6e7f8091a2b3","tools":["Bash"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"none","uuid":"49f5acfd-0e1f-4021-92a3-b4c5d6e7f809"}
                {"type":"assistant","message":{"model":"<synthetic>","role":"assistant","content":[{"type":"text","text":"Failed to authenticate: OAuth session expired and could not be refreshed"}]},"error":"authentication_failed","is_api_error_message":true}
                {"type":"result","subtype":"success","is_error":true,"terminal_reason":"api_error","duration_ms":247,"num_turns":1,"result":"Failed to authenticate: OAuth session expired and could not be refreshed"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json killed while retrying 401", exit: nil,
            expect: .init(.auth, status: 401, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w10","session_id":"8b9c0d1e-2f3a-4b4c-5d6e-7f8091a2b3c4","tools":["Bash"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"5a06bd0e-1f20-4132-a3b4-c5d6e7f8091a"}
                {"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"retry_delay_ms":508,"error_status":401,"error":"authentication_failed","session_id":"8b9c0d1e-2f3a-4b4c-5d6e-7f8091a2b3c4","uuid":"6b17ce1f-2031-4243-b4c5-d6e7f8091a2b"}
                {"type":"system","subtype":"api_retry","attempt":2,"max_retries":10,"retry_delay_ms":1090,"error_status":401,"error":"authentication_failed","session_id":"8b9c0d1e-2f3a-4b4c-5d6e-7f8091a2b3c4","uuid":"7c28df20-3142-4354-c5d6-e7f8091a2b3c"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json connection error", exit: 1,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w11","session_id":"9c0d1e2f-3a4b-4c5d-6e7f-8091a2b3c4d5","tools":["Bash"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"8d39e031-4253-4465-d6e7-f8091a2b3c4d"}
                {"type":"system","subtype":"api_retry","attempt":10,"max_retries":10,"retry_delay_ms":39120,"error_status":null,"error":"unknown","session_id":"9c0d1e2f-3a4b-4c5d-6e7f-8091a2b3c4d5","uuid":"9e4af142-5364-4576-e7f8-091a2b3c4d5e"}
                {"type":"assistant","message":{"id":"2a8c6d3e-4f5a-4b7c-8d9e-0f1a2b3c4d5e","model":"<synthetic>","role":"assistant","stop_reason":"stop_sequence","stop_sequence":"","type":"message","usage":{"input_tokens":0,"output_tokens":0},"content":[{"type":"text","text":"API Error: Connection error."}]},"parent_tool_use_id":null,"session_id":"9c0d1e2f-3a4b-4c5d-6e7f-8091a2b3c4d5","uuid":"af5b0253-6475-4687-f809-1a2b3c4d5e6f","error":"unknown"}
                {"type":"result","subtype":"success","is_error":true,"duration_ms":271004,"duration_api_ms":0,"num_turns":1,"result":"API Error: Connection error.","stop_reason":"stop_sequence","session_id":"9c0d1e2f-3a4b-4c5d-6e7f-8091a2b3c4d5","total_cost_usd":0,"permission_denials":[],"terminal_reason":"api_error","api_error_status":null,"uuid":"b06c1364-7586-4798-091a-2b3c4d5e6f70"}
                """#,
            stderr: "TypeError (fetch failed)\n"),
        FailureFixture(
            "claude-1.0 stream-json connection error, old wording", exit: 1,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w12","session_id":"0d1e2f3a-4b5c-4d6e-7f80-91a2b3c4d5e6","tools":["Bash"],"mcp_servers":[],"model":"claude-sonnet-4-20250514","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY"}
                {"type":"result","subtype":"success","is_error":true,"duration_ms":62110,"duration_api_ms":0,"num_turns":1,"result":"API Error (Connection error.) · Retrying in 0 seconds… (attempt 10/10)\n  ⎿  TypeError (fetch failed)","session_id":"0d1e2f3a-4b5c-4d6e-7f80-91a2b3c4d5e6","total_cost_usd":0}
                """#),
        FailureFixture(
            "claude-2.1 stream-json prompt is too long", exit: 1,
            expect: .init(.contextTooLong, status: nil, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w13","session_id":"1e2f3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7","tools":["Bash","Read"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"c17d2475-8697-48a9-1a2b-3c4d5e6f7081"}
                {"type":"assistant","message":{"id":"3b9d7e4f-5a6b-4c8d-9e0f-1a2b3c4d5e6f","model":"<synthetic>","role":"assistant","stop_reason":"stop_sequence","stop_sequence":"","type":"message","usage":{"input_tokens":0,"output_tokens":0},"content":[{"type":"text","text":"Prompt is too long"}]},"parent_tool_use_id":null,"session_id":"1e2f3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7","uuid":"d28e3586-97a8-49ba-2b3c-4d5e6f708192","error":"invalid_request"}
                {"type":"result","subtype":"success","is_error":true,"duration_ms":5102,"duration_api_ms":4410,"num_turns":14,"result":"Prompt is too long","stop_reason":"stop_sequence","session_id":"1e2f3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7","total_cost_usd":0.8112,"permission_denials":[],"terminal_reason":"prompt_too_long","api_error_status":null,"uuid":"e39f4697-a8b9-4acb-3c4d-5e6f708192a3"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json blocking limit", exit: 1,
            expect: .init(.contextTooLong, status: nil, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w14","session_id":"2f3a4b5c-6d7e-4f80-91a2-b3c4d5e6f708","tools":["Bash"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"f4a057a8-b9ca-4bdc-4d5e-6f708192a3b4"}
                {"type":"result","subtype":"success","is_error":true,"duration_ms":2210,"duration_api_ms":0,"num_turns":22,"result":"Context limit reached · /compact or /clear to continue","stop_reason":"stop_sequence","session_id":"2f3a4b5c-6d7e-4f80-91a2-b3c4d5e6f708","total_cost_usd":1.4410,"permission_denials":[],"terminal_reason":"blocking_limit","api_error_status":null,"uuid":"05b168b9-cadb-4ced-5e6f-708192a3b4c5"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json structured output retries exhausted", exit: 1,
            expect: .init(.badOutput, status: nil, retryAfter: nil, source: "claude-stream-json"),
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w15","session_id":"3a4b5c6d-7e8f-4091-a2b3-c4d5e6f70819","tools":[],"mcp_servers":[],"model":"claude-haiku-4-5-20251001","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"16c279ca-dbec-4dfe-6f70-8192a3b4c5d6"}
                {"type":"assistant","message":{"model":"claude-haiku-4-5-20251001","id":"msg_01Qr2St3Uv4Wx5Yz6Ab7Cd8E","type":"message","role":"assistant","content":[{"type":"text","text":"{\"summary\": \"done\""}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":9}},"parent_tool_use_id":null,"session_id":"3a4b5c6d-7e8f-4091-a2b3-c4d5e6f70819","uuid":"27d38adb-ecfd-4e0f-7081-92a3b4c5d6e7"}
                {"type":"result","subtype":"error_max_structured_output_retries","is_error":true,"duration_ms":30120,"duration_api_ms":29004,"num_turns":5,"session_id":"3a4b5c6d-7e8f-4091-a2b3-c4d5e6f70819","total_cost_usd":0.0101,"permission_denials":[],"errors":[],"uuid":"38e49bec-fd0e-4f10-8192-a3b4c5d6e7f8"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json killed mid-run, no error", exit: nil, expect: nil,
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w16","session_id":"4b5c6d7e-8f90-41a2-b3c4-d5e6f708192a","tools":["Bash"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"49f5acfd-0e1f-4021-92a3-b4c5d6e7f809"}
                {"type":"assistant","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_01Ab2Cd3Ef4Gh5Ij6Kl7Mn8O","type":"message","role":"assistant","content":[{"type":"tool_use","id":"toolu_01Pq2Rs3Tu4Vw5Xy6Za7Bc8D","name":"Bash","input":{"command":"pytest -x tests/test_rate_limit.py"}}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":4,"output_tokens":40}},"parent_tool_use_id":null,"session_id":"4b5c6d7e-8f90-41a2-b3c4-d5e6f708192a","uuid":"5a06bd0e-1f20-4132-a3b4-c5d6e7f8091a"}
                {"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_01Pq2Rs3Tu4Vw5Xy6Za7Bc8D","type":"tool_result","content":"E   AssertionError: expected 429 Too Many Requests, got 503 Service Unavailable\nFAILED tests/test_rate_limit.py::test_backoff - ECONNREFUSED","is_error":true}]},"parent_tool_use_id":null,"session_id":"4b5c6d7e-8f90-41a2-b3c4-d5e6f708192a","uuid":"6b17ce1f-2031-4243-b4c5-d6e7f8091a2b"}
                """#),
        FailureFixture(
            "claude-2.1 stream-json killed after a retry that recovered", exit: nil, expect: nil,
            stdout: #"""
                {"type":"system","subtype":"init","cwd":"/work/agents/w17","session_id":"5c6d7e8f-9001-42b3-c4d5-e6f708192a3b","tools":["Bash"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY","uuid":"7c28df20-3142-4354-c5d6-e7f8091a2b3c"}
                {"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"retry_delay_ms":576,"error_status":529,"error":"overloaded","session_id":"5c6d7e8f-9001-42b3-c4d5-e6f708192a3b","uuid":"8d39e031-4253-4465-d6e7-f8091a2b3c4d"}
                {"type":"assistant","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_01Cd2Ef3Gh4Ij5Kl6Mn7Op8Q","type":"message","role":"assistant","content":[{"type":"text","text":"Running the test suite now."}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":4,"output_tokens":8}},"parent_tool_use_id":null,"session_id":"5c6d7e8f-9001-42b3-c4d5-e6f708192a3b","uuid":"9e4af142-5364-4576-e7f8-091a2b3c4d5e"}
                """#),
    ]
}

// MARK: - Codex

// Codex CLI `codex exec --json` (the JSONL events of codex-rs/exec: thread.started,
// turn.started, item.started/updated/completed, turn.completed, turn.failed, error), labelled
// "codex-0.5" for the 0.4x-0.5x releases that have this schema. NOT recorded on this machine
// (no npm registry here). Rebuilt from codex-rs source and from other projects' captures:
//  - confirmed: the event names and shapes above; `turn.failed` carries
//    `{"error":{"message":...}}`; the message texts come from codex-rs/core/src/error.rs:
//    "exceeded retry limit, last status: 429 Too Many Requests[, request id: ...]",
//    "unexpected status 401 Unauthorized: <body>[, request id: ...]", "You've hit your usage
//    limit. ... try again at <time>.", "Quota exceeded. Check your plan and billing details.",
//    "We're currently experiencing high demand, which may cause temporary errors.",
//    "stream disconnected before completion: ...", "Codex ran out of room in the model's context
//    window. ..."; a message can itself be the API's JSON error body
//    (`{"type":"error","status":400,"error":{...}}`, captured by another project); an
//    `{"type":"error"}` event precedes `turn.failed` with the same text.
//  - not confirmed: that the internal "Reconnecting... 2/5 (...)" retries reach the JSONL as
//    `error` events in every version (older ones printed them only on stderr); the ids, usage
//    numbers and command outputs are made up; "stream error: ..." as a prefix (quoted in the
//    brief for this work, not found in the source read).
// The plain `codex exec` (without --json) prints "ERROR: <message>" on stderr; see `generic`.

extension FailureFixtures {
    static let codex: [FailureFixture] = [
        FailureFixture(
            "codex-0.5 exec --json success, command output full of errors", exit: 0, expect: nil,
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}
                {"type":"turn.started"}
                {"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Checking rate limit handling**\n\nThe client should back off on 429 and 503."}}
                {"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"bash -lc 'pytest -q tests/test_client.py'","aggregated_output":"","exit_code":null,"status":"in_progress"}}
                {"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"bash -lc 'pytest -q tests/test_client.py'","aggregated_output":"F.\nE   RuntimeError: 429 Too Many Requests\nE   ConnectionRefusedError: [Errno 111] Connection refused\n1 failed, 1 passed in 0.31s\n","exit_code":1,"status":"failed"}}
                {"type":"item.completed","item":{"id":"item_2","type":"file_change","changes":[{"path":"/work/src/client.py","kind":"update"}],"status":"completed"}}
                {"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"The client now retries 429 rate limit and 503 Service Unavailable answers with backoff, and reports ECONNREFUSED as a connection error. Invalid API key errors are not retried."}}
                {"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":1220}}
                """#,
            stderr: "Reading prompt from stdin...\n"),
        FailureFixture(
            "codex-0.5 exec --json success after a reconnect", exit: 0, expect: nil,
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a214-02d1-7c31-9f0e-5b7c2d9e1a44"}
                {"type":"turn.started"}
                {"type":"error","message":"Reconnecting... 1/5 (stream disconnected before completion: error sending request for url (https://chatgpt.com/backend-api/codex/responses))"}
                {"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"Done."}}
                {"type":"turn.completed","usage":{"input_tokens":8120,"cached_input_tokens":0,"output_tokens":40}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json 429 retry limit", exit: 1,
            expect: .init(.rateLimited, status: 429, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a215-3e42-7a10-8c5d-1f2e3d4c5b66"}
                {"type":"turn.started"}
                {"type":"error","message":"exceeded retry limit, last status: 429 Too Many Requests, request id: 9a1c3e5f-7b2d-4f6a-8c0e-2a4c6e8a0c13"}
                {"type":"turn.failed","error":{"message":"exceeded retry limit, last status: 429 Too Many Requests, request id: 9a1c3e5f-7b2d-4f6a-8c0e-2a4c6e8a0c13"}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json 429 from a provider with retry hint", exit: 1,
            expect: .init(.rateLimited, status: 429, retryAfter: 20_000, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a216-5a63-7b21-9d6e-2a3f4e5d6c77"}
                {"type":"turn.started"}
                {"type":"turn.failed","error":{"message":"stream error: unexpected status 429 Too Many Requests: {\"error\":{\"message\":\"Rate limit reached for gpt-5 in organization org-Zq3XkR5vY7wLdE2f on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 20s.\",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}"}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json usage limit (ChatGPT plan)", exit: 1,
            expect: .init(.usageLimit, status: nil, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a217-7b84-7c32-ae7f-3b4a5f6e7d88"}
                {"type":"turn.started"}
                {"type":"error","message":"You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing), visit https://chatgpt.com/codex/settings/usage to purchase more credits or try again at 3:12 PM."}
                {"type":"turn.failed","error":{"message":"You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing), visit https://chatgpt.com/codex/settings/usage to purchase more credits or try again at 3:12 PM."}}
                """#),
        FailureFixture(
            "codex-0.39 exec --json usage limit, try again in days", exit: 1,
            expect: .init(.usageLimit, status: nil, retryAfter: 511_860_000, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a21a-1e2f-7a3b-8c4d-5e6f7a8b9c0d"}
                {"type":"turn.started"}
                {"type":"error","message":"You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing) or try again in 5 days 22 hours 11 minutes."}
                {"type":"turn.failed","error":{"message":"You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing) or try again in 5 days 22 hours 11 minutes."}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json insufficient_quota (API key)", exit: 1,
            expect: .init(.quotaExhausted, status: 429, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a21b-2f3a-7b4c-9d5e-6f7a8b9c0d1e"}
                {"type":"turn.started"}
                {"type":"turn.failed","error":{"message":"{\"error\":{\"message\":\"You exceeded your current quota, please check your plan and billing details.\",\"type\":\"insufficient_quota\",\"code\":\"insufficient_quota\"},\"status\":429}"}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json quota exceeded (API key)", exit: 1,
            expect: .init(.quotaExhausted, status: nil, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a218-9ca5-7d43-bf80-4c5b6a7f8e99"}
                {"type":"turn.started"}
                {"type":"turn.failed","error":{"message":"Quota exceeded. Check your plan and billing details."}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json 500 retry limit", exit: 1,
            expect: .init(.overloaded, status: 500, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a219-bdc6-7e54-c091-5d6c7b8a9faa"}
                {"type":"turn.started"}
                {"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Reading the repository layout**"}}
                {"type":"turn.failed","error":{"message":"exceeded retry limit, last status: 500 Internal Server Error, request id: 5e7a9c1e-3b4d-4f6a-8c0e-2a4c6e8a0c57"}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json high demand", exit: 1,
            expect: .init(.overloaded, status: nil, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a21a-dee7-7f65-d1a2-6e7d8c9b0abb"}
                {"type":"turn.started"}
                {"type":"error","message":"We're currently experiencing high demand, which may cause temporary errors."}
                {"type":"turn.failed","error":{"message":"We're currently experiencing high demand, which may cause temporary errors."}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json 503 retry limit", exit: 1,
            expect: .init(.overloaded, status: 503, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a21b-f008-7076-e2b3-7f8e9d0c1bcc"}
                {"type":"turn.started"}
                {"type":"turn.failed","error":{"message":"exceeded retry limit, last status: 503 Service Unavailable"}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json 401 unauthorized", exit: 1,
            expect: .init(.auth, status: 401, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a21c-0119-7187-f3c4-8090ae1d2cdd"}
                {"type":"turn.started"}
                {"type":"error","message":"unexpected status 401 Unauthorized: {\"error\":{\"message\":\"Incorrect API key provided: sk-proj-****************************abcd. You can find your API key at https://platform.openai.com/account/api-keys.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}, request id: 7a9c1e3b-5d6f-4a8b-9c0d-2e4f6a8b0c35"}
                {"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized: {\"error\":{\"message\":\"Incorrect API key provided: sk-proj-****************************abcd. You can find your API key at https://platform.openai.com/account/api-keys.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}, request id: 7a9c1e3b-5d6f-4a8b-9c0d-2e4f6a8b0c35"}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json access token could not be refreshed", exit: 1,
            expect: .init(.auth, status: nil, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"x"}
                {"type":"turn.started"}
                {"type":"error","message":"Your access token could not be refreshed"}
                {"type":"turn.failed","error":{"message":"Your access token could not be refreshed"}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json stream disconnected", exit: 1,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a21d-122a-7298-a4d5-91a1bf2e3dee"}
                {"type":"turn.started"}
                {"type":"error","message":"Reconnecting... 4/5 (stream disconnected before completion: error sending request for url (https://api.openai.com/v1/responses))"}
                {"type":"error","message":"Reconnecting... 5/5 (stream disconnected before completion: error sending request for url (https://api.openai.com/v1/responses))"}
                {"type":"turn.failed","error":{"message":"stream disconnected before completion: error sending request for url (https://api.openai.com/v1/responses)"}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json killed while reconnecting", exit: nil,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a21e-233b-73a9-b5e6-a2b2c03f4eff"}
                {"type":"turn.started"}
                {"type":"error","message":"Reconnecting... 2/5 (stream disconnected before completion: Connection failed: error sending request for url (http://127.0.0.1:4000/v1/responses))"}
                """#),
        FailureFixture(
            "codex-0.5 exec --json context window", exit: 1,
            expect: .init(.contextTooLong, status: nil, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a21f-344c-74ba-c6f7-b3c3d1405f00"}
                {"type":"turn.started"}
                {"type":"turn.failed","error":{"message":"Codex ran out of room in the model's context window. Start a new conversation or clear earlier history before retrying."}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json 400 context_length_exceeded body", exit: 1,
            expect: .init(.contextTooLong, status: 400, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a220-455d-75cb-d708-c4d4e2516011"}
                {"type":"turn.started"}
                {"type":"error","message":"{\"type\":\"error\",\"status\":400,\"error\":{\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\",\"message\":\"Your input exceeds the context window of this model. Please adjust your input and try again.\"}}"}
                {"type":"turn.failed","error":{"message":"{\"type\":\"error\",\"status\":400,\"error\":{\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\",\"message\":\"Your input exceeds the context window of this model. Please adjust your input and try again.\"}}"}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json 400 model not supported", exit: 1,
            expect: .init(.unknown, status: 400, retryAfter: nil, source: "codex-jsonl"),
            stdout: #"""
                {"type":"thread.started","thread_id":"01a06e80-ee3c-7a82-afac-ade065f0d8df"}
                {"type":"turn.started"}
                {"type":"error","message":"{\"type\":\"error\",\"status\":400,\"error\":{\"type\":\"invalid_request_error\",\"message\":\"The 'gpt-5.4' model is not supported when using Codex with a ChatGPT account.\"}}"}
                {"type":"turn.failed","error":{"message":"{\"type\":\"error\",\"status\":400,\"error\":{\"type\":\"invalid_request_error\",\"message\":\"The 'gpt-5.4' model is not supported when using Codex with a ChatGPT account.\"}}"}}
                """#),
        FailureFixture(
            "codex-0.5 exec --json interrupted, no terminal event", exit: 1, expect: nil,
            stdout: #"""
                {"type":"thread.started","thread_id":"0199a221-566e-76dc-e819-d5e5f3627122"}
                {"type":"turn.started"}
                {"type":"item.started","item":{"id":"item_0","type":"command_execution","command":"bash -lc 'curl -sf http://127.0.0.1:9/health'","aggregated_output":"","exit_code":null,"status":"in_progress"}}
                {"type":"item.completed","item":{"id":"item_0","type":"command_execution","command":"bash -lc 'curl -sf http://127.0.0.1:9/health'","aggregated_output":"curl: (7) Failed to connect to 127.0.0.1 port 9 after 0 ms: Connection refused\n","exit_code":7,"status":"failed"}}
                """#),
    ]
}

// MARK: - Plain text

// Plain-text outputs: Claude Code `-p` in text mode (2.1.49 printed "API Error: Rate limit
// reached" on stdout and exited 0, per a public bug report), plain `codex exec` (prints
// "ERROR: <message>" on stderr and exits 1), the runtime's own `swarm sim` (its exact stderr
// line), and common client errors (curl, Node's undici, Python's httpx). Reconstructed, not
// recorded, except the `swarm sim` line, which is this repository's own wording.

extension FailureFixtures {
    static let generic: [FailureFixture] = [
        FailureFixture(
            "claude-2.1 text API Error rate limit, exit 0", exit: 0,
            expect: .init(.rateLimited, status: nil, retryAfter: nil, source: "stdout"),
            stdout: "API Error: Rate limit reached\n"),
        FailureFixture(
            "claude-2.1 text API Error 529", exit: 1,
            expect: .init(.overloaded, status: 529, retryAfter: nil, source: "stdout"),
            stdout: #"""
                API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CUe2bCd3EfG4hIj5KlM6n"}

                """#),
        FailureFixture(
            "claude-2.1 text success with scary prose", exit: 0, expect: nil,
            stdout: #"""
                I added handling for the failures you listed:

                - 429 Too Many Requests: back off, honouring Retry-After (e.g. retry after 30s).
                - 529 overloaded_error and 503 Service Unavailable: retry on another upstream.
                - ECONNREFUSED / connection refused: count towards the circuit breaker.
                - 401 invalid api key: never retried.
                Error handling for "prompt is too long" is left as it was.

                """#),
        FailureFixture(
            "codex-0.5 exec plain 429 on stderr", exit: 1,
            expect: .init(.rateLimited, status: 429, retryAfter: nil, source: "stderr"),
            stdout: "",
            stderr: #"""
                OpenAI Codex v0.50.0 (research preview)
                --------
                workdir: /work/agents/w3
                model: gpt-5-codex
                provider: openai
                approval: never
                sandbox: workspace-write
                reasoning effort: medium
                reasoning summaries: auto
                session id: 0199a222-677f-77ed-f92a-e6f604738233
                --------
                user
                Fix the failing test in tests/test_client.py
                ERROR: exceeded retry limit, last status: 429 Too Many Requests, request id: 3c5e7a9c-1e2b-4d6f-8a0c-4e6a8c0e2a91

                """#),
        FailureFixture(
            "codex-0.5 exec plain 401 on stderr", exit: 1,
            expect: .init(.auth, status: 401, retryAfter: nil, source: "stderr"),
            stderr: #"""
                OpenAI Codex v0.50.0 (research preview)
                --------
                workdir: /work/agents/w4
                model: gpt-5-codex
                --------
                ERROR: unexpected status 401 Unauthorized: Missing bearer or basic authentication in header

                """#),
        FailureFixture(
            "swarm sim API Error 429 with retry-after", exit: 1,
            expect: .init(.rateLimited, status: 429, retryAfter: 30_000, source: "stderr"),
            stdout: "", stderr: "swarm sim: API Error: 429 rate_limit_error (retry-after 30s)\n"),
        FailureFixture(
            "swarm sim API connection error", exit: 1,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "stderr"),
            stderr:
                "swarm sim: API connection error: connect to 127.0.0.1:9: Connection refused (errno 111)\n"),
        FailureFixture(
            "curl connection refused", exit: 7,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "stderr"),
            stderr:
                "curl: (7) Failed to connect to 127.0.0.1 port 8080 after 0 ms: Couldn't connect to server\ncurl: (7) Failed to connect to 127.0.0.1 port 8080 after 0 ms: Connection refused\n"
        ),
        FailureFixture(
            "node undici ECONNREFUSED", exit: 1,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "stderr"),
            stderr: #"""
                node:internal/deps/undici/undici:13502
                      Error.captureStackTrace(err);
                            ^

                TypeError: fetch failed
                    at node:internal/deps/undici/undici:13502:13
                    at async main (file:///work/agent.mjs:12:15) {
                  [cause]: Error: connect ECONNREFUSED 127.0.0.1:4000
                      at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16) {
                    errno: -111,
                    code: 'ECONNREFUSED',
                    syscall: 'connect',
                    address: '127.0.0.1',
                    port: 4000
                  }
                }

                Node.js v22.12.0

                """#),
        FailureFixture(
            "python httpx 503", exit: 1,
            expect: .init(.overloaded, status: 503, retryAfter: nil, source: "stderr"),
            stderr: #"""
                Traceback (most recent call last):
                  File "/work/agent.py", line 41, in <module>
                    response.raise_for_status()
                  File "/usr/lib/python3/dist-packages/httpx/_models.py", line 829, in raise_for_status
                    raise HTTPStatusError(message, request=request, response=self)
                httpx.HTTPStatusError: Server error '503 Service Unavailable' for url 'http://127.0.0.1:4000/v1/messages'
                For more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/503

                """#),
        FailureFixture(
            "generic invalid api key on stderr", exit: 2,
            expect: .init(.auth, status: nil, retryAfter: nil, source: "stderr"),
            stderr: "fatal: invalid api key (check ANTHROPIC_API_KEY)\n"),
        FailureFixture(
            "generic bare 401 on stderr", exit: 1,
            expect: .init(.auth, status: 401, retryAfter: nil, source: "stderr"),
            stderr: "request failed: 401\n"),
        FailureFixture(
            "generic vague rate limit on stderr, failed", exit: 1,
            expect: .init(.rateLimited, status: nil, retryAfter: 2_000, source: "stderr"),
            stderr: "warning: hit the rate limit, please retry after 2 seconds\n"),
        FailureFixture(
            "generic vague rate limit on stderr, exit 0", exit: 0, expect: nil,
            stderr: "warning: hit the rate limit, please retry after 2 seconds\n"),
        FailureFixture(
            "generic overloaded on stderr, exit 0 (test log)", exit: 0, expect: nil,
            stderr: "test_backoff_when_overloaded ... ok\ntest_rate_limit_reset ... ok\n"),
        FailureFixture(
            "generic ordinary failure", exit: 1, expect: nil,
            stdout:
                "Traceback (most recent call last):\n  File \"x.py\", line 1\nZeroDivisionError: division by zero\n",
            stderr: "make: *** [Makefile:12: test] Error 1\n"),
    ]
}

// MARK: - aider

// Recorded outputs of aider 0.86.2 (pip install aider-chat==0.86.2, Python 3.11, litellm as
// that release pins it), run on this machine as
//
//     aider --model anthropic/claude-sonnet-4-20250514 (or openai/gpt-4o) --message "add retry handling" \
//           --yes-always --no-git --no-pretty --no-stream --no-check-update --no-show-release-notes \
//           --analytics-disable --no-auto-commits app.py
//
// against a stand-in API on 127.0.0.1 that answered every request with one canned error
// (the Anthropic or OpenAI error body for that status, copied from their API references), a
// closed port (connection refused), an unresolvable host name (DNS), or a socket that never
// answers (`--timeout 3`). stdout and stderr are verbatim; aider exited 0 in every case.
// Two things come from this machine rather than from aider's normal life: the
// "HTTPSConnectionPool(host='raw.githubusercontent.com' ... Name or service not known)" lines
// (litellm fetching its model price list with no network; harmless noise a classifier must
// ignore) and "Warning: Input is not a terminal" on stderr (stdin was not a terminal).
// Aider wraps long messages at 80 columns even with --no-pretty, so one error spans lines.

extension FailureFixtures {
    static let aider: [FailureFixture] = [
        FailureFixture(
            "aider-0.86.2 anthropic success", exit: 0, expect: nil,
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                Done. I added retry handling for 429 rate limit errors and overloaded responses.

                Tokens: 1.2k sent, 40 received. Cost: $0.0042 message, $0.0042 session.
                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 openai success", exit: 0, expect: nil,
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: openai/gpt-4o with diff edit format
                Weak model: gpt-4o-mini
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                Done. I added retry handling for 429 rate limit errors and overloaded responses.

                Tokens: 1.2k sent, 40 received. Cost: $0.0034 message, $0.0034 session.
                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic 529 then recovered", exit: 0, expect: nil,
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.
                Retrying in 0.2 seconds...
                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.
                Retrying in 0.5 seconds...
                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.
                Retrying in 1.0 seconds...
                Done. I added retry handling for 429 rate limit errors and overloaded responses.

                Tokens: 1.2k sent, 40 received. Cost: $0.0042 message, $0.0042 session.
                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic 429 rate_limit_error", exit: 0,
            expect: .init(.rateLimited, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.RateLimitError: AnthropicException - {"type": "error", "error": {"type":
                "rate_limit_error", "message": "This request would exceed the rate limit for 
                your organization (1b2c3d4e-0000-4f00-9000-5a6b7c8d9e0f) of 50,000 input tokens 
                per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. 
                You can see the response headers for current usage. Please reduce the prompt 
                length or the maximum tokens requested, or try again later. You may also contact
                sales at https://www.anthropic.com/contact-sales to discuss your options for a 
                rate limit increase."}, "request_id": "req_011CTz8pQm3XkR5vY7wLdE2f"}
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 0.2 seconds...
                litellm.RateLimitError: AnthropicException - {"type": "error", "error": {"type":
                "rate_limit_error", "message": "This request would exceed the rate limit for 
                your organization (1b2c3d4e-0000-4f00-9000-5a6b7c8d9e0f) of 50,000 input tokens 
                per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. 
                You can see the response headers for current usage. Please reduce the prompt 
                length or the maximum tokens requested, or try again later. You may also contact
                sales at https://www.anthropic.com/contact-sales to discuss your options for a 
                rate limit increase."}, "request_id": "req_011CTz8pQm3XkR5vY7wLdE2f"}
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 0.5 seconds...
                litellm.RateLimitError: AnthropicException - {"type": "error", "error": {"type":
                "rate_limit_error", "message": "This request would exceed the rate limit for 
                your organization (1b2c3d4e-0000-4f00-9000-5a6b7c8d9e0f) of 50,000 input tokens 
                per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. 
                You can see the response headers for current usage. Please reduce the prompt 
                length or the maximum tokens requested, or try again later. You may also contact
                sales at https://www.anthropic.com/contact-sales to discuss your options for a 
                rate limit increase."}, "request_id": "req_011CTz8pQm3XkR5vY7wLdE2f"}
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 1.0 seconds...
                litellm.RateLimitError: AnthropicException - {"type": "error", "error": {"type":
                "rate_limit_error", "message": "This request would exceed the rate limit for 
                your organization (1b2c3d4e-0000-4f00-9000-5a6b7c8d9e0f) of 50,000 input tokens 
                per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. 
                You can see the response headers for current usage. Please reduce the prompt 
                length or the maximum tokens requested, or try again later. You may also contact
                sales at https://www.anthropic.com/contact-sales to discuss your options for a 
                rate limit increase."}, "request_id": "req_011CTz8pQm3XkR5vY7wLdE2f"}
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 2.0 seconds...
                litellm.RateLimitError: AnthropicException - {"type": "error", "error": {"type":
                "rate_limit_error", "message": "This request would exceed the rate limit for 
                your organization (1b2c3d4e-0000-4f00-9000-5a6b7c8d9e0f) of 50,000 input tokens 
                per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. 
                You can see the response headers for current usage. Please reduce the prompt 
                length or the maximum tokens requested, or try again later. You may also contact
                sales at https://www.anthropic.com/contact-sales to discuss your options for a 
                rate limit increase."}, "request_id": "req_011CTz8pQm3XkR5vY7wLdE2f"}
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 4.0 seconds...
                litellm.RateLimitError: AnthropicException - {"type": "error", "error": {"type":
                "rate_limit_error", "message": "This request would exceed the rate limit for 
                your organization (1b2c3d4e-0000-4f00-9000-5a6b7c8d9e0f) of 50,000 input tokens 
                per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. 
                You can see the response headers for current usage. Please reduce the prompt 
                length or the maximum tokens requested, or try again later. You may also contact
                sales at https://www.anthropic.com/contact-sales to discuss your options for a 
                rate limit increase."}, "request_id": "req_011CTz8pQm3XkR5vY7wLdE2f"}
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 8.0 seconds...
                litellm.RateLimitError: AnthropicException - {"type": "error", "error": {"type":
                "rate_limit_error", "message": "This request would exceed the rate limit for 
                your organization (1b2c3d4e-0000-4f00-9000-5a6b7c8d9e0f) of 50,000 input tokens 
                per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. 
                You can see the response headers for current usage. Please reduce the prompt 
                length or the maximum tokens requested, or try again later. You may also contact
                sales at https://www.anthropic.com/contact-sales to discuss your options for a 
                rate limit increase."}, "request_id": "req_011CTz8pQm3XkR5vY7wLdE2f"}
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 16.0 seconds...
                litellm.RateLimitError: AnthropicException - {"type": "error", "error": {"type":
                "rate_limit_error", "message": "This request would exceed the rate limit for 
                your organization (1b2c3d4e-0000-4f00-9000-5a6b7c8d9e0f) of 50,000 input tokens 
                per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. 
                You can see the response headers for current usage. Please reduce the prompt 
                length or the maximum tokens requested, or try again later. You may also contact
                sales at https://www.anthropic.com/contact-sales to discuss your options for a 
                rate limit increase."}, "request_id": "req_011CTz8pQm3XkR5vY7wLdE2f"}
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 32.0 seconds...
                litellm.RateLimitError: AnthropicException - {"type": "error", "error": {"type":
                "rate_limit_error", "message": "This request would exceed the rate limit for 
                your organization (1b2c3d4e-0000-4f00-9000-5a6b7c8d9e0f) of 50,000 input tokens 
                per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. 
                You can see the response headers for current usage. Please reduce the prompt 
                length or the maximum tokens requested, or try again later. You may also contact
                sales at https://www.anthropic.com/contact-sales to discuss your options for a 
                rate limit increase."}, "request_id": "req_011CTz8pQm3XkR5vY7wLdE2f"}
                The API provider has rate limited you. Try again later or check your quotas.

                https://docs.claude.com/en/api/rate-limits

                https://www.anthropic.com/contact-sales

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 openai 429 rate_limit_exceeded", exit: 0,
            expect: .init(.rateLimited, status: nil, retryAfter: 3048, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: openai/gpt-4o with diff edit format
                Weak model: gpt-4o-mini
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for
                gpt-4o in organization org-Zq3XkR5vY7wLdE2f on tokens per min (TPM): Limit 
                30000, Used 29874, Requested 1650. Please try again in 3.048s. Visit 
                https://platform.openai.com/account/rate-limits to learn more.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 0.2 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for
                gpt-4o in organization org-Zq3XkR5vY7wLdE2f on tokens per min (TPM): Limit 
                30000, Used 29874, Requested 1650. Please try again in 3.048s. Visit 
                https://platform.openai.com/account/rate-limits to learn more.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 0.5 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for
                gpt-4o in organization org-Zq3XkR5vY7wLdE2f on tokens per min (TPM): Limit 
                30000, Used 29874, Requested 1650. Please try again in 3.048s. Visit 
                https://platform.openai.com/account/rate-limits to learn more.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 1.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for
                gpt-4o in organization org-Zq3XkR5vY7wLdE2f on tokens per min (TPM): Limit 
                30000, Used 29874, Requested 1650. Please try again in 3.048s. Visit 
                https://platform.openai.com/account/rate-limits to learn more.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 2.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for
                gpt-4o in organization org-Zq3XkR5vY7wLdE2f on tokens per min (TPM): Limit 
                30000, Used 29874, Requested 1650. Please try again in 3.048s. Visit 
                https://platform.openai.com/account/rate-limits to learn more.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 4.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for
                gpt-4o in organization org-Zq3XkR5vY7wLdE2f on tokens per min (TPM): Limit 
                30000, Used 29874, Requested 1650. Please try again in 3.048s. Visit 
                https://platform.openai.com/account/rate-limits to learn more.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 8.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for
                gpt-4o in organization org-Zq3XkR5vY7wLdE2f on tokens per min (TPM): Limit 
                30000, Used 29874, Requested 1650. Please try again in 3.048s. Visit 
                https://platform.openai.com/account/rate-limits to learn more.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 16.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for
                gpt-4o in organization org-Zq3XkR5vY7wLdE2f on tokens per min (TPM): Limit 
                30000, Used 29874, Requested 1650. Please try again in 3.048s. Visit 
                https://platform.openai.com/account/rate-limits to learn more.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 32.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for
                gpt-4o in organization org-Zq3XkR5vY7wLdE2f on tokens per min (TPM): Limit 
                30000, Used 29874, Requested 1650. Please try again in 3.048s. Visit 
                https://platform.openai.com/account/rate-limits to learn more.
                The API provider has rate limited you. Try again later or check your quotas.

                https://platform.openai.com/account/rate-limits

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic 400 credit balance too low", exit: 0,
            expect: .init(.quotaExhausted, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.BadRequestError: AnthropicException - {"type": "error", "error": 
                {"type": "invalid_request_error", "message": "Your credit balance is too low to 
                access the Anthropic API. Please go to Plans & Billing to upgrade or purchase 
                credits."}, "request_id": "req_011CTzD5e6F7g8H9i0J1k2L3"}

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 openai 429 insufficient_quota", exit: 0,
            expect: .init(.quotaExhausted, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: openai/gpt-4o with diff edit format
                Weak model: gpt-4o-mini
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your 
                current quota, please check your plan and billing details. For more information 
                on this error, read the docs: 
                https://platform.openai.com/docs/guides/error-codes/api-errors.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 0.2 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your 
                current quota, please check your plan and billing details. For more information 
                on this error, read the docs: 
                https://platform.openai.com/docs/guides/error-codes/api-errors.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 0.5 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your 
                current quota, please check your plan and billing details. For more information 
                on this error, read the docs: 
                https://platform.openai.com/docs/guides/error-codes/api-errors.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 1.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your 
                current quota, please check your plan and billing details. For more information 
                on this error, read the docs: 
                https://platform.openai.com/docs/guides/error-codes/api-errors.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 2.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your 
                current quota, please check your plan and billing details. For more information 
                on this error, read the docs: 
                https://platform.openai.com/docs/guides/error-codes/api-errors.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 4.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your 
                current quota, please check your plan and billing details. For more information 
                on this error, read the docs: 
                https://platform.openai.com/docs/guides/error-codes/api-errors.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 8.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your 
                current quota, please check your plan and billing details. For more information 
                on this error, read the docs: 
                https://platform.openai.com/docs/guides/error-codes/api-errors.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 16.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your 
                current quota, please check your plan and billing details. For more information 
                on this error, read the docs: 
                https://platform.openai.com/docs/guides/error-codes/api-errors.
                The API provider has rate limited you. Try again later or check your quotas.
                Retrying in 32.0 seconds...
                litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your 
                current quota, please check your plan and billing details. For more information 
                on this error, read the docs: 
                https://platform.openai.com/docs/guides/error-codes/api-errors.
                The API provider has rate limited you. Try again later or check your quotas.

                https://platform.openai.com/docs/guides/error-codes/api-errors

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic 529 overloaded_error", exit: 0,
            expect: .init(.overloaded, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.
                Retrying in 0.2 seconds...
                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.
                Retrying in 0.5 seconds...
                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.
                Retrying in 1.0 seconds...
                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.
                Retrying in 2.0 seconds...
                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.
                Retrying in 4.0 seconds...
                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.
                Retrying in 8.0 seconds...
                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.
                Retrying in 16.0 seconds...
                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.
                Retrying in 32.0 seconds...
                litellm.InternalServerError: AnthropicError - {"type": "error", "error": 
                {"type": "overloaded_error", "message": "Overloaded"}, "request_id": 
                "req_011CTz9aB4cD5eF6gH7iJ8kL"}
                The API provider's servers are down or overloaded.

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic 500 api_error", exit: 0,
            expect: .init(.overloaded, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.InternalServerError: AnthropicException - {"type": "error", "error": 
                {"type": "api_error", "message": "Internal server error"}, "request_id": 
                "req_011CTzAbCdEfGhIjKlMnOpQr"}. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 0.2 seconds...
                litellm.InternalServerError: AnthropicException - {"type": "error", "error": 
                {"type": "api_error", "message": "Internal server error"}, "request_id": 
                "req_011CTzAbCdEfGhIjKlMnOpQr"}. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 0.5 seconds...
                litellm.InternalServerError: AnthropicException - {"type": "error", "error": 
                {"type": "api_error", "message": "Internal server error"}, "request_id": 
                "req_011CTzAbCdEfGhIjKlMnOpQr"}. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 1.0 seconds...
                litellm.InternalServerError: AnthropicException - {"type": "error", "error": 
                {"type": "api_error", "message": "Internal server error"}, "request_id": 
                "req_011CTzAbCdEfGhIjKlMnOpQr"}. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 2.0 seconds...
                litellm.InternalServerError: AnthropicException - {"type": "error", "error": 
                {"type": "api_error", "message": "Internal server error"}, "request_id": 
                "req_011CTzAbCdEfGhIjKlMnOpQr"}. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 4.0 seconds...
                litellm.InternalServerError: AnthropicException - {"type": "error", "error": 
                {"type": "api_error", "message": "Internal server error"}, "request_id": 
                "req_011CTzAbCdEfGhIjKlMnOpQr"}. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 8.0 seconds...
                litellm.InternalServerError: AnthropicException - {"type": "error", "error": 
                {"type": "api_error", "message": "Internal server error"}, "request_id": 
                "req_011CTzAbCdEfGhIjKlMnOpQr"}. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 16.0 seconds...
                litellm.InternalServerError: AnthropicException - {"type": "error", "error": 
                {"type": "api_error", "message": "Internal server error"}, "request_id": 
                "req_011CTzAbCdEfGhIjKlMnOpQr"}. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 32.0 seconds...
                litellm.InternalServerError: AnthropicException - {"type": "error", "error": 
                {"type": "api_error", "message": "Internal server error"}, "request_id": 
                "req_011CTzAbCdEfGhIjKlMnOpQr"}. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic 503 html body", exit: 0,
            expect: .init(.overloaded, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.ServiceUnavailableError: AnthropicException - 
                <html><body><h1>503</h1>upstream unavailable</body></html>. Handle with 
                `litellm.ServiceUnavailableError`.
                The API provider's servers are down or overloaded.
                Retrying in 0.2 seconds...
                litellm.ServiceUnavailableError: AnthropicException - 
                <html><body><h1>503</h1>upstream unavailable</body></html>. Handle with 
                `litellm.ServiceUnavailableError`.
                The API provider's servers are down or overloaded.
                Retrying in 0.5 seconds...
                litellm.ServiceUnavailableError: AnthropicException - 
                <html><body><h1>503</h1>upstream unavailable</body></html>. Handle with 
                `litellm.ServiceUnavailableError`.
                The API provider's servers are down or overloaded.
                Retrying in 1.0 seconds...
                litellm.ServiceUnavailableError: AnthropicException - 
                <html><body><h1>503</h1>upstream unavailable</body></html>. Handle with 
                `litellm.ServiceUnavailableError`.
                The API provider's servers are down or overloaded.
                Retrying in 2.0 seconds...
                litellm.ServiceUnavailableError: AnthropicException - 
                <html><body><h1>503</h1>upstream unavailable</body></html>. Handle with 
                `litellm.ServiceUnavailableError`.
                The API provider's servers are down or overloaded.
                Retrying in 4.0 seconds...
                litellm.ServiceUnavailableError: AnthropicException - 
                <html><body><h1>503</h1>upstream unavailable</body></html>. Handle with 
                `litellm.ServiceUnavailableError`.
                The API provider's servers are down or overloaded.
                Retrying in 8.0 seconds...
                litellm.ServiceUnavailableError: AnthropicException - 
                <html><body><h1>503</h1>upstream unavailable</body></html>. Handle with 
                `litellm.ServiceUnavailableError`.
                The API provider's servers are down or overloaded.
                Retrying in 16.0 seconds...
                litellm.ServiceUnavailableError: AnthropicException - 
                <html><body><h1>503</h1>upstream unavailable</body></html>. Handle with 
                `litellm.ServiceUnavailableError`.
                The API provider's servers are down or overloaded.
                Retrying in 32.0 seconds...
                litellm.ServiceUnavailableError: AnthropicException - 
                <html><body><h1>503</h1>upstream unavailable</body></html>. Handle with 
                `litellm.ServiceUnavailableError`.
                The API provider's servers are down or overloaded.

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 openai 502 html body", exit: 0,
            expect: .init(.overloaded, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: openai/gpt-4o with diff edit format
                Weak model: gpt-4o-mini
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.BadGatewayError: BadGatewayError: OpenAIException - 
                <html><body><h1>502</h1>upstream unavailable</body></html>
                The API provider's servers are down or overloaded.
                Retrying in 0.2 seconds...
                litellm.BadGatewayError: BadGatewayError: OpenAIException - 
                <html><body><h1>502</h1>upstream unavailable</body></html>
                The API provider's servers are down or overloaded.
                Retrying in 0.5 seconds...
                litellm.BadGatewayError: BadGatewayError: OpenAIException - 
                <html><body><h1>502</h1>upstream unavailable</body></html>
                The API provider's servers are down or overloaded.
                Retrying in 1.0 seconds...
                litellm.BadGatewayError: BadGatewayError: OpenAIException - 
                <html><body><h1>502</h1>upstream unavailable</body></html>
                The API provider's servers are down or overloaded.
                Retrying in 2.0 seconds...
                litellm.BadGatewayError: BadGatewayError: OpenAIException - 
                <html><body><h1>502</h1>upstream unavailable</body></html>
                The API provider's servers are down or overloaded.
                Retrying in 4.0 seconds...
                litellm.BadGatewayError: BadGatewayError: OpenAIException - 
                <html><body><h1>502</h1>upstream unavailable</body></html>
                The API provider's servers are down or overloaded.
                Retrying in 8.0 seconds...
                litellm.BadGatewayError: BadGatewayError: OpenAIException - 
                <html><body><h1>502</h1>upstream unavailable</body></html>
                The API provider's servers are down or overloaded.
                Retrying in 16.0 seconds...
                litellm.BadGatewayError: BadGatewayError: OpenAIException - 
                <html><body><h1>502</h1>upstream unavailable</body></html>
                The API provider's servers are down or overloaded.
                Retrying in 32.0 seconds...
                litellm.BadGatewayError: BadGatewayError: OpenAIException - 
                <html><body><h1>502</h1>upstream unavailable</body></html>
                The API provider's servers are down or overloaded.

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 openai 500 server_error", exit: 0,
            expect: .init(.overloaded, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: openai/gpt-4o with diff edit format
                Weak model: gpt-4o-mini
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.InternalServerError: InternalServerError: OpenAIException - The server 
                had an error while processing your request. Sorry about that!
                The API provider's servers are down or overloaded.
                Retrying in 0.2 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - The server 
                had an error while processing your request. Sorry about that!
                The API provider's servers are down or overloaded.
                Retrying in 0.5 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - The server 
                had an error while processing your request. Sorry about that!
                The API provider's servers are down or overloaded.
                Retrying in 1.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - The server 
                had an error while processing your request. Sorry about that!
                The API provider's servers are down or overloaded.
                Retrying in 2.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - The server 
                had an error while processing your request. Sorry about that!
                The API provider's servers are down or overloaded.
                Retrying in 4.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - The server 
                had an error while processing your request. Sorry about that!
                The API provider's servers are down or overloaded.
                Retrying in 8.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - The server 
                had an error while processing your request. Sorry about that!
                The API provider's servers are down or overloaded.
                Retrying in 16.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - The server 
                had an error while processing your request. Sorry about that!
                The API provider's servers are down or overloaded.
                Retrying in 32.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - The server 
                had an error while processing your request. Sorry about that!
                The API provider's servers are down or overloaded.

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic connection refused", exit: 0,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.InternalServerError: AnthropicException - [Errno 111] Connection 
                refused. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 0.2 seconds...
                litellm.InternalServerError: AnthropicException - [Errno 111] Connection 
                refused. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 0.5 seconds...
                litellm.InternalServerError: AnthropicException - [Errno 111] Connection 
                refused. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 1.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno 111] Connection 
                refused. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 2.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno 111] Connection 
                refused. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 4.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno 111] Connection 
                refused. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 8.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno 111] Connection 
                refused. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 16.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno 111] Connection 
                refused. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 32.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno 111] Connection 
                refused. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 openai connection refused", exit: 0,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: openai/gpt-4o with diff edit format
                Weak model: gpt-4o-mini
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.InternalServerError: InternalServerError: OpenAIException - Connection 
                error.
                The API provider's servers are down or overloaded.
                Retrying in 0.2 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - Connection 
                error.
                The API provider's servers are down or overloaded.
                Retrying in 0.5 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - Connection 
                error.
                The API provider's servers are down or overloaded.
                Retrying in 1.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - Connection 
                error.
                The API provider's servers are down or overloaded.
                Retrying in 2.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - Connection 
                error.
                The API provider's servers are down or overloaded.
                Retrying in 4.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - Connection 
                error.
                The API provider's servers are down or overloaded.
                Retrying in 8.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - Connection 
                error.
                The API provider's servers are down or overloaded.
                Retrying in 16.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - Connection 
                error.
                The API provider's servers are down or overloaded.
                Retrying in 32.0 seconds...
                litellm.InternalServerError: InternalServerError: OpenAIException - Connection 
                error.
                The API provider's servers are down or overloaded.

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic dns failure", exit: 0,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.InternalServerError: AnthropicException - [Errno -2] Name or service not
                known. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 0.2 seconds...
                litellm.InternalServerError: AnthropicException - [Errno -2] Name or service not
                known. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 0.5 seconds...
                litellm.InternalServerError: AnthropicException - [Errno -2] Name or service not
                known. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 1.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno -2] Name or service not
                known. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 2.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno -2] Name or service not
                known. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 4.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno -2] Name or service not
                known. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 8.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno -2] Name or service not
                known. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 16.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno -2] Name or service not
                known. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.
                Retrying in 32.0 seconds...
                litellm.InternalServerError: AnthropicException - [Errno -2] Name or service not
                known. Handle with `litellm.InternalServerError`.
                The API provider's servers are down or overloaded.

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic timeout", exit: 0,
            expect: .init(.connection, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.Timeout: AnthropicException - litellm.Timeout: Connection timed out 
                after 3.0 seconds.
                The API provider timed out without returning a response. They may be down or 
                overloaded.
                Retrying in 0.2 seconds...
                litellm.Timeout: AnthropicException - litellm.Timeout: Connection timed out 
                after 3.0 seconds.
                The API provider timed out without returning a response. They may be down or 
                overloaded.
                Retrying in 0.5 seconds...
                litellm.Timeout: AnthropicException - litellm.Timeout: Connection timed out 
                after 3.0 seconds.
                The API provider timed out without returning a response. They may be down or 
                overloaded.
                Retrying in 1.0 seconds...
                litellm.Timeout: AnthropicException - litellm.Timeout: Connection timed out 
                after 3.0 seconds.
                The API provider timed out without returning a response. They may be down or 
                overloaded.
                Retrying in 2.0 seconds...
                litellm.Timeout: AnthropicException - litellm.Timeout: Connection timed out 
                after 3.0 seconds.
                The API provider timed out without returning a response. They may be down or 
                overloaded.
                Retrying in 4.0 seconds...
                litellm.Timeout: AnthropicException - litellm.Timeout: Connection timed out 
                after 3.0 seconds.
                The API provider timed out without returning a response. They may be down or 
                overloaded.
                Retrying in 8.0 seconds...
                litellm.Timeout: AnthropicException - litellm.Timeout: Connection timed out 
                after 3.0 seconds.
                The API provider timed out without returning a response. They may be down or 
                overloaded.
                Retrying in 16.0 seconds...
                litellm.Timeout: AnthropicException - litellm.Timeout: Connection timed out 
                after 3.0 seconds.
                The API provider timed out without returning a response. They may be down or 
                overloaded.
                Retrying in 32.0 seconds...
                litellm.Timeout: AnthropicException - litellm.Timeout: Connection timed out 
                after 3.0 seconds.
                The API provider timed out without returning a response. They may be down or 
                overloaded.

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic 401 invalid x-api-key", exit: 0,
            expect: .init(.auth, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.AuthenticationError: AnthropicException - {"type": "error", "error": 
                {"type": "authentication_error", "message": "invalid x-api-key"}, "request_id": 
                "req_011CTzB1c2D3e4F5g6H7i8J9"}
                The API provider is not able to authenticate you. Check your API key.

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic 403 permission_error", exit: 0,
            expect: .init(.auth, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.APIConnectionError: AnthropicException - {"type": "error", "error": 
                {"type": "permission_error", "message": "Your API key does not have permission 
                to use the specified resource."}, "request_id": "req_011CTzC9d8E7f6G5h4I3j2K1"}
                Retrying in 0.2 seconds...
                litellm.APIConnectionError: AnthropicException - {"type": "error", "error": 
                {"type": "permission_error", "message": "Your API key does not have permission 
                to use the specified resource."}, "request_id": "req_011CTzC9d8E7f6G5h4I3j2K1"}
                Retrying in 0.5 seconds...
                litellm.APIConnectionError: AnthropicException - {"type": "error", "error": 
                {"type": "permission_error", "message": "Your API key does not have permission 
                to use the specified resource."}, "request_id": "req_011CTzC9d8E7f6G5h4I3j2K1"}
                Retrying in 1.0 seconds...
                litellm.APIConnectionError: AnthropicException - {"type": "error", "error": 
                {"type": "permission_error", "message": "Your API key does not have permission 
                to use the specified resource."}, "request_id": "req_011CTzC9d8E7f6G5h4I3j2K1"}
                Retrying in 2.0 seconds...
                litellm.APIConnectionError: AnthropicException - {"type": "error", "error": 
                {"type": "permission_error", "message": "Your API key does not have permission 
                to use the specified resource."}, "request_id": "req_011CTzC9d8E7f6G5h4I3j2K1"}
                Retrying in 4.0 seconds...
                litellm.APIConnectionError: AnthropicException - {"type": "error", "error": 
                {"type": "permission_error", "message": "Your API key does not have permission 
                to use the specified resource."}, "request_id": "req_011CTzC9d8E7f6G5h4I3j2K1"}
                Retrying in 8.0 seconds...
                litellm.APIConnectionError: AnthropicException - {"type": "error", "error": 
                {"type": "permission_error", "message": "Your API key does not have permission 
                to use the specified resource."}, "request_id": "req_011CTzC9d8E7f6G5h4I3j2K1"}
                Retrying in 16.0 seconds...
                litellm.APIConnectionError: AnthropicException - {"type": "error", "error": 
                {"type": "permission_error", "message": "Your API key does not have permission 
                to use the specified resource."}, "request_id": "req_011CTzC9d8E7f6G5h4I3j2K1"}
                Retrying in 32.0 seconds...
                litellm.APIConnectionError: AnthropicException - {"type": "error", "error": 
                {"type": "permission_error", "message": "Your API key does not have permission 
                to use the specified resource."}, "request_id": "req_011CTzC9d8E7f6G5h4I3j2K1"}

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 openai 401 invalid_api_key", exit: 0,
            expect: .init(.auth, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: openai/gpt-4o with diff edit format
                Weak model: gpt-4o-mini
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.AuthenticationError: AuthenticationError: OpenAIException - Incorrect 
                API key provided: sk-test. You can find your API key at 
                https://platform.openai.com/account/api-keys.
                The API provider is not able to authenticate you. Check your API key.

                https://platform.openai.com/account/api-keys

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic 400 prompt is too long", exit: 0,
            expect: .init(.contextTooLong, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.


                Tokens: 2.4k sent, 0 received. Cost: $0.0072 message, $0.0072 session.


                Model anthropic/claude-sonnet-4-20250514 has hit a token limit!
                Token counts below are approximate.

                Input tokens: ~1,698 of 1,000,000
                Output tokens: ~0 of 64,000
                Total tokens: ~1,698 of 1,000,000


                https://aider.chat/docs/troubleshooting/token-limits.html
                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 openai 400 context_length_exceeded", exit: 0,
            expect: .init(.contextTooLong, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: openai/gpt-4o with diff edit format
                Weak model: gpt-4o-mini
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.


                Tokens: 2.4k sent, 0 received. Cost: $0.0061 message, $0.0061 session.


                Model openai/gpt-4o has hit a token limit!
                Token counts below are approximate.

                Input tokens: ~2,462 of 128,000
                Output tokens: ~0 of 16,384
                Total tokens: ~2,462 of 128,000


                https://aider.chat/docs/troubleshooting/token-limits.html
                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
        FailureFixture(
            "aider-0.86.2 anthropic 413 request_too_large", exit: 0,
            expect: .init(.contextTooLong, status: nil, retryAfter: nil, source: "aider-text"),
            stdout: ###"""
                Analytics have been permanently disabled.

                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: /BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError("HTTPSConnection(host='raw.githubusercontent.com', port=443): Failed to resolve 'raw.githubusercontent.com' ([Errno -2] Name or service not known)"))
                Aider v0.86.2
                Main model: anthropic/claude-sonnet-4-20250514 with diff edit format, infinite 
                output
                Weak model: anthropic/claude-3-5-haiku-20241022
                Git repo: none
                Repo-map: disabled
                Added app.py to the chat.

                litellm.BadRequestError: AnthropicException - {"type": "error", "error": 
                {"type": "request_too_large", "message": "Request exceeds the maximum allowed 
                number of bytes."}, "request_id": "req_011CTzF1g2H3i4J5k6L7m8N9"}

                """### + "\n",
            stderr: ###"""
                Warning: Input is not a terminal (fd=0).
                """### + "\n"),
    ]
}
