"""The default backend: everything in this process's memory."""

from __future__ import annotations

import dataclasses
import heapq
import threading
import typing as t
from collections import deque
from time import monotonic

from ..errors import ConnectionIdRefused
from ..errors import TooManyChannels
from ..history import frame_with_position
from ..history import new_epoch
from ..history import Replay
from ..history import replay
from ..hub import LocalHub
from ..protocol import CLOSE_SESSION_ENDED
from ..pushing import Excluded
from ..pushing import NOBODY
from .base import Backend
from .base import replay_plan

if t.TYPE_CHECKING:
    from ..connection import Connection
    from ..instance_listeners import InstanceListener


@dataclasses.dataclass
class _Socket:
    #: Subscribed channels, each with its position when it was subscribed.
    channels: dict[str, str] = dataclasses.field(default_factory=dict)
    connection: Connection | None = None
    #: Monotonic time after which a pending or disconnected socket is
    #: forgotten; None while a connection is attached.
    expires_at: float | None = None
    attached_before: bool = False
    #: The browser session it was issued in.
    session: str = ""


@dataclasses.dataclass
class _ChannelLog:
    epoch: str
    touched: float
    seq: int = 0
    entries: deque[tuple[int, float, bytes, Excluded]] = dataclasses.field(
        default_factory=deque
    )


class MemoryBackend(Backend):
    """Keeps subscriptions in a dict and delivers through a :class:`LocalHub`.

    Expired sockets are swept as a side effect of other calls, from a heap of
    deadlines, so no thread is needed and the cost is logarithmic.
    """

    def __init__(
        self,
        *,
        connect_timeout: float,
        disconnect_grace: float,
        history_size: int = 100,
        history_ttl: float = 300,
        max_channels: int = 100,
    ) -> None:
        self.hub = LocalHub()
        self._max_channels = max_channels
        self._connect_timeout = connect_timeout
        self._disconnect_grace = disconnect_grace
        self._history_size = history_size
        self._history_ttl = history_ttl
        self._lock = threading.Lock()
        # Pushes take this one: a channel's positions are given, recorded and
        # delivered in one order.
        self._push_lock = threading.Lock()
        self._logs: dict[str, _ChannelLog] = {}
        self._next_log_sweep = 0.0
        self._sockets: dict[str, _Socket] = {}
        # (expires_at, digest); entries go stale when a socket connects or is
        # forgotten, and the sweep skips those.
        self._deadlines: list[tuple[float, str]] = []

    def issue(self, digest: str, session: str = "") -> None:
        with self._lock:
            now = monotonic()
            self._sweep(now)
            self._sockets[digest] = _Socket(session=session)
            self._expire_later(digest, now + self._connect_timeout)

    def is_known(self, digest: str) -> bool:
        with self._lock:
            return self._find(digest, monotonic()) is not None

    def subscribe(self, digest: str, channels: t.Collection[str]) -> None:
        positions = {channel: self._position(channel) for channel in channels}
        with self._lock:
            socket = self._find(digest, monotonic())
            if socket is None:
                return
            new = {c: p for c, p in positions.items() if c not in socket.channels}
            if len(socket.channels) + len(new) > self._max_channels:
                raise TooManyChannels(self._max_channels)
            socket.channels.update(new)
            if socket.connection is not None:
                self.hub.add(socket.connection, new)

    def unsubscribe(self, digest: str, channels: t.Collection[str]) -> None:
        with self._lock:
            socket = self._find(digest, monotonic())
            if socket is None:
                return
            for channel in channels:
                socket.channels.pop(channel, None)
            if socket.connection is not None:
                self.hub.remove(socket.connection, channels)

    def attach(
        self,
        digest: str,
        connection: Connection,
        positions: t.Mapping[str, str] | None = None,
    ) -> Connection | None:
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
            since = replay_plan(socket.channels, positions, socket.attached_before)
            socket.attached_before = True
            self.hub.add(connection, socket.channels, catch_up=bool(since))
        if since:
            self.hub.finish_catch_up(
                connection, {c: self._replay(c, p) for c, p in since.items()}
            )
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

    def listen(self, channel: str, listener: InstanceListener) -> None:
        self.hub.add(listener, [channel])

    def unlisten(self, channel: str, listener: InstanceListener) -> None:
        self.hub.remove(listener, [channel])

    def disconnect(
        self, *, channels: t.Collection[str] = (), sessions: t.Collection[str] = ()
    ) -> None:
        # A scan: ending sessions is rare next to pushes, which it spares an
        # index to keep up to date.
        ended: list[Connection] = []
        with self._lock:
            for digest, socket in list(self._sockets.items()):
                if socket.session not in sessions and socket.channels.keys().isdisjoint(
                    channels
                ):
                    continue
                del self._sockets[digest]
                if socket.connection is not None:
                    self.hub.remove(socket.connection, socket.channels)
                    ended.append(socket.connection)
        for connection in ended:
            connection.close(CLOSE_SESSION_ENDED, "session ended")

    def publish(self, channel: str, head: bytes, excluded: Excluded = NOBODY) -> None:
        with self._push_lock:
            now = monotonic()
            log = self._log(channel, now)
            log.seq += 1
            position = f"{log.epoch}:{log.seq}"
            frame = frame_with_position(head, position)
            if self._history_size:
                log.entries.append((log.seq, now, frame, excluded))
                if len(log.entries) > self._history_size:
                    log.entries.popleft()
            self.hub.deliver(channel, position, frame, excluded)

    def _position(self, channel: str) -> str:
        with self._push_lock:
            log = self._log(channel, monotonic())
            return f"{log.epoch}:{log.seq}"

    def _replay(self, channel: str, since: str) -> Replay:
        with self._push_lock:
            log = self._log(channel, monotonic())
            entries = [
                (seq, frame, excluded) for seq, _, frame, excluded in log.entries
            ]
            return replay(since, log.epoch, log.seq, entries)

    def _log(self, channel: str, now: float) -> _ChannelLog:
        """The channel's log, pruned of entries past the history TTL; the push
        lock is held. Logs idle for longer than the TTL are forgotten, which
        starts a new epoch for their channel."""
        if now >= self._next_log_sweep:
            self._next_log_sweep = now + self._history_ttl / 4
            idle = [
                c
                for c, log in self._logs.items()
                if now - log.touched > self._history_ttl
            ]
            for name in idle:
                del self._logs[name]
        log = self._logs.get(channel)
        if log is None:
            log = self._logs[channel] = _ChannelLog(new_epoch(), now)
        log.touched = now
        entries = log.entries
        while entries and now - entries[0][1] > self._history_ttl:
            entries.popleft()
        return log

    def stats(self) -> dict[str, t.Any]:
        now = monotonic()
        with self._lock:
            sockets = list(self._sockets.values())  # the scan runs unlocked
        waiting = [
            s
            for s in sockets
            if s.connection is None and (s.expires_at is None or s.expires_at > now)
        ]
        in_grace = sum(s.attached_before for s in waiting)
        return {
            "backend": "memory",
            "ids_pending": len(waiting) - in_grace,
            "ids_in_grace": in_grace,
            "channels": self.hub.channel_count(),
            "frames_delivered": self.hub.delivered,
        }

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
