"""Ends the windows of ``REALTIME_WRITE_DELAY`` for every socket of an
application in this process.

Under a write delay a push that follows another within the delay only
queues its frame (one that comes after a quiet moment is written at once,
see :meth:`Flusher.waits`). The first frame of a socket's window registers
the socket here, and when the window ends this thread writes all that
waited, in one write per socket
(:meth:`Connection.end_window <flask_realtime.connection.Connection.end_window>`).

It is one thread (a greenlet under gevent) for all sockets, rather than each
socket's own thread: waking 1,000 threads for each window made them fight
over the GIL with the pusher, and a fan-out of 100 pushes to 1,000 sockets
took 20 s instead of a fraction of one.
"""

from __future__ import annotations

import logging
import threading
import typing as t
from collections import deque
from time import monotonic

if t.TYPE_CHECKING:
    from .connection import Connection

logger = logging.getLogger("flask_realtime")


class Flusher:
    """Calls ``end_window()`` of each connection ``delay`` seconds after it
    :meth:`opens <open>` a window, on a thread of its own that ends when it
    has been idle for a second."""

    #: Seconds without windows after which the thread ends; the next window
    #: starts another.
    idle_timeout = 1.0

    def __init__(self, delay: float) -> None:
        #: Seconds a window lasts.
        self.delay = delay
        self._lock = threading.Lock()
        self._wake = threading.Event()
        # Windows by the time they end, which is also the order they opened
        # in: every window lasts the same.
        self._windows: deque[tuple[float, Connection]] = deque()
        self._thread: threading.Thread | None = None
        # What waits() decided for the latest push, and when a frame last
        # came; pushes come one at a time, under the hub's lock.
        self._deciding: bytes | None = None
        self._waiting = False
        self._last_frame_at = float("-inf")
        # Whether this thread is writing windows that have ended.
        self._ending = False

    def waits(self, frame: bytes) -> bool:
        """Whether ``frame`` waits for its socket's window, or is written at
        once.

        A push is written at once when this process was quiet before it: no
        frame came within the delay, and no window is open or being written.
        There is nothing to gather it with, and waiting would only add the
        delay to its latency. The pushes that follow within the delay wait,
        and go out together.

        Each subscriber of a push is handed the same frame object, so the
        first call for a frame decides for the whole push. Frames come here
        one push at a time, under the hub's lock; replies to clients'
        messages never come here, so that a client cannot keep the process
        looking busy. Either way a frame written at once goes after those
        waiting for its socket: the decision costs time, never order."""
        now = monotonic()
        if frame is not self._deciding:
            self._deciding = frame
            self._waiting = (
                self._ending
                or bool(self._windows)
                or now - self._last_frame_at < self.delay
            )
        self._last_frame_at = now
        return self._waiting

    def open(self, connection: Connection) -> None:
        """Have ``connection.end_window()`` called once ``delay`` has passed."""
        with self._lock:
            self._windows.append((monotonic() + self.delay, connection))
            if self._thread is None:
                self._start()
            elif len(self._windows) == 1:
                self._wake.set()  # it waits with nothing to end

    def _run(self) -> None:
        try:
            while (ended := self._wait_for_windows()) is not None:
                self._ending = True
                for connection in ended:
                    try:
                        connection.end_window()
                    except Exception:  # one socket must not stop the others
                        logger.exception("Writing a socket's frames failed")
                self._ending = False
        finally:
            self._ending = False
            with self._lock:
                self._thread = None
                # Opened as the thread was ending, or it was ended by
                # something no catch stops: the windows need another.
                if self._windows:
                    self._start()

    def _wait_for_windows(self) -> list[Connection] | None:
        """The connections whose windows have ended, once some have; None
        when there were none for ``idle_timeout``."""
        idle_until = monotonic() + self.idle_timeout
        while True:
            with self._lock:
                now = monotonic()
                ended = []
                while self._windows and self._windows[0][0] <= now:
                    ended.append(self._windows.popleft()[1])
                if ended:
                    return ended
                if self._windows:
                    timeout = self._windows[0][0] - now
                elif now >= idle_until:
                    return None
                else:
                    timeout = idle_until - now
                # Cleared under the lock: an open() from now on sets it.
                self._wake.clear()
            self._wake.wait(timeout)

    def _start(self) -> None:
        thread = threading.Thread(
            target=self._run, name="flask-realtime-flusher", daemon=True
        )
        try:
            thread.start()
        except RuntimeError:
            # Out of threads: the windows wait, and the next one to open
            # tries again. Never raised into the push that opened it.
            logger.exception("Could not start the thread that writes windows")
            return
        self._thread = thread
