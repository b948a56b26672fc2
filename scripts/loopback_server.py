"""What the loopback fakes of the test suite share (scripts/fake-anthropic.py and
scripts/fake-upstream.py): writing a file whole, and serving until the test that started
the server is gone, its lifetime is over, or SIGTERM arrives."""
import os
import signal
import threading
import time


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
