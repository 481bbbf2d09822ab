"""The test application, for servers started in another process."""

from __future__ import annotations

import os
import threading

from flask import request

from ..conftest import create_app

app = create_app(
    REALTIME_PING_INTERVAL=float(os.environ.get("TEST_REALTIME_PING_INTERVAL", 1)),
    REALTIME_MESSAGE_RATE=1e6,
    REALTIME_BACKEND=os.environ.get("TEST_REALTIME_BACKEND", "memory://"),
    REALTIME_HISTORY_SIZE=int(os.environ.get("TEST_REALTIME_HISTORY_SIZE", 100)),
)
realtime = app.extensions["test_realtime"]


@app.post("/push-from-thread")
def push_from_thread() -> tuple[str, int]:
    text = request.form["text"]
    thread = threading.Thread(target=realtime.push, args=({"text": text}, "chat"))
    thread.start()
    thread.join()
    return "", 204
