"""flask-realtime: ``GET /`` subscribes the page's socket to the channel."""

from __future__ import annotations

import os

from flask import Flask
from flask import g

from flask_realtime import Realtime

from .common import add_routes
from .common import CHANNEL
from .common import PAGE

app = Flask(__name__)
app.config.update(
    SECRET_KEY="benchmark",
    # Limits that would otherwise end a run early or add pings to it.
    REALTIME_PING_INTERVAL=3600,
    REALTIME_MAX_BACKLOG=64 * 1024 * 1024,
    REALTIME_MESSAGE_RATE=1e6,
    REALTIME_MESSAGE_BURST=1_000_000,
    REALTIME_CONNECT_TIMEOUT=600,
    # run.py --write-delay MS.
    REALTIME_WRITE_DELAY=float(os.environ.get("BENCH_WRITE_DELAY", 0)),
    # The Redis targets set this to their own redis-server.
    REALTIME_BACKEND=os.environ.get("BENCH_REALTIME_BACKEND", "memory://"),
)
realtime = Realtime(app)


@app.get("/")
def index() -> str:
    g.socket.subscribe(CHANNEL)
    return PAGE


add_routes(app, lambda message: realtime.push(message, CHANNEL))
