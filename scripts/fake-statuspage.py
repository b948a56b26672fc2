#!/usr/bin/env python3
"""A fake Statuspage (`GET /api/v2/summary.json`) whose answer a file switches, for tests.

    scripts/fake-statuspage.py --port-file FILE --page-file FILE [--count-file FILE]
                               [--lifetime 120]

It listens on 127.0.0.1 only, on a port the system picks, and writes that port to
--port-file (atomically) once it listens. It exits after --lifetime seconds (default 120),
on SIGTERM, or as soon as the process that started it is gone.

Every GET is answered from --page-file, read again on every request:

    a JSON body (e.g. Tests/SwarmProtocolTests/Fixtures/status-pages/summary-*.json)
                           200 with that body
    hang                   the request is read and never answered (a page that times out)
    status 503             that HTTP status with a short text body

--count-file is rewritten (atomically) after each request with the number of requests so far.
Standard library only.
"""

import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback_server import serve_while_wanted, write_atomically  # noqa: E402


class State:
    def __init__(self, page_file, count_file):
        self.page_file = page_file
        self.count_file = count_file
        self.lock = threading.Lock()
        self.total = 0

    def page(self):
        try:
            with open(self.page_file, "rb") as f:
                return f.read()
        except OSError:
            return b"status 404"

    def count(self):
        with self.lock:
            self.total += 1
            if self.count_file:
                write_atomically(self.count_file, "%d\n" % self.total)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    state = None

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self):
        self.state.count()
        body = self.state.page()
        words = body.split(None, 2)
        if body.strip() == b"hang":
            time.sleep(3600)
            return
        status = 200
        if len(words) >= 2 and words[0] == b"status":
            status = int(words[1])
            body = b"fake status page: status %d\n" % status
        self.send_response(status)
        self.send_header("content-type", "application/json" if status == 200 else "text/plain")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser(description="A fake Statuspage summary.json on 127.0.0.1.")
    parser.add_argument("--port-file", required=True, help="write the port here (atomically) once listening")
    parser.add_argument("--page-file", required=True, help="answer every GET from this file, read each time")
    parser.add_argument("--count-file", help="rewrite the request count here after each request")
    parser.add_argument("--lifetime", type=float, default=120, help="exit after this many seconds (default 120)")
    args = parser.parse_args()

    Handler.state = State(args.page_file, args.count_file)
    if args.count_file:
        write_atomically(args.count_file, "0\n")
    server = Server(("127.0.0.1", 0), Handler)
    write_atomically(args.port_file, "%d\n" % server.server_address[1])
    serve_while_wanted(server, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
