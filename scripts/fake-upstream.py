#!/usr/bin/env python3
"""A fake Anthropic Messages API whose behaviour can be switched while it runs, for chaos tests.

    scripts/fake-upstream.py --port-file FILE --count-file FILE [--mode-file FILE]
                             [--mode MODE] [--lifetime 120]

It listens on 127.0.0.1 only, on a port the system picks, and writes that port to
--port-file (atomically) once it listens. It exits after --lifetime seconds (default 120),
on SIGTERM, or as soon as the process that started it is gone.

Every request (every connection, for `down`) is answered as the mode says. The mode is the
first line of --mode-file, re-read on every request (a missing or empty file means --mode,
default 200):

    200                    a Messages API message (stop_reason end_turn)
    529 | 500 | 401 ...    that HTTP status with the API's error body
    429 retry-after=1      ... with a retry-after header (any status takes it)
    down                   the connection is closed at once, before the request is read

--count-file is rewritten (atomically) after each request: the total on the first line,
then one line per answer, `ANSWER COUNT` (e.g. `529 12`, `down 3`). Standard library only.
"""

import argparse
import json
import os
import socket
import struct
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback_server import ERROR_TYPES, serve_while_wanted, write_atomically  # noqa: E402


class Mode:
    """One parsed mode line."""

    def __init__(self, text):
        words = text.split()
        self.down = bool(words) and words[0] == "down"
        self.status = 200
        self.retry_after = None
        if self.down or not words:
            return
        try:
            self.status = int(words[0])
        except ValueError:
            self.status = 500
        for word in words[1:]:
            if word.startswith("retry-after="):
                self.retry_after = word[len("retry-after="):]

    @property
    def label(self):
        return "down" if self.down else str(self.status)


class State:
    def __init__(self, mode_file, default_mode, count_file):
        self.mode_file = mode_file
        self.default_mode = default_mode
        self.count_file = count_file
        self.lock = threading.Lock()
        self.total = 0
        self.by_answer = {}

    def mode(self):
        text = ""
        if self.mode_file:
            try:
                with open(self.mode_file, encoding="utf-8") as f:
                    text = f.readline().strip()
            except OSError:
                text = ""
        return Mode(text or self.default_mode)

    def count(self, label):
        with self.lock:
            self.total += 1
            self.by_answer[label] = self.by_answer.get(label, 0) + 1
            if self.count_file:
                lines = ["%d" % self.total] + ["%s %d" % (k, v) for k, v in sorted(self.by_answer.items())]
                write_atomically(self.count_file, "\n".join(lines) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    state = None

    def log_message(self, format, *args):  # quiet
        pass

    def handle(self):
        mode = self.state.mode()
        if mode.down:
            self.state.count("down")
            try:
                # RST rather than FIN: the client sees the connection fail, not an empty answer.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.close_connection = True
            return
        self.mode_now = mode
        super().handle()

    def send_json(self, status, document, headers=None):
        body = json.dumps(document).encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("request-id", "req_" + uuid.uuid4().hex[:24])
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):
        self.send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "POST /v1/messages"}})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        if length > 0:
            self.rfile.read(length)
        mode = self.mode_now
        self.state.count(mode.label)
        headers = {}
        if mode.retry_after is not None:
            headers["retry-after"] = mode.retry_after
        if 200 <= mode.status < 300:
            self.send_json(mode.status, {
                "id": "msg_" + uuid.uuid4().hex[:24],
                "type": "message",
                "role": "assistant",
                "model": "fake-upstream",
                "content": [{"type": "text", "text": "pong"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 4, "output_tokens": 1},
            }, headers)
            return
        kind, message = ERROR_TYPES.get(mode.status, ("api_error", "Error"))
        self.send_json(mode.status, {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": "req_" + uuid.uuid4().hex[:24],
        }, headers)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    parser = argparse.ArgumentParser(description="A fake Messages API on 127.0.0.1 whose answers a file switches.")
    parser.add_argument("--port-file", required=True, help="write the port here (atomically) once listening")
    parser.add_argument("--count-file", help="rewrite the request counts here after each request")
    parser.add_argument("--mode-file", help="read the mode from this file on every request")
    parser.add_argument("--mode", default="200", help="the mode while --mode-file is missing or empty (default 200)")
    parser.add_argument("--lifetime", type=float, default=120, help="exit after this many seconds (default 120)")
    args = parser.parse_args()

    Handler.state = State(args.mode_file, args.mode, args.count_file)
    if args.count_file:
        write_atomically(args.count_file, "0\n")
    server = Server(("127.0.0.1", 0), Handler)
    write_atomically(args.port_file, "%d\n" % server.server_address[1])

    serve_while_wanted(server, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
