"""The test application, for servers started in another process."""

from __future__ import annotations

import os
import threading

from flask import g
from flask import render_template_string
from flask import request

from ..conftest import create_app

app = create_app(
    REALTIME_PING_INTERVAL=float(os.environ.get("TEST_REALTIME_PING_INTERVAL", 1)),
    REALTIME_MESSAGE_RATE=1e6,
    REALTIME_BACKEND=os.environ.get("TEST_REALTIME_BACKEND", "memory://"),
    REALTIME_HISTORY_SIZE=int(os.environ.get("TEST_REALTIME_HISTORY_SIZE", 100)),
    REALTIME_DISCONNECT_GRACE=float(
        os.environ.get("TEST_REALTIME_DISCONNECT_GRACE", 120)
    ),
    REALTIME_WRITE_DELAY=float(os.environ.get("TEST_REALTIME_WRITE_DELAY", 0)),
)
realtime = app.extensions["test_realtime"]


@app.post("/push-many")
def push_many() -> tuple[str, int]:
    # A burst, as one request of an application may push.
    for n in range(int(request.form["n"])):
        realtime.push({"n": n}, "chat")
    return "", 204


@app.get("/sockets-open")
def sockets_open() -> str:
    return str(realtime.stats()["sockets_open"])


@app.post("/push-from-thread")
def push_from_thread() -> tuple[str, int]:
    text = request.form["text"]
    thread = threading.Thread(target=realtime.push, args=({"text": text}, "chat"))
    thread.start()
    thread.join()
    return "", 204


#: A page for a real browser: realtime.js, every payload pushed to "chat" in
#: ``window.received``, the code of every close in ``window.closes``, and
#: every ``missed`` event in ``window.missed``.
LIVE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>live</title>
<link rel="icon" href="data:,"></head>
<body>
  <p id="status">not connected</p>
  {{ realtime_script() }}
  <script type="module">
    const status = document.getElementById("status")
    window.received = []
    window.closes = []
    window.missed = []
    window.reconnects = 0
    realtime.on("chat", (payload) => window.received.push(payload))
    realtime.onEvent("open", () => { status.textContent = "connected" })
    realtime.onEvent("close", ({ code }) => {
      window.closes.push(code)
      status.textContent = "disconnected"
    })
    realtime.onEvent("reconnected", () => { window.reconnects += 1 })
    realtime.onEvent("missed", (info) => window.missed.push(info))
  </script>
</body></html>
"""


@app.get("/live")
def live() -> str:
    g.socket.subscribe("chat")
    return render_template_string(LIVE_PAGE)
