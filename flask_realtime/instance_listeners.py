"""``realtime.listen()``: functions of this process that receive a channel's
pushes, as a page's socket does.

A listener is subscribed to its channel in the backend's hub like a
connection, so a push reaches it by the same path, from any process on
Redis. The hub hands it frames while holding its lock, so the function does
not run there: frames wait in a queue that one thread of the app's empties.
A slow or failing function delays other listeners, never a socket.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import typing as t
from time import monotonic

from . import frames

logger = logging.getLogger("flask_realtime")

ListenerFunction = t.Callable[[t.Any], object]


class InstanceListener:
    """What the hub sees of one ``listen()`` call: a subscriber that never
    closes and that no push excludes."""

    #: No page's id: ``push(exclude=...)`` never names a listener.
    connection_id = ""

    def __init__(self, function: ListenerFunction, dispatcher: Dispatcher) -> None:
        self.function = function
        self._dispatcher = dispatcher

    def send_frame(self, frame: bytes) -> None:
        self._dispatcher.put(self.function, frame)

    def close(self, code: int, reason: str = "") -> None:
        pass  # a listener ends only when it stops listening


class Dispatcher:
    """Runs listener functions on a thread of its own, in the order their
    pushes arrived."""

    #: Frames that may wait for slow functions; past it new ones are dropped
    #: (and counted in a warning), as a push that finds a socket's backlog
    #: full is.
    max_pending = 10_000
    #: Seconds between two warnings about dropped frames.
    drop_log_interval = 10.0

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[ListenerFunction, bytes]] = queue.Queue(
            self.max_pending
        )
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._dropped = 0
        self._next_drop_log = 0.0

    def put(self, function: ListenerFunction, frame: bytes) -> None:
        try:
            self._queue.put_nowait((function, frame))
        except queue.Full:
            self._note_drop()
            return
        self._restart()

    def _run(self) -> None:
        try:
            while True:
                try:
                    function, frame = self._queue.get(timeout=5.0)
                except queue.Empty:
                    with self._lock:
                        if self._queue.empty():  # idle: the next put starts one
                            return
                    continue
                self._call(function, frame)
        finally:
            with self._lock:
                self._thread = None
            if not self._queue.empty():  # ended by something no catch stops
                self._restart()

    def _call(self, function: ListenerFunction, frame: bytes) -> None:
        channel = "?"
        try:
            message = json.loads(frames.unframe(frame)[1])
            channel = str(message.get("channel"))[:100]
            if "payload" not in message:
                return  # a gap frame: listeners have no positions to keep
            function(message["payload"])
        # BaseException too: a listener's SystemExit, or gevent's Timeout,
        # must not end delivery to every other listener.
        except BaseException:
            logger.exception("A listener of channel %r failed", channel)

    def _restart(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="flask-realtime-listen", daemon=True
                )
                self._thread.start()

    def _note_drop(self) -> None:
        with self._lock:
            self._dropped += 1
            if monotonic() < self._next_drop_log:
                return
            self._next_drop_log = monotonic() + self.drop_log_interval
            dropped, self._dropped = self._dropped, 0
        logger.warning(
            "%d push(es) dropped: realtime.listen() functions are %d behind",
            dropped,
            self.max_pending,
        )
