"""The JavaScript client in Node, against a real server: no page, no cookies.

``js/test/node/receive_pushes.js`` imports the package's ES module bundle by
the package's name, presents a socket key of its own, subscribes over the
HTTP fallback, connects, and prints the pushes this test makes.
"""

from __future__ import annotations

import json
import queue
import secrets
import shutil
import subprocess
import threading
import typing as t
from pathlib import Path

import pytest
from flask import Flask

from flask_realtime import Realtime

from ..conftest import require
from ..support import Browser
from ..support import LiveServer
from ..support import Page

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "js" / "test" / "node" / "receive_pushes.js"
#: Seconds any one line of the script's output may take.
TIMEOUT = 15


def node_command(implementation: str) -> list[str]:
    """How to run the script with ``implementation``: "ws", the ``ws``
    package passed in, or "global", the global WebSocket (Node 22 has one,
    Node 20 behind --experimental-websocket)."""
    node = shutil.which("node")
    if node is None:
        require("node")
    assert node is not None
    if implementation == "ws" and not (ROOT / "node_modules" / "ws").is_dir():
        require("the ws npm package (npm ci)")
    probe = [node, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"]
    flags = (
        [] if subprocess.run(probe).returncode == 0 else ["--experimental-websocket"]
    )
    return [node, *flags, str(SCRIPT)]


class Script:
    """The Node script, run in the background, read line by line."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="node-stdout")
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def next(self) -> t.Any:
        try:
            line = self.lines.get(timeout=TIMEOUT)
        except queue.Empty:
            pytest.fail(f"node printed nothing for {TIMEOUT} s")
        if line is None:
            pytest.fail(f"node ended early: {self.stderr()}")
        return json.loads(line)

    def wait(self) -> int:
        """The exit code: the script must end by itself once it closed."""
        code = self.process.wait(TIMEOUT)
        self._reader.join(TIMEOUT)
        return code

    def stderr(self) -> str:
        self.process.kill()
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(TIMEOUT)
        self._reader.join(TIMEOUT)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("implementation", ["ws", "global"])
def test_node_client_receives_pushes(
    app: Flask, realtime: Realtime, server: LiveServer, implementation: str
) -> None:
    command = node_command(implementation)
    # A page rendered for a client without cookies, under a key of its own.
    key = secrets.token_urlsafe(32)
    status, html = Browser(server.url).request(
        "/?channel=news", headers={"X-Realtime-Socket-Key": key}
    )
    assert status == 200
    connection_id = Page(Browser(server.url), html).connection_id
    assert connection_id is not None

    script = Script([*command, server.url, connection_id, key, implementation])
    try:
        # Over the HTTP fallback, with the key: the same id, now on "alerts".
        assert script.next() == {"call": 200, "sameId": True}
        assert script.next() == {"event": "open"}
        with app.app_context():
            realtime.push({"text": "to news"}, "news")
            realtime.push({"text": "to alerts"}, "alerts")
        assert script.next() == {"channel": "news", "payload": {"text": "to news"}}
        assert script.next() == {"channel": "alerts", "payload": {"text": "to alerts"}}
        assert script.next() == {"event": "close", "code": 1000, "state": "closed"}
        assert script.wait() == 0
    finally:
        script.stop()
