"""The default backend: everything in this process's memory."""

from __future__ import annotations

import dataclasses
import heapq
import logging
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
from ..presence import diff_frame
from ..presence import Member
from ..presence import not_subscribed
from ..presence import Roster
from ..presence import state_frame
from ..protocol import CLOSE_SESSION_ENDED
from ..pushing import Excluded
from ..pushing import NOBODY
from .base import Backend
from .base import replay_plan

if t.TYPE_CHECKING:
    from ..connection import Connection
    from ..flusher import Flusher
    from ..instance_listeners import InstanceListener

logger = logging.getLogger("flask_realtime")


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
    #: The channels it is tracked on (presence).
    tracked: set[str] = dataclasses.field(default_factory=set)


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
    deadlines, so no thread is needed and the cost is logarithmic. A socket
    tracked on a channel is the exception: its leave must reach the other
    subscribers when its time runs out, so a :class:`_Sweeper` sweeps then.

    Presence changes are delivered under the backend's lock, like the states
    that attaching sockets get: a state and the changes after it are in one
    order.
    """

    def __init__(
        self,
        *,
        connect_timeout: float,
        disconnect_grace: float,
        history_size: int = 100,
        history_ttl: float = 300,
        max_channels: int = 100,
        flusher: Flusher | None = None,
    ) -> None:
        self.hub = LocalHub(flusher)
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
        self._roster = Roster()
        # (expires_at, digest) of tracked sockets, stale entries skipped as
        # in _deadlines: when the sweeper must run next.
        self._tracked_deadlines: list[tuple[float, str]] = []
        self._sweeper = _Sweeper(self._sweep_tracked)

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
                self._send_states(socket.connection, new)

    def unsubscribe(self, digest: str, channels: t.Collection[str]) -> None:
        with self._lock:
            socket = self._find(digest, monotonic())
            if socket is None:
                return
            self._leave(digest, socket, channels)
            for channel in channels:
                socket.channels.pop(channel, None)
            if socket.connection is not None:
                self.hub.remove(socket.connection, channels)
                # Its client's lists of those channels would go stale.
                empty = [state_frame(c, []) for c in channels if self._roster.has(c)]
                self.hub.send_presence(socket.connection, empty)

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
            if socket.tracked:
                self._sweeper.wake()  # its time no longer runs
            since = replay_plan(socket.channels, positions, socket.attached_before)
            socket.attached_before = True
            self.hub.add(connection, socket.channels, catch_up=bool(since))
            self._send_states(connection, socket.channels)
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
                self._forget(digest)
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
                if socket.connection is not None:
                    self.hub.remove(socket.connection, socket.channels)
                    ended.append(socket.connection)
                self._forget(digest)
        for connection in ended:
            connection.close(CLOSE_SESSION_ENDED, "session ended")

    def track(self, digest: str, channel: str, key_json: str, meta_json: str) -> None:
        with self._lock:
            socket = self._find(digest, monotonic())
            if socket is None:
                return
            if channel not in socket.channels:
                raise not_subscribed(channel)
            change = self._roster.track(channel, digest, key_json, meta_json)
            first = not socket.tracked
            socket.tracked.add(channel)
            if first and socket.expires_at is not None:  # not connected yet
                self._sweep_tracked_at(digest, socket.expires_at)
            if change is not None:
                self.hub.deliver_presence(channel, diff_frame(channel, *change))

    def untrack(self, digest: str, channel: str) -> None:
        with self._lock:
            socket = self._find(digest, monotonic())
            if socket is not None:
                self._leave(digest, socket, [channel])

    def presence(self, channel: str) -> list[Member]:
        with self._lock:
            self._sweep(monotonic())
            return self._roster.members(channel)

    def close(self) -> None:
        self._sweeper.stop()

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
            self._forget(digest)
            return None
        return socket

    def _forget(self, digest: str) -> None:
        socket = self._sockets.pop(digest)
        if socket.tracked:
            self._leave(digest, socket, list(socket.tracked))

    def _leave(self, digest: str, socket: _Socket, channels: t.Iterable[str]) -> None:
        """Untrack a socket on channels, and tell their subscribers."""
        for channel in channels:
            if channel in socket.tracked:
                socket.tracked.discard(channel)
                member = self._roster.untrack(channel, digest)
                if member is not None:
                    self.hub.deliver_presence(
                        channel, diff_frame(channel, leaves=[member])
                    )
                if not socket.tracked:
                    self._sweeper.wake()  # its time no longer matters

    def _send_states(self, connection: Connection, channels: t.Iterable[str]) -> None:
        """The presence of each channel that has members, for a connection
        that just joined them."""
        states = []
        for channel in channels:
            members = self._roster.members(channel)
            if members:
                states.append(state_frame(channel, members))
        if states:
            self.hub.send_presence(connection, states)

    def _expire_later(self, digest: str, expires_at: float) -> None:
        socket = self._sockets[digest]
        socket.expires_at = expires_at
        heapq.heappush(self._deadlines, (expires_at, digest))
        if socket.tracked:
            self._sweep_tracked_at(digest, expires_at)

    def _sweep_tracked_at(self, digest: str, expires_at: float) -> None:
        heapq.heappush(self._tracked_deadlines, (expires_at, digest))
        self._sweeper.wake()

    def _sweep_tracked(self) -> float | None:
        """Sweep; return when a tracked socket's time runs out next, if any
        does (the sweeper's thread stops otherwise)."""
        with self._lock:
            self._sweep(monotonic())
            deadlines = self._tracked_deadlines
            while deadlines:
                expires_at, digest = deadlines[0]
                socket = self._sockets.get(digest)
                if socket and socket.tracked and socket.expires_at == expires_at:
                    return expires_at
                heapq.heappop(deadlines)
            return None

    def _sweep(self, now: float) -> None:
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            expires_at, digest = heapq.heappop(deadlines)
            socket = self._sockets.get(digest)
            if socket is not None and socket.expires_at == expires_at:
                self._forget(digest)


class _Sweeper:
    """Runs ``sweep()`` on a thread of its own, again at the time it returns,
    or when woken. The thread stops when ``sweep()`` returns None: a process
    whose pages are not tracked never starts it."""

    def __init__(self, sweep: t.Callable[[], float | None]) -> None:
        self._sweep = sweep
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._woken = False
        self._stopped = False

    def wake(self) -> None:
        with self._changed:
            self._woken = True
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._run, name="flask-realtime-presence", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify()

    def _run(self) -> None:
        while True:
            try:
                when = self._sweep()
            except Exception:  # never seen; a later wake tries again
                logger.exception("Presence could not sweep expired sockets")
                when = None
            with self._changed:
                if self._woken:
                    self._woken = False
                    continue
                if when is None or self._stopped:
                    self._thread = None
                    return
                self._changed.wait(when - monotonic())
