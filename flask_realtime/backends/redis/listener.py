"""The pub/sub listener of a process: one thread and one connection to
Redis that carry the pushes of the channels its sockets need, and the
instructions other processes send it.

It subscribes only to the channels of this process's sockets, starts with
the first socket and stops with the last. It lives on whatever happens: an
error is logged and the listener starts again with backoff; a half-open
connection is noticed by a ping; after a reconnect each channel catches up
from its history, and its sockets get its presence afresh.

Presence changes come on the channels' pub/sub channels too. Each time it
renews its sockets' leases, the listener also reads the presence of the
channels it has seen members on, which takes out members whose socket key
has expired and sends their leaves: so the leave of a socket whose process
died reaches every page within the socket's lease and one renewal.

A mixin of :class:`~flask_realtime.backends.redis.RedisBackend`, whose state
it shares: the process's sockets, its lock, and its connection pool.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import threading
import time
import typing as t
from time import monotonic

import redis

from ... import frames
from ...history import gap_frame
from ...history import is_after
from ...history import new_epoch
from ...history import Replay
from ...presence import parse_stored
from ...presence import state_frame
from ...protocol import CLOSE_REPLACED
from ...pushing import Excluded
from ...pushing import NOBODY
from .connect import REDIS_ERRORS

if t.TYPE_CHECKING:
    from ...connection import Connection
    from ...hub import LocalHub
    from ...hub import Subscriber
    from ...instance_listeners import InstanceListener

logger = logging.getLogger("flask_realtime")


@dataclasses.dataclass
class LocalSocket:
    """A socket connected to this process."""

    connection: Connection
    #: This process's name for it in Redis, ``<process>:<serial>``.
    owner: str
    channels: set[str]


class Listener:
    """The listener's half of the Redis backend."""

    #: Seconds between retries of the listener while Redis is away, doubling
    #: up to :attr:`max_retry_delay`.
    first_retry_delay = 0.1
    max_retry_delay = 5.0
    #: How long a subscription waits for Redis, or for the process holding
    #: the socket, to confirm it, so that pushes made after it returns are
    #: not missed. Below the commands' socket timeout: a stalled peer costs a
    #: request this long, and a warning, not an error.
    subscribe_timeout = 2.0
    #: Seconds between pings on the listener's connection. A ping not
    #: answered by the next one means the connection is half-open: the
    #: listener reconnects.
    health_check_interval = 5.0
    #: Seconds between two logs of messages the listener could not handle.
    ignored_log_interval = 10.0

    if t.TYPE_CHECKING:
        # What the backend provides.
        hub: LocalHub
        _lock: threading.Lock
        _local: dict[str, LocalSocket]
        _redis: t.Any  # a redis.Redis or a RedisCluster
        _process: str
        _prefix: str
        _lease: float
        _renew_every: float
        _history_ttl_ms: int
        _sharded: bool
        _renew: t.Any
        _new_epoch: t.Any

        def _in_this_process(self) -> None: ...
        def _key(self, digest: str) -> str: ...
        def _channel(self, name: str) -> str: ...
        def _control(self, process: str) -> str: ...
        def _position_key(self, name: str) -> str: ...
        def _replays(
            self,
            since: t.Mapping[str, str],
            delivered: t.Mapping[str, bytes] | None = None,
        ) -> dict[str, Replay]: ...
        def _end_local(self, digest: str, owner: str) -> None: ...
        def _read_presence(self, channels: t.Collection[str]) -> list[list[bytes]]: ...
        def _positions(self, channels: t.Sequence[str]) -> list[str]: ...
        def _channel_name(self, pubsub: str) -> str | None: ...
        def _announced(self, reply: t.Any) -> t.Any: ...
        def _new_pubsub(self) -> t.Any: ...
        def _run_scripts(
            self, calls: list[tuple[t.Any, list[str], list[t.Any]]]
        ) -> list[t.Any]: ...
        def _send_states(
            self, connection: Connection, channels: t.Collection[str], *, held: bool
        ) -> None: ...
        def _states(
            self, channels: t.Collection[str], found: list[t.Any]
        ) -> list[bytes]: ...
        def _close_if_local(self, digest: str) -> None: ...
        def _apply_locally(
            self,
            op: str,
            digest: str,
            channels: t.Collection[str],
            *,
            wait: bool = True,
        ) -> list[str]: ...

    def _init_listener(self) -> None:
        """The listener's state, made once in each process."""
        self._listener: threading.Thread | None = None
        self._pubsub: t.Any = None
        # What listener_state() reports.
        self._restarts = 0
        # Seconds before the listener's next attempt after a failure.
        self._retry_delay = self.first_retry_delay
        self._last_error: str | None = None
        # Redis channel names the listener must be subscribed to, and those
        # Redis has confirmed.
        self._wanted: set[str] = set()
        self._confirmed: set[str] = set()
        self._confirm = threading.Condition()
        # Changes asked for by other processes, acknowledged once the
        # channels they needed are confirmed: (channel names, ack key, the
        # socket's digest, channels whose presence it then gets).
        self._pending_acks: list[tuple[set[str], str, str, list[str]]] = []
        # Local channels with presence members, seen in a state or a change:
        # the listener reads their presence when it renews leases, which
        # sends the leaves of members whose socket expired.
        self._presence_channels: set[str] = set()
        # On a cluster, those of them that changed since the last renewal.
        self._presence_changes: set[str] = set()
        # The position this process has delivered each channel up to, or
        # read before subscribing to it; None if that read failed. After the
        # listener reconnects, each channel catches up from here, and frames
        # up to here are not delivered twice.
        self._caught_up: dict[str, str | None] = {}
        # The frame delivered there, if one was: a catch-up compares it with
        # the history's, to notice a history that went back on it.
        self._last_frames: dict[str, bytes] = {}
        # Channels the listener resubscribed to and has yet to catch up.
        self._catching_up: set[str] = set()
        # realtime.listen() functions: like local sockets, they keep the
        # listener running.
        self._instance_listeners: set[InstanceListener] = set()
        # Messages it could not handle since it last logged one.
        self._ignored = 0
        self._next_ignored_log = 0.0

    def _unsubscribe_hub(
        self, connection: Subscriber, channels: t.Iterable[str]
    ) -> None:
        emptied = self.hub.remove(connection, channels)
        for channel in emptied:
            self._caught_up.pop(channel, None)
            self._last_frames.pop(channel, None)
            self._presence_channels.discard(channel)
            self._presence_changes.discard(channel)
        names = [self._channel(c) for c in emptied]
        self._wanted.difference_update(names)
        with self._confirm:
            self._confirmed.difference_update(names)
        if names and self._pubsub is not None:
            try:
                self._pubsub.unsubscribe(*names)
            except REDIS_ERRORS:
                pass  # the listener resubscribes only to what is wanted

    def _open(self, channels: list[str]) -> None:
        """Have the listener subscribe to channels that just got their first
        local socket, and run. Their positions are read first, outside the
        lock (a call to Redis), so that a catch-up knows where to start."""
        self._note_positions(channels)
        with self._lock:
            self._want(channels)
            self._start_listener()

    def _want(self, channels: list[str]) -> None:
        names = [self._channel(c) for c in channels]
        self._wanted.update(names)
        if names and self._pubsub is not None:
            try:
                self._pubsub.subscribe(*names)
            except REDIS_ERRORS:
                pass  # the listener subscribes to everything wanted on reconnect

    def _note_positions(self, channels: list[str]) -> None:
        """Record where new channels stand, before subscribing to them."""
        found: list[str | None]
        try:
            found = list(self._positions(channels))
        except REDIS_ERRORS:
            found = [None] * len(channels)  # a catch-up then reports a gap
        for channel, position in zip(channels, found, strict=True):
            # A frame delivered meanwhile knows better.
            self._caught_up.setdefault(channel, position)

    def _await_confirmation(
        self, channels: list[str], *, control: bool = False
    ) -> None:
        """Wait until Redis confirms the listener's subscription to the
        channels (and, with ``control``, to this process's control channel,
        without which other processes cannot reach its sockets)."""
        names = {self._channel(c) for c in channels}
        if control:
            names.add(self._control(self._process))
        deadline = monotonic() + self.subscribe_timeout
        with self._confirm:
            while not names <= self._confirmed:
                left = deadline - monotonic()
                if left <= 0:
                    logger.warning(
                        "Redis did not confirm a channel subscription in time"
                    )
                    return
                self._confirm.wait(left)

    def _needs_listener(self) -> bool:
        # With no local socket or listen() function left, the listener stops.
        return bool(self._local or self._instance_listeners)

    def listen(self, channel: str, listener: InstanceListener) -> None:
        self._in_this_process()
        with self._lock:
            self._instance_listeners.add(listener)
            opened = self.hub.add(listener, [channel])
        self._open(opened)
        self._await_confirmation([channel])

    def unlisten(self, channel: str, listener: InstanceListener) -> None:
        self._in_this_process()
        with self._lock:
            self._instance_listeners.discard(listener)
            self._unsubscribe_hub(listener, [channel])

    def _start_listener(self) -> None:
        if self._listener is None:
            self._listener = threading.Thread(
                target=self._listen, name="flask-realtime-redis", daemon=True
            )
            self._listener.start()

    def _listen(self) -> None:
        self._retry_delay = self.first_retry_delay
        reconnecting = False
        while True:
            pubsub = self._new_pubsub()
            try:
                with self._lock:
                    if not self._needs_listener():
                        self._listener = None
                        return
                    self._pubsub = pubsub
                    if reconnecting:
                        # What was pushed while the listener was away is in
                        # the channels' histories.
                        self._catching_up = set(self._wanted)
                    reconnecting = True
                    pubsub.subscribe(self._control(self._process), *self._wanted)
                self._serve(pubsub)
            except REDIS_ERRORS as e:
                logger.warning("Redis listener lost its connection (%s); retrying", e)
                self._note_restart(e)
            except Exception as e:
                # Whatever happens, the listener lives on while there are
                # sockets: without it this process's sockets get nothing.
                logger.exception("The Redis listener failed; restarting it")
                self._note_restart(e)
            else:
                continue  # no local socket left: the loop's start returns
            finally:
                with self._lock:
                    if self._pubsub is pubsub:
                        self._pubsub = None
                # Confirmations hold for one connection to Redis only.
                with self._confirm:
                    self._confirmed.clear()
                try:
                    pubsub.close()
                except REDIS_ERRORS:
                    pass
            delay = self._retry_delay
            time.sleep(delay * (0.5 + random.random() / 2))
            self._retry_delay = min(delay * 2, self.max_retry_delay)

    def _note_restart(self, error: BaseException) -> None:
        self._restarts += 1
        self._last_error = f"{type(error).__name__}: {error}"

    def listener_state(self) -> dict[str, t.Any]:
        """The pub/sub listener of this process, for monitoring: ``state``
        (``"stopped"`` while the process has no socket, ``"connected"``, or
        ``"reconnecting"``), how many times it ``restarts``, and its
        ``last_error``."""
        self._in_this_process()
        if self._listener is None:
            state = "stopped"
        elif self._pubsub is not None:
            state = "connected"
        else:
            state = "reconnecting"
        return {
            "state": state,
            "restarts": self._restarts,
            "last_error": self._last_error,
        }

    def _serve(self, pubsub: t.Any) -> None:
        renew_at = ping_at = monotonic()
        awaiting_pong = False
        # On a cluster: channels of a node that failed, to subscribe to again
        # (with backoff) while the other nodes' channels go on.
        lost: set[str] = set()
        retry_at, retry_delay = 0.0, self.first_retry_delay / 2
        while self._needs_listener():
            now = monotonic()
            if now >= renew_at:
                renew_at = now + self._renew_every
                self._renew_leases()
            if lost and now >= retry_at:
                self._subscribe_again(pubsub, lost)  # what fails comes back lost
                lost.clear()
            if now >= ping_at:
                if awaiting_pong:
                    raise redis.ConnectionError("no answer to a ping on pub/sub")
                pubsub.ping()
                awaiting_pong = True
                ping_at = now + self.health_check_interval
            message = pubsub.get_message(timeout=min(1.0, self._renew_every))
            if message is None:
                continue
            if message["type"] == "lost":
                self._on_lost(message)
                lost.update(message["channels"])
                retry_delay = min(retry_delay * 2, self.max_retry_delay)
                retry_at = monotonic() + retry_delay * (0.5 + random.random() / 2)
                continue
            if message["type"] == "pong":
                awaiting_pong = False
                if not lost:
                    retry_delay = self.first_retry_delay / 2
                # Subscribed, leases renewed and a ping answered: healthy.
                # Not before, or a failure right after subscribing (a full
                # Redis, too few connections) would retry without backoff.
                self._retry_delay = self.first_retry_delay
                continue
            try:
                self._on_message(message)
            except Exception:
                # One bad message (not ours, or from a newer version) must
                # not cost the others, nor a flood of them the log.
                self._ignored += 1
                if monotonic() >= self._next_ignored_log:
                    self._next_ignored_log = monotonic() + self.ignored_log_interval
                    logger.exception(
                        "The Redis listener ignored %d message(s) it could not"
                        " handle; the last: %.200r",
                        self._ignored,
                        message,
                    )
                    self._ignored = 0

    def _on_message(self, message: dict[str, t.Any]) -> None:
        kind, channel = message["type"], message["channel"].decode()
        name = self._channel_name(channel)
        if kind == "message" and name is not None:
            data = message["data"]
            head, _, frame = data.partition(b"\n")
            if head == b"p":  # a presence change, see scripts.py
                self._presence_changed(name, frame)
                return
            position, _, excluded = head.partition(b" x")  # see scripts.PUBLISH
            if not frames.is_text_frame(frame):
                raise ValueError("not a text frame")
            self._deliver(
                name,
                position.decode(),
                frame,
                frozenset(excluded.decode().split(",")) if excluded else NOBODY,
            )
        elif kind == "message":
            self._on_control(json.loads(message["data"]))
        elif kind == "subscribe":
            try:
                if channel in self._catching_up and name is not None:
                    self._catching_up.discard(channel)
                    self._catch_up(name)
            finally:
                with self._confirm:
                    self._confirmed.add(channel)
                    self._confirm.notify_all()
                self._send_acks()

    def _on_lost(self, message: dict[str, t.Any]) -> None:
        """A cluster node failed (see ``sharded.ShardedPubSub``): its
        channels are to be subscribed to again, and caught up from their
        histories once Redis confirms."""
        logger.warning(
            "Redis listener lost a cluster node (%s); subscribing again to its"
            " %d channel(s)",
            message["error"],
            len(message["channels"]),
        )
        self._note_restart(redis.ConnectionError(message["error"]))
        with self._confirm:
            self._confirmed.difference_update(message["channels"])
        self._catching_up.update(message["channels"])

    def _subscribe_again(self, pubsub: t.Any, names: set[str]) -> None:
        with self._lock:
            wanted = self._wanted | {self._control(self._process)}
        again = [name for name in names if name in wanted]
        if again:
            pubsub.subscribe(*again)

    def _presence_changed(self, channel: str, text: bytes) -> None:
        text.decode()  # UTF-8, or the frame would break the client's stream
        self._presence_channels.add(channel)
        if self._sharded:
            self._presence_changes.add(channel)
        self.hub.deliver_presence(channel, frames.text_frame(text))

    def _deliver(
        self, channel: str, position: str, frame: bytes, excluded: Excluded
    ) -> None:
        last = self._caught_up.get(channel)
        if last and not is_after(position, last):
            return  # a catch-up delivered it already
        self._caught_up[channel] = position
        self._last_frames[channel] = frame
        self.hub.deliver(channel, position, frame, excluded)

    def _catch_up(self, channel: str) -> None:
        """Deliver what was pushed to a channel while the listener was away,
        from its history, or a gap frame where the history cannot tell.
        Runs in the listener, before any live frame that came after the
        resubscription, so the order holds."""
        last = self._caught_up.get(channel)
        delivered = self._last_frames.pop(channel, None)
        try:
            replay = self._replays(
                {channel: last or ""},
                {channel: delivered} if delivered is not None else None,
            )[channel]
            readable = all(map(frames.is_text_frame, replay.frames))
            if replay.rolled_back:
                replay.position = self._begin_epoch(channel, replay.position)
        except Exception:
            logger.exception("Could not catch channel %r up", channel[:100])
            replay, readable = Replay([], gap=True, position=last or ""), False
        if replay.gap or last is None or not readable:
            gap = gap_frame(json.dumps(channel).encode(), replay.position)
            self.hub.deliver(channel, replay.position, gap)
        else:
            for i, frame in enumerate(replay.frames):
                excluded = replay.excluded.get(i, NOBODY)
                self.hub.deliver(channel, _position_in(frame), frame, excluded)
            if replay.frames:
                self._last_frames[channel] = replay.frames[-1]
            elif delivered is not None:
                self._last_frames[channel] = delivered
        self._caught_up[channel] = replay.position
        if channel in self._presence_channels:
            # Changes made while the listener was away are lost: a fresh
            # state replaces what the pages have, in stream order.
            try:
                (values,) = self._read_presence([channel])
            except REDIS_ERRORS:
                logger.warning("Could not read the presence of %r", channel[:100])
            else:
                members = map(parse_stored, values)
                self.hub.deliver_presence(channel, state_frame(channel, members))

    def _begin_epoch(self, channel: str, position: str) -> str:
        """A new epoch for a channel whose history went back on frames that
        were delivered (see :func:`~flask_realtime.history.replay`): clients
        holding positions of the old one get a gap instead of a replay that
        would skip the pushes given those positions again."""
        logger.warning(
            "The history of channel %r lost pushes that were delivered (a Redis"
            " failover?); its pages get a gap",
            channel[:100],
        )
        epoch = position.rpartition(":")[0]
        found = self._new_epoch(
            keys=[self._position_key(channel)],
            args=[epoch, new_epoch(), self._history_ttl_ms],
        )
        return str(found.decode())

    def _renew_leases(self) -> None:
        with self._lock:
            owners = [(digest, local.owner) for digest, local in self._local.items()]
        lease_ms = int(self._lease * 1000)
        calls = [
            (self._renew, [self._key(digest)], [self._prefix, digest, lease_ms, owner])
            for digest, owner in owners
        ]
        for renewed, (digest, _) in zip(self._run_scripts(calls), owners, strict=True):
            if renewed == 0:
                self._close_if_local(digest)
        watched = list(self._presence_channels)
        if watched:
            try:
                found = self._read_presence(watched)  # sends expired leaves
            except redis.ResponseError as e:
                # A key of the prefix that is not ours: presence of those
                # channels stays as it is, and the leases were renewed.
                logger.warning("Could not read the presence of channels: %s", e)
                return
            # On a cluster, changes are published after the scripts that
            # made them, by their processes: two made at once may arrive the
            # other way round, and one may never come. A fresh state of each
            # channel that changed heals that within a renewal.
            changed, self._presence_changes = self._presence_changes, set()
            for channel, values in zip(watched, found, strict=True):
                if channel in changed:
                    members = map(parse_stored, values)
                    self.hub.deliver_presence(channel, state_frame(channel, members))

    def _on_control(self, message: dict[str, t.Any]) -> None:
        digest = message["digest"]
        if message["op"] == "end":
            self._end_local(digest, message["owner"])
        elif message["op"] == "replace":
            with self._lock:
                local = self._local.get(digest)
            if local is not None and local.owner == message["owner"]:
                local.connection.close(CLOSE_REPLACED, "replaced by a newer socket")
        else:
            # Not waiting for the confirmation: this thread receives it. The
            # acknowledgement goes out once Redis has confirmed.
            op, channels = message["op"], message["channels"]
            opened = self._apply_locally(op, digest, channels, wait=False)
            with self._confirm:
                self._pending_acks.append(
                    (
                        {self._channel(c) for c in opened},
                        message["ack"],
                        digest,
                        channels if op == "add" else [],
                    )
                )
            self._send_acks()

    def _send_acks(self) -> None:
        with self._confirm:
            ready = [a for a in self._pending_acks if a[0] <= self._confirmed]
            for item in ready:
                self._pending_acks.remove(item)
        for _, ack, digest, channels in ready:
            with self._lock:
                local = self._local.get(digest)
            if channels and local is not None:
                # Read on the listener's thread, once it hears the channels:
                # changes after the read come after the state.
                self._send_states(local.connection, channels, held=False)
            pipe = self._redis.pipeline(transaction=False)
            pipe.lpush(ack, "1")
            pipe.expire(ack, 10)
            pipe.execute()


def _position_in(frame: bytes) -> str:
    """The position a push frame carries: its envelope ends with it."""
    return frame.rpartition(b'"position":"')[2][:-2].decode()
