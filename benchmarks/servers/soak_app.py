"""flask-realtime for the soak (``benchmarks/soak.py``): short lifetimes, many
channels, pushes from inside the server, and a window on what it holds.

- ``GET /page?c=c001&c=c017`` subscribes the page's socket to the channels;
- ``POST /soak/push`` with ``{"pushes": [[channel, seq], ...], "size": n}``
  pushes ``{"s": seq, "p": "xx…"}`` to each channel, in the list's order;
- ``GET /soak/events?id=ID`` tells when the server issued the id, and when
  its sockets' upgrade requests arrived, attached and ended, by the server's
  clock, so that the soak can tell a late acceptance from a machine that was
  slow to notice a drop;
- ``GET /soak/stats`` tells how many entries each container of the backend,
  its hub and the rate limits holds, and how many Python objects and threads
  the process has; with ``?types=1`` also the commonest types of object, and
  with ``?collect=1`` it runs the garbage collector first.

The lifetimes are short, so that ids expire, grace periods end and channel
histories are forgotten many times in a run; ``SOAK_*`` environment variables
set them, ``BENCH_REALTIME_BACKEND`` the backend (as for the benchmarks).
"""

from __future__ import annotations

import collections
import gc
import logging
import os
import threading
import time
import typing as t

from flask import Flask
from flask import g
from flask import request

from flask_realtime import Realtime
from flask_realtime.signals import socket_connected
from flask_realtime.signals import socket_disconnected

PAGE = "<!doctype html><html><head><title>soak</title></head><body>soak</body></html>"

app = Flask(__name__)
app.config.update(
    SECRET_KEY="soak",
    REALTIME_CONNECT_TIMEOUT=float(os.environ.get("SOAK_CONNECT_TIMEOUT", "2")),
    REALTIME_DISCONNECT_GRACE=float(os.environ.get("SOAK_DISCONNECT_GRACE", "3")),
    REALTIME_HISTORY_TTL=float(os.environ.get("SOAK_HISTORY_TTL", "10")),
    REALTIME_PING_INTERVAL=float(os.environ.get("SOAK_PING_INTERVAL", "10")),
    REALTIME_BACKEND=os.environ.get("BENCH_REALTIME_BACKEND", "memory://"),
)
realtime = Realtime(app)
# Werkzeug logs every request to stderr; the soak makes thousands.
logging.getLogger("werkzeug").setLevel(logging.ERROR)


#: Each id's events, for the last ``MAX_IDS`` ids: bounded, like everything
#: the soak watches.
MAX_IDS = 2000
_events: collections.OrderedDict[str, list[tuple[float, str]]] = (
    collections.OrderedDict()
)
_events_lock = threading.Lock()


def record(connection_id: str, event: str) -> None:
    with _events_lock:
        events = _events.get(connection_id)
        if events is None:
            events = _events[connection_id] = []
            if len(_events) > MAX_IDS:
                _events.popitem(last=False)
        if len(events) < 20:
            events.append((time.monotonic(), event))


@app.before_request
def on_upgrade() -> None:
    # Runs for the socket's upgrade request too, before it is attached.
    if request.path == "/_realtime" and "socket_connection_id" in request.args:
        record(request.args["socket_connection_id"], "upgrade")


@socket_connected.connect_via(app)
def on_connected(sender: Flask, connection_id: str, **kwargs: t.Any) -> None:
    record(connection_id, "connected")


@socket_disconnected.connect_via(app)
def on_disconnected(
    sender: Flask, connection_id: str, code: int | None, clean: bool, **kwargs: t.Any
) -> None:
    record(connection_id, f"ended {code} {'clean' if clean else 'abnormal'}")


@app.get("/soak/events")
def events() -> dict[str, t.Any]:
    """``?id=ID``: the id's events; ``?clear=1``: forget every id's."""
    with _events_lock:
        if "clear" in request.args:
            _events.clear()
        found = list(_events.get(request.args.get("id", ""), []))
    return {"events": found, "now": time.monotonic()}


@app.get("/health")
def health() -> str:
    return "ok"


@app.get("/page")
def page() -> str:
    g.socket.subscribe(*request.args.getlist("c"))
    record(g.socket.connection_id, "issued")
    return PAGE


@app.post("/soak/push")
def push() -> dict[str, int]:
    body = request.get_json()
    padding = "x" * int(body.get("size", 60))
    for channel, seq in body["pushes"]:
        realtime.push({"s": seq, "p": padding}, channel)
    return {"n": len(body["pushes"])}


def _sizes(owner: object, prefix: str, depth: int = 1) -> dict[str, int]:
    """The number of entries of each container attribute of ``owner``, and
    of the library's own objects it holds (``depth`` levels down).

    Only ``len()`` of each, which is safe while other threads change them,
    and nothing that would sweep or otherwise change what is measured. The
    attributes are found by type, so that the figures follow the library's
    internals as they change.
    """
    kinds = (dict, list, set, collections.deque)
    found = {}
    for name, value in list(vars(owner).items()):
        if isinstance(value, kinds):
            found[f"{prefix}{name}"] = len(value)
        elif (
            depth
            and type(value).__module__.startswith("flask_realtime")
            and hasattr(value, "__dict__")
        ):
            found.update(_sizes(value, f"{prefix}{name}.", depth - 1))
    return found


@app.get("/soak/stats")
def stats() -> dict[str, t.Any]:
    state = realtime._state(app)  # the soak looks inside on purpose
    backend = state.backend
    containers = _sizes(backend, "backend.")
    rate_limits = getattr(state, "rate_limits", None)
    if rate_limits is not None:
        containers.update(_sizes(rate_limits, "rate_limits."))
    if "collect" in request.args:
        gc.collect()
    objects = gc.get_objects()
    result: dict[str, t.Any] = {
        "containers": containers,
        "objects": len(objects),
        "threads": threading.active_count(),
    }
    if "types" in request.args:
        kinds = collections.Counter(type(o).__qualname__ for o in objects)
        result["types"] = dict(kinds.most_common(40))
    del objects
    return result
