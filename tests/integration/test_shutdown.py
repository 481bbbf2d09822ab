"""A process that stops drains its sockets: 1012 after what is queued."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from ..redis_server import free_port
from ..support import Browser
from ..support import Closed


def test_shutdown_flushes_closes_with_1012_and_refuses_new_sockets(
    server, browser, realtime
):
    first, second = browser.open("/"), browser.open("/")
    sockets = [first.connect(), second.connect()]
    for s in sockets:
        s.request("ping")
    realtime.push("last words", "chat")
    # In a thread: it waits for the sockets' close handshakes, which the
    # clients answer as they read.
    draining = threading.Thread(target=realtime.shutdown)
    draining.start()
    for s in sockets:
        assert s.receive()["payload"] == "last words"
        assert s.receive_close().code == 1012
        s.close()
    draining.join(30)
    late = browser.open("/").connect()
    assert late.receive_close().code == 1012


def test_ctrl_c_on_the_development_server_drains_its_sockets():
    port = free_port()
    script = (
        # As in a terminal: a test run started in the background (``cmd &``
        # in a script) ignores SIGINT, and the server would inherit that.
        "import signal\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from tests.conftest import create_app\n"
        f"create_app().run(port={port}, threaded=True)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    browser = Browser(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = browser.open("/")
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        socket = page.connect()
        socket.request("ping")
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            while True:
                socket.receive()
        except Closed as closed:
            assert closed.code == 1012
        socket.close()
        process.wait(30)
    finally:
        browser.close_all()
        if process.poll() is None:
            process.kill()
            process.wait(10)
