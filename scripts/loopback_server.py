"""What the loopback fakes of the test suite share (scripts/fake-anthropic.py and
scripts/fake-upstream.py): the Anthropic API's error types, writing a file whole, and
serving until the test that started the server is gone, its lifetime is over, or SIGTERM
arrives."""
import os
import signal
import threading
import time

# The error type and message the Anthropic Messages API answers with, by HTTP status.
ERROR_TYPES = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "Not found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    500: ("api_error", "Internal server error"),
    502: ("api_error", "Bad gateway"),
    503: ("api_error", "Service unavailable"),
    529: ("overloaded_error", "Overloaded"),
}



def write_atomically(path, text):
    """Writes `text` to a temporary file beside `path`, then renames it over `path`."""
    temporary = "%s.%d.tmp" % (path, os.getpid())
    with open(temporary, "w") as f:
        f.write(text)
    os.rename(temporary, path)


def serve_while_wanted(server, lifetime):
    """Serves `server` until its parent process (the test) ends, `lifetime` seconds pass or
    SIGTERM arrives, so that a crashed test never leaves a server behind; then closes it."""
    parent = os.getppid()
    deadline = time.monotonic() + lifetime

    def watchdog():
        while time.monotonic() < deadline and os.getppid() == parent:
            time.sleep(0.2)
        server.shutdown()

    threading.Thread(target=watchdog, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
