"""What every benchmark application shares: the payload and the push route.

Each application pushes from inside the server process, as a real
application does: ``POST /push?n=100&size=100&kind=f&interval=0`` pushes ``n``
messages in a loop and answers when the loop is done.
"""

from __future__ import annotations

import cProfile
import json
import logging
import os
import time
import typing as t

from flask import Flask
from flask import request

#: The channel (Flask-SocketIO: room) every benchmark client subscribes to.
CHANNEL = "bench"

PAGE = "<!doctype html><html><head><title>bench</title></head><body>bench</body></html>"


def make_message(kind: str, index: int, size: int) -> dict[str, t.Any]:
    """A message whose compact JSON is exactly ``size`` bytes (when ``size``
    is above the 40 or so bytes of its fields).

    ``t`` is the time of the push, as fixed-width text so that the size does
    not vary; ``k`` tells the generator which phase the message belongs to.
    """
    message: dict[str, t.Any] = {
        "t": f"{time.time():.6f}",
        "i": index,
        "k": kind,
        "p": "",
    }
    used = len(json.dumps(message, separators=(",", ":")))
    message["p"] = "x" * max(0, size - used)
    return message


def add_routes(app: Flask, push: t.Callable[[dict[str, t.Any]], None]) -> None:
    """Add ``GET /health`` and ``POST /push`` to ``app``.

    ``push`` sends one message to every subscriber, the library's way.
    """
    # Werkzeug logs every request to stderr, which costs CPU in the server.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.post("/push")
    def push_route() -> dict[str, t.Any]:
        count = request.args.get("n", 1, type=int)
        size = request.args.get("size", 100, type=int)
        kind = request.args.get("kind", "f")
        interval = request.args.get("interval", 0.0, type=float)
        # With ?profile=1 the loop runs under cProfile, which sees only this
        # thread (or greenlet): the pushes, and what the library does in them.
        profile_path = os.environ.get("BENCH_PROFILE_PATH")
        profiler = (
            cProfile.Profile() if profile_path and "profile" in request.args else None
        )
        started = time.monotonic()
        first = time.time()
        if profiler is not None:
            profiler.enable()
        for index in range(count):
            if interval:
                delay = started + index * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            push(make_message(kind, index, size))
        last = time.time()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_path)
        return {"n": count, "first": first, "last": last}
