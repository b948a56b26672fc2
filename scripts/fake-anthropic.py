#!/usr/bin/env python3
"""A scripted stand-in for the Anthropic Messages API, on loopback, for tests.

Real agent CLIs (Claude Code) point ANTHROPIC_BASE_URL at it and talk to it exactly as they
talk to the real API: POST /v1/messages, answered with server-sent events (message_start,
content_block_start, content_block_delta, content_block_stop, message_delta, message_stop)
or, when the request asks for no stream, one JSON message. What it answers is scripted.

    scripts/fake-anthropic.py --script SCRIPT.json [--port 0] [--port-file FILE]
                              [--log FILE] [--lifetime 300]

It listens on 127.0.0.1 only, prints its port on the first line of stdout (and writes it
to --port-file, atomically), and exits after --lifetime seconds, on SIGTERM, or as soon
as the process that started it is gone.

The script is JSON:

    {"rules": [
       {"match": ["Agent `w1`"], "steps": [STEP, STEP, ...]},
       {"match": [], "steps": [...]}
    ]}

For each request it reads the conversation: the rule is the first whose `match` strings
all occur in the text of the conversation's first user message (so one server can drive
many agents, told apart by their briefs), and the step is chosen by the conversation's
position, the number of assistant turns already in it. A step is one of:

    {"bash": "swarm progress --outputs 1 'read the code'", "text?": "...", "description?": "..."}
        a Bash tool call (with an optional text block before it); stop_reason tool_use
    {"tools": [{"bash": "..."}, {"bash": "..."}]}
        several Bash tool calls in one turn
    {"text": "All done."}
        a plain answer; stop_reason end_turn
    {"status": 529, "times": 2, "retry_after": "1", "should_retry": false, "message": "...", "type": "..."}
        an HTTP error with the API's error body (429 rate_limit_error, 529 overloaded_error,
        500 api_error, 401 authentication_error, 403 permission_error, 400
        invalid_request_error; `type` and `message` override them); `retry_after` sets the
        retry-after header, `should_retry` the x-should-retry header (Claude Code 2.1.330
        retries a 401, 429 or 500 ten times, about three minutes, unless told false). With
        `times`, only the first N requests at this position fail and the next step answers
        the ones after; without it, every request at this position fails.
    {"if_result_contains": "TEXT", "then": STEP, "else": STEP}
        chooses by the last tool_result in the conversation.

Any answering step may also say `"wait_for": "GLOB"`: the fake logs the request as
`"answer": "waiting"` at once, then answers only once a file matches GLOB (at most 60 s),
so that a test can act at a known point of the conversation.

A request past the last step gets the rule's last non-error step if it is plain text,
else the text "Nothing left to do." (so the CLI ends its turn). A request no rule matches
gets a 400 invalid_request_error naming the problem.

--log appends one JSON line per request: time, method, path, rule index, position, what
was answered, the text the conversation gained since its last assistant turn
(`since_last_turn`) and the request's input
tokens as the fake counts them (`input_tokens`: the request body's bytes / 4, the figure its
answers report as usage). Standard library only.
"""

import argparse
import glob
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback_server import ERROR_TYPES, serve_while_wanted, write_atomically  # noqa: E402

MODEL = "claude-sonnet-4-5-20250929"


def fail(message):
    sys.stderr.write("fake-anthropic: " + message + "\n")
    sys.exit(2)


def is_error_step(step):
    return isinstance(step, dict) and "status" in step


class Rule:
    """One rule of the script: its match strings, and its steps grouped by position."""

    def __init__(self, index, raw):
        self.index = index
        match = raw.get("match", [])
        if isinstance(match, str):
            match = [match]
        self.match = list(match)
        # positions[k] = (errors, answer): `errors` are (status step, times or None) answered
        # in order to the requests at position k; `answer` the step after them (None when an
        # error without `times` answers every request there).
        self.positions = []
        errors = []
        for step in raw.get("steps", []):
            if is_error_step(step):
                errors.append(step)
                if step.get("times") is None:
                    self.positions.append((errors, None))
                    errors = []
            else:
                self.positions.append((errors, step))
                errors = []
        if errors:
            self.positions.append((errors, None))
        self.served = {}  # position -> requests answered there

    def matches(self, first_user_text):
        return all(m in first_user_text for m in self.match)

    def step_for(self, position, conversation):
        """The step to answer the request at `position` with (counts the request)."""
        count = self.served.get(position, 0)
        self.served[position] = count + 1
        if position >= len(self.positions):
            last = self.positions[-1][1] if self.positions else None
            if isinstance(last, dict) and set(last.keys()) <= {"text"}:
                return last
            return {"text": "Nothing left to do."}
        errors, answer = self.positions[position]
        seen = 0
        for error in errors:
            times = error.get("times")
            if times is None or count < seen + times:
                return error
            seen += times
        return resolve(answer, conversation) if answer is not None else errors[-1]


def resolve(step, conversation):
    """Follows `if_result_contains` choices down to a concrete step."""
    while isinstance(step, dict) and "if_result_contains" in step:
        last = last_tool_result(conversation)
        step = step.get("then") if step["if_result_contains"] in last else step.get("else", {"text": "Nothing to do."})
    return step


def block_text(content):
    """All text inside a message's content (a string or a list of blocks), tool results too."""
    if isinstance(content, str):
        return content
    out = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                out.append(block.get("text", ""))
            elif block.get("type") == "tool_result":
                out.append(block_text(block.get("content", "")))
    return "\n".join(out)


def first_user_text(messages):
    for message in messages:
        if message.get("role") == "user":
            return block_text(message.get("content", ""))
    return ""


def text_since_last_turn(messages):
    """All text the conversation gained after its last assistant turn, whatever the role:
    tool results, and what the CLI adds beside them (Claude Code 2.1.330 puts a PostToolUse
    hook's additional context in a message of role system, a Stop hook's reason in a user one)."""
    out = []
    for message in reversed(messages):
        if message.get("role") == "assistant":
            break
        out.append(block_text(message.get("content", "")))
    return "\n".join(reversed(out))


def last_tool_result(messages):
    for message in reversed(messages):
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, list):
            results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
            if results:
                return "\n".join(block_text(b.get("content", "")) for b in results)
    return ""


def content_blocks(step):
    """The content blocks of an answering step, and its stop reason."""
    blocks = []
    if step.get("text"):
        blocks.append({"type": "text", "text": step["text"]})
    calls = list(step.get("tools", []))
    if "bash" in step:
        calls.append(step)
    for call in calls:
        tool_input = {"command": call["bash"]}
        tool_input["description"] = call.get("description", "Run a command")
        blocks.append({"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:24], "name": "Bash", "input": tool_input})
    if not blocks:
        blocks.append({"type": "text", "text": "OK."})
    stop = "tool_use" if calls else "end_turn"
    return blocks, stop


class State:
    def __init__(self, rules, log_path):
        self.rules = rules
        self.log_path = log_path
        self.lock = threading.Lock()
        self.requests = 0

    def log(self, entry):
        if not self.log_path:
            return
        entry["time"] = time.time()
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-anthropic/1"
    state = None  # set in main

    def log_message(self, format, *args):  # quiet: the --log file says what happened
        pass

    # -- plumbing

    def read_body(self):
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_json(self, status, document, headers=None):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("request-id", "req_" + uuid.uuid4().hex[:24])
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def send_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def send_event(self, name, document):
        self.send_chunk(("event: %s\ndata: %s\n\n" % (name, json.dumps(document))).encode())

    # -- routes

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self):
        self.read_body()
        self.state.log({"method": "GET", "path": self.path})
        if self.path.split("?")[0].rstrip("/") == "/v1/models":
            self.send_json(200, {"data": [{"type": "model", "id": MODEL, "display_name": "Fake"}], "has_more": False})
        else:
            self.send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "not found"}})

    def do_POST(self):
        raw = self.read_body()
        path = self.path.split("?")[0]
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            self.state.log({"method": "POST", "path": path, "answer": "bad json"})
            self.send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "body is not JSON"}})
            return
        if path.endswith("/count_tokens"):
            tokens = max(1, len(raw) // 4)
            self.state.log({"method": "POST", "path": path, "answer": "count_tokens"})
            self.send_json(200, {"input_tokens": tokens})
            return
        if not path.endswith("/v1/messages"):
            self.state.log({"method": "POST", "path": path, "answer": "404"})
            self.send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "no route " + path}})
            return
        messages = request.get("messages") or []
        first = first_user_text(messages)
        position = sum(1 for m in messages if m.get("role") == "assistant")
        with self.state.lock:
            self.state.requests += 1
            rule = next((r for r in self.state.rules if r.matches(first)), None)
            step = rule.step_for(position, messages) if rule else None
        entry = {
            "method": "POST",
            "path": path,
            "rule": rule.index if rule else None,
            "position": position,
            "stream": bool(request.get("stream")),
            "model": request.get("model"),
            "last_tool_result": last_tool_result(messages)[-2000:],
            "prompt_tail": first[-300:],
            "since_last_turn": text_since_last_turn(messages)[-4000:],
            "input_tokens": max(1, len(raw) // 4),
        }
        if step is None:
            entry["answer"] = "no rule"
            entry["prompt_tail"] = first[-4000:]
            self.state.log(entry)
            self.send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "fake-anthropic: no rule matches this conversation"}})
            return
        if is_error_step(step):
            self.answer_error(step, entry)
            return
        if isinstance(step, dict) and step.get("wait_for"):
            self.state.log(dict(entry, answer="waiting"))
            deadline = time.time() + 60
            while not glob.glob(step["wait_for"]) and time.time() < deadline:
                time.sleep(0.02)
        blocks, stop = content_blocks(step)
        entry["answer"] = stop
        entry["blocks"] = blocks
        self.state.log(entry)
        usage_in = max(1, len(raw) // 4)
        if request.get("stream"):
            self.answer_stream(request, blocks, stop, usage_in)
        else:
            message = self.message(request, blocks, stop, usage_in)
            self.send_json(200, message)

    def answer_error(self, step, entry):
        status = int(step["status"])
        kind, default_message = ERROR_TYPES.get(status, ("api_error", "Error"))
        headers = {}
        if step.get("retry_after") is not None:
            headers["retry-after"] = str(step["retry_after"])
        if "should_retry" in step:
            headers["x-should-retry"] = "true" if step["should_retry"] else "false"
        entry["answer"] = "error %d" % status
        self.state.log(entry)
        body = {
            "type": "error",
            "error": {"type": step.get("type", kind), "message": step.get("message", default_message)},
            "request_id": "req_" + uuid.uuid4().hex[:24],
        }
        self.send_json(status, body, headers)

    def message(self, request, blocks, stop, usage_in):
        return {
            "id": "msg_" + uuid.uuid4().hex[:24],
            "type": "message",
            "role": "assistant",
            "model": request.get("model") or MODEL,
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": usage_in, "output_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        }

    def answer_stream(self, request, blocks, stop, usage_in):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", "req_" + uuid.uuid4().hex[:24])
        self.end_headers()
        start = self.message(request, [], None, usage_in)
        start["usage"]["output_tokens"] = 1
        self.send_event("message_start", {"type": "message_start", "message": start})
        self.send_event("ping", {"type": "ping"})
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                self.send_event("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
                text = block["text"]
                for piece in [text[i:i + 40] for i in range(0, len(text), 40)] or [""]:
                    self.send_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}})
            else:
                start_block = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                self.send_event("content_block_start", {"type": "content_block_start", "index": index, "content_block": start_block})
                encoded = json.dumps(block["input"])
                for piece in [encoded[i:i + 40] for i in range(0, len(encoded), 40)]:
                    self.send_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": piece}})
            self.send_event("content_block_stop", {"type": "content_block_stop", "index": index})
        self.send_event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 12}})
        self.send_event("message_stop", {"type": "message_stop"})
        self.send_chunk(b"")  # the last chunk: zero length


def main():
    parser = argparse.ArgumentParser(description="A scripted fake Anthropic Messages API on 127.0.0.1.")
    parser.add_argument("--script", required=True, help="the JSON script (see the top of this file)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free one)")
    parser.add_argument("--port-file", help="write the port here (atomically) once listening")
    parser.add_argument("--log", help="append one JSON line per request here")
    parser.add_argument("--lifetime", type=float, default=300, help="exit after this many seconds (default 300)")
    args = parser.parse_args()

    try:
        with open(args.script, encoding="utf-8") as f:
            script = json.load(f)
    except (OSError, ValueError) as error:
        fail("cannot read the script %s: %s" % (args.script, error))
    if not isinstance(script, dict) or not isinstance(script.get("rules"), list):
        fail('the script must be a JSON object with a "rules" list')
    rules = [Rule(i, raw) for i, raw in enumerate(script["rules"])]

    Handler.state = State(rules, args.log)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        write_atomically(args.port_file, "%d\n" % port)
    sys.stdout.write("%d\n" % port)
    sys.stdout.flush()

    serve_while_wanted(server, args.lifetime)


if __name__ == "__main__":
    main()
