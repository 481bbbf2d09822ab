"""The default backend: everything in this process's memory."""

from __future__ import annotations

import dataclasses
import heapq
import threading
import typing as t
from time import monotonic

from ..errors import ConnectionIdRefused
from ..hub import LocalHub
from .base import Backend

if t.TYPE_CHECKING:
    from ..connection import Connection


@dataclasses.dataclass
class _Socket:
    channels: set[str] = dataclasses.field(default_factory=set)
    connection: Connection | None = None
    #: Monotonic time after which a pending or disconnected socket is
    #: forgotten; None while a connection is attached.
    expires_at: float | None = None


class MemoryBackend(Backend):
    """Keeps subscriptions in a dict and delivers through a :class:`LocalHub`.

    Expired sockets are swept as a side effect of other calls, from a heap of
    deadlines, so no thread is needed and the cost is logarithmic.
    """

    def __init__(self, *, connect_timeout: float, disconnect_grace: float) -> None:
        self.hub = LocalHub()
        self._connect_timeout = connect_timeout
        self._disconnect_grace = disconnect_grace
        self._lock = threading.Lock()
        self._sockets: dict[str, _Socket] = {}
        # (expires_at, digest); entries go stale when a socket connects or is
        # forgotten, and the sweep skips those.
        self._deadlines: list[tuple[float, str]] = []

    def issue(self, digest: str) -> None:
        with self._lock:
            now = monotonic()
            self._sweep(now)
            self._sockets[digest] = _Socket()
            self._expire_later(digest, now + self._connect_timeout)

    def is_known(self, digest: str) -> bool:
        with self._lock:
            return self._find(digest, monotonic()) is not None

    def subscribe(self, digest: str, channels: t.Collection[str]) -> None:
        with self._lock:
            socket = self._find(digest, monotonic())
            if socket is None:
                return
            socket.channels.update(channels)
            if socket.connection is not None:
                self.hub.add(socket.connection, channels)

    def unsubscribe(self, digest: str, channels: t.Collection[str]) -> None:
        with self._lock:
            socket = self._find(digest, monotonic())
            if socket is None:
                return
            socket.channels.difference_update(channels)
            if socket.connection is not None:
                self.hub.remove(socket.connection, channels)

    def attach(self, digest: str, connection: Connection) -> Connection | None:
        with self._lock:
            now = monotonic()
            self._sweep(now)
            socket = self._find(digest, now)
            if socket is None:
                raise ConnectionIdRefused(digest)
            replaced = socket.connection
            if replaced is not None:
                self.hub.remove(replaced, socket.channels)
            socket.connection = connection
            socket.expires_at = None
            self.hub.add(connection, socket.channels)
            return replaced

    def detach(self, digest: str, connection: Connection, *, forget: bool) -> None:
        with self._lock:
            now = monotonic()
            socket = self._sockets.get(digest)
            if socket is None or socket.connection is not connection:
                return
            self.hub.remove(connection, socket.channels)
            socket.connection = None
            if forget:
                del self._sockets[digest]
            else:
                self._expire_later(digest, now + self._disconnect_grace)
            self._sweep(now)

    def publish(self, channel: str, frame: bytes) -> None:
        self.hub.deliver(channel, frame)

    def socket_count(self) -> int:
        """How many sockets are remembered, live or not (for tests)."""
        with self._lock:
            self._sweep(monotonic())
            return len(self._sockets)

    # The lock is held by the callers of these.

    def _find(self, digest: str, now: float) -> _Socket | None:
        socket = self._sockets.get(digest)
        if socket is None:
            return None
        if socket.expires_at is not None and socket.expires_at <= now:
            del self._sockets[digest]
            return None
        return socket

    def _expire_later(self, digest: str, expires_at: float) -> None:
        self._sockets[digest].expires_at = expires_at
        heapq.heappush(self._deadlines, (expires_at, digest))

    def _sweep(self, now: float) -> None:
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            expires_at, digest = heapq.heappop(deadlines)
            socket = self._sockets.get(digest)
            if socket is not None and socket.expires_at == expires_at:
                del self._sockets[digest]
