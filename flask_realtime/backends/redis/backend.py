"""The Redis backend: sockets of many processes and machines, one channel space.

Keys, under a prefix (``realtime:`` by default). The sockets' state shares
the Redis Cluster hash tag ``{sockets}``, so that scripts can change a
socket and its indexes at once; a channel's keys and pub/sub channel share
a tag of the channel's own, ``{#<channel>}`` (the ``#`` keeps it from being
empty), so that pushes spread over a cluster's shards.

- ``{sockets}:socket:<digest>``, a hash: ``issued``, ``s`` (the browser
  session's tag), one ``c:<channel>`` field per subscription, and ``owner``
  while a process holds the socket's connection.
  It expires after the connect timeout, after the disconnect grace, or, while
  connected, after a lease its process keeps renewing, so a process that dies
  leaves nothing behind for long.

- ``{sockets}:members:<channel>`` and ``{sockets}:session:<tag>``, sorted
  sets of digests scored by when each socket's key expires: the indexes
  ``disconnect()`` ends sockets through (see ``scripts.py``).

- ``{sockets}:presence:<channel>``, a hash: the channel's tracked sockets
  by digest, each with its key and ``{"ref", "meta"}`` (see ``scripts.py``).

- ``pos:{#<channel>}``, a hash: the channel's ``epoch`` and last ``seq``,
  and ``log:{#<channel>}``, a list: its last pushes, as
  ``<seq> <time> <frame>``. Both expire after the history TTL without
  pushes.

Pub/sub channels (sharded ones, on a cluster):

- ``channel:{#<name>}`` carries the frames pushed to a channel, each after
  its position and a newline, encoded once (in Redis, by the publishing
  script, which gives the position); a process subscribes only to the
  channels its sockets need and writes the frames to them as they are. It
  also carries the channel's presence changes, each after ``p`` and a
  newline.
- ``process:{<id>}`` carries instructions to the process that holds a
  socket: to close it because another process took it over, or to change
  its subscriptions because a request on another process did.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import typing as t
import uuid

import redis
from redis.commands.core import Script

from ...errors import BackendUnavailable
from ...errors import ConfigurationError
from ...errors import ConnectionIdRefused
from ...errors import TooManyChannels
from ...history import new_epoch
from ...history import Replay
from ...history import replay
from ...hub import LocalHub
from ...presence import Member
from ...presence import new_ref
from ...presence import not_subscribed
from ...presence import parse_stored
from ...presence import state_frame
from ...protocol import CLOSE_REPLACED
from ...protocol import CLOSE_SERVICE_RESTART
from ...protocol import CLOSE_SESSION_ENDED
from ...pushing import Excluded
from ...pushing import NOBODY
from ..base import Backend
from ..base import replay_plan
from ..urls import without_password
from . import status
from .connect import connect
from .connect import REDIS_ERRORS
from .listener import Listener
from .listener import LocalSocket
from .scripts import ATTACH
from .scripts import CHANGE_CHANNELS
from .scripts import DETACH
from .scripts import END
from .scripts import HISTORY
from .scripts import ISSUE
from .scripts import NEW_EPOCH
from .scripts import POSITION
from .scripts import PRESENCE
from .scripts import PUBLISH
from .scripts import RENEW
from .scripts import source
from .scripts import TRACK
from .scripts import UNTRACK
from .sharded import ShardedPubSub

if t.TYPE_CHECKING:
    from ...connection import Connection
    from ...flusher import Flusher

logger = logging.getLogger("flask_realtime")


class NodeScript(Script):
    """A script on a cluster, loaded only into the node that runs it:
    redis-py's loads a missing script into every primary, so one primary
    that is down would fail every push to the others."""

    def __call__(
        self,
        keys: t.Sequence[t.Any] | None = None,
        args: t.Iterable[t.Any] | None = None,
        client: t.Any = None,
    ) -> t.Any:
        if client is not None:  # a node's pipeline loads what it lacks
            return super().__call__(keys, args, client)
        keys, args = list(keys or ()), list(args or ())
        cluster = self.registered_client
        try:
            return cluster.evalsha(self.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            return cluster.eval(self.script, len(keys), *keys, *args)  # type: ignore[arg-type]


#: Script calls to run together: (script, keys, args).
ScriptCalls = list[tuple[t.Any, list[str], list[t.Any]]]

_FORK_LOCK = threading.Lock()


class RedisBackend(Listener, Backend):
    """Keeps subscriptions in Redis and fans pushes out through its pub/sub.

    A process that only pushes (a worker, a script, the CLI) opens no
    listener: that starts with the first socket the process serves and stops
    when it serves none, so it never outlives its sockets.
    """

    #: Connections to Redis one process may open at once, the listener's
    #: included, unless the URL says otherwise.
    default_max_connections = 100
    #: Seconds a command waits for a free connection before Redis counts as
    #: unavailable.
    pool_timeout = 5.0
    #: Seconds a push waits for the replicas the URL's ``wait_for_replicas``
    #: asks for (see :func:`.connect.connection_pool`).
    replica_timeout = 1.0

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        connect_timeout: float,
        disconnect_grace: float,
        ping_interval: float,
        history_size: int = 100,
        history_ttl: float = 300,
        max_channels: int = 100,
        flusher: Flusher | None = None,
    ) -> None:
        self.hub = LocalHub(flusher)
        self._max_channels = max_channels
        self._history_size = history_size
        self._history_ttl_ms = int(history_ttl * 1000)
        # A blocking pool: when every connection is in use (a burst of page
        # renders under gevent, say), a command waits for one instead of
        # failing at once. The URL's query (``?max_connections=200``) wins
        # over these defaults.
        # Errors name the URL without its password: they end up in logs.
        self._url = without_password(url)
        try:
            connected = connect(
                url,
                max_connections=self.default_max_connections,
                timeout=self.pool_timeout,
                socket_timeout=5,
                socket_connect_timeout=5,
            )
        except ValueError as e:
            raise ConfigurationError(f"REALTIME_BACKEND {self._url!r}: {e}") from e
        # A redis.Redis, or a RedisCluster; it closes its pools with it.
        self._redis: t.Any = connected.client
        self._replicas = connected.replicas
        self._sharded = connected.sharded
        self._failover = connected.failover
        if not self._sharded and self._redis.connection_pool.max_connections < 2:
            raise ConfigurationError(
                f"REALTIME_BACKEND {self._url!r}: max_connections must be at"
                " least 2, as the listener holds one connection for itself."
            )
        if self._sharded and ("{" in prefix or "}" in prefix):
            raise ConfigurationError(
                f"REALTIME_REDIS_PREFIX {prefix!r} holds a brace: on a Redis"
                " Cluster it would change the hash tags that keep each"
                " channel's keys in one slot."
            )
        self._prefix = prefix
        self._connect_timeout_ms = int(connect_timeout * 1000)
        self._grace_ms = max(1, int(disconnect_grace * 1000))
        # A live socket's key outlives its process by about the grace period.
        self._lease = disconnect_grace + 2 * ping_interval
        self._renew_every = min(ping_interval, self._lease / 3)
        self._issue = self._script(ISSUE)
        self._renew = self._script(RENEW)
        self._end = self._script(END)
        self._attach = self._script(ATTACH)
        self._detach = self._script(DETACH)
        self._change = self._script(CHANGE_CHANNELS)
        self._publish = self._script(PUBLISH)
        self._history = self._script(HISTORY)
        self._position = self._script(POSITION)
        self._new_epoch = self._script(NEW_EPOCH)
        self._track = self._script(TRACK)
        self._untrack = self._script(UNTRACK)
        self._presence = self._script(PRESENCE)
        self._pid = 0
        self._in_this_process()

    def _in_this_process(self) -> None:
        """Make the state that belongs to one process, once in each process.

        gunicorn's ``--preload`` runs ``init_app`` before it forks the
        workers: each worker must still get its own id, or other processes
        could not tell them apart, and none of the parent's sockets.
        """
        pid = os.getpid()
        if pid == self._pid:
            return
        with _FORK_LOCK:
            if pid == self._pid:
                return
            self._process = uuid.uuid4().hex
            self._serial = 0
            self._lock = threading.Lock()
            self._local: dict[str, LocalSocket] = {}
            self._init_listener()
            self._pid = pid

    # Keys and channel names.

    def _key(self, digest: str) -> str:
        return f"{self._prefix}{{sockets}}:socket:{digest}"

    def _presence_key(self, name: str) -> str:
        return f"{self._prefix}{{sockets}}:presence:{name}"

    def _channel(self, name: str) -> str:
        return f"{self._prefix}channel:{{#{name}}}"

    def _channel_name(self, pubsub: str) -> str | None:
        """The channel whose pub/sub channel this is, if it is one."""
        head, tail = f"{self._prefix}channel:{{#", "}"
        if pubsub.startswith(head) and pubsub.endswith(tail):
            return pubsub[len(head) : -len(tail)]
        return None

    def _position_key(self, name: str) -> str:
        return f"{self._prefix}pos:{{#{name}}}"

    def _history_key(self, name: str) -> str:
        return f"{self._prefix}log:{{#{name}}}"

    def _control(self, process: str) -> str:
        return f"{self._prefix}process:{{{process}}}"

    def _script(self, script: str) -> t.Any:
        # Made as register_script makes it, from bytes: a cluster's client is
        # not made before its first command (see connect.LazyCluster).
        text = source(script, sharded=self._sharded, failover=self._failover)
        kind = NodeScript if self._sharded else Script
        return kind(self._redis, text.encode())

    def _new_pubsub(self) -> t.Any:
        """The listener's pub/sub: sharded on a cluster."""
        if self._sharded:
            return ShardedPubSub(self._redis)
        return self._redis.pubsub()

    def _run_scripts(self, calls: ScriptCalls) -> list[t.Any]:
        """Run scripts in one round trip per server, and return their
        results in order. A cluster's pipelines refuse scripts: there the
        calls go in a plain pipeline to each node, by the slot of their
        first key (which loads the scripts into the node if it lacks them).

        :raises redis.RedisError: as a pipeline does; on a cluster whose
            slots moved, a ConnectionError, once it has learnt the new
            layout.
        """
        if not self._sharded:
            pipe = self._redis.pipeline(transaction=False)
            for script, keys, args in calls:
                script(keys=keys, args=args, client=pipe)
            return t.cast(list[t.Any], pipe.execute())
        nodes: dict[str, tuple[t.Any, list[int]]] = {}
        for i, (_, keys, _) in enumerate(calls):
            node = self._redis.get_node_from_key(keys[0])
            nodes.setdefault(node.name, (node, []))[1].append(i)
        results: list[t.Any] = [None] * len(calls)
        for node, indexes in nodes.values():
            pipe = self._redis.get_redis_connection(node).pipeline(transaction=False)
            for i in indexes:
                script, keys, args = calls[i]
                script(keys=keys, args=args, client=pipe)
            try:
                found = pipe.execute()
            except redis.ResponseError as e:
                if not str(e).startswith(("MOVED", "ASK")):
                    raise
                self._redis.nodes_manager.initialize()
                raise redis.ConnectionError(f"the cluster's slots moved: {e}") from e
            for i, result in zip(indexes, found, strict=True):
                results[i] = result
        return results

    def _announced(self, reply: t.Any) -> t.Any:
        """The result of a script that may change presence (see
        ``scripts.finish``), once the changes it returned are published: on
        a cluster they concern other slots than the script's."""
        result, announced = reply
        if announced:
            pipe = self._redis.pipeline(transaction=False)
            for i in range(0, len(announced), 2):
                self._send(announced[i], announced[i + 1], pipe)
            pipe.execute()
        return result

    def _send(self, channel: str | bytes, message: str | bytes, client: t.Any) -> t.Any:
        """Publish on a pub/sub channel, sharded on a cluster."""
        if self._sharded:
            return client.spublish(channel, message)
        return client.publish(channel, message)

    def _positions(self, channels: t.Sequence[str]) -> list[str]:
        """The channels' positions, each channel's epoch begun if it has none."""
        calls: ScriptCalls = [
            (
                self._position,
                [self._position_key(channel)],
                [new_epoch(), self._history_ttl_ms],
            )
            for channel in channels
        ]
        return [position.decode() for position in self._run_scripts(calls)]

    def _call(self, what: str, command: t.Callable[[], t.Any]) -> t.Any:
        try:
            return command()
        except REDIS_ERRORS as e:
            raise BackendUnavailable(
                f"Redis ({self._url}) is unavailable; could not {what}: {e}"
            ) from e

    # Backend.

    def issue(self, digest: str, session: str = "") -> None:
        self._call(
            "issue a connection id",
            lambda: self._issue(
                keys=[self._key(digest)],
                args=[self._prefix, digest, session, self._connect_timeout_ms],
            ),
        )

    def is_known(self, digest: str) -> bool:
        return bool(
            self._call(
                "look up a socket", lambda: self._redis.exists(self._key(digest))
            )
        )

    def subscribe(self, digest: str, channels: t.Collection[str]) -> None:
        self._change_channels("add", digest, channels)

    def unsubscribe(self, digest: str, channels: t.Collection[str]) -> None:
        self._change_channels("remove", digest, channels)

    def _change_channels(
        self, op: str, digest: str, channels: t.Collection[str]
    ) -> None:
        channels = list(channels)
        # A new subscription starts at the channel's position, read first:
        # a channel's keys are in another slot than the socket's.
        positions = (
            self._call("read channel positions", lambda: self._positions(channels))
            if op == "add"
            else [""] * len(channels)
        )
        args: list[t.Any] = [op, self._prefix, digest, self._max_channels]
        for channel, position in zip(channels, positions, strict=True):
            args += [channel, position]
        owner = self._call(
            "change subscriptions",
            lambda: self._announced(self._change(keys=[self._key(digest)], args=args)),
        )
        if owner == -1:
            raise TooManyChannels(self._max_channels)
        if owner is None:
            # Unknown or expired; or Redis lost the record of a socket that
            # is connected here (a FLUSHALL, a failover to an empty replica).
            self._close_if_local(digest)
            return
        if not owner:
            return  # not connected anywhere
        self._in_this_process()
        process = owner.decode().partition(":")[0]
        if process == self._process:
            self._apply_locally(op, digest, channels)
            return
        # The socket's process applies the change; waiting for its word keeps
        # "subscribed when the call returns" true across processes too.
        ack = f"{self._prefix}ack:{uuid.uuid4().hex}"
        message = {"op": op, "digest": digest, "channels": list(channels), "ack": ack}
        receivers = self._call(
            "reach the socket's process",
            lambda: self._send(
                self._control(process), json.dumps(message), self._redis
            ),
        )
        if receivers and not self._call(
            "hear from the socket's process",
            lambda: self._redis.blpop([ack], timeout=self.subscribe_timeout),
        ):
            logger.warning(
                "A subscription change was not confirmed by the process holding"
                " the socket within %s s; going on without it",
                self.subscribe_timeout,
            )

    def attach(
        self,
        digest: str,
        connection: Connection,
        positions: t.Mapping[str, str] | None = None,
    ) -> Connection | None:
        self._in_this_process()
        with self._lock:
            self._serial += 1
            owner = f"{self._process}:{self._serial}"
        result = self._call(
            "attach a socket",
            lambda: self._attach(
                keys=[self._key(digest)],
                args=[owner, int(self._lease * 1000), self._prefix, digest],
            ),
        )
        if result is None:
            raise ConnectionIdRefused(digest)
        previous, attached_before = result[0].decode(), bool(result[1])
        fields = result[2]
        channels = {
            fields[i].decode()[2:]: fields[i + 1].decode()
            for i in range(0, len(fields), 2)
            if fields[i].startswith(b"c:")
        }
        since = replay_plan(channels, positions, attached_before)
        local = LocalSocket(connection, owner, set(channels))
        with self._lock:
            replaced = self._local.pop(digest, None)
            if replaced is not None:
                self._unsubscribe_hub(replaced.connection, replaced.channels)
            self._local[digest] = local
            opened = self.hub.add(
                connection, channels, catch_up=bool(since), hold_presence=True
            )
        try:
            self._open(opened)
            # All of them: another socket may have opened one a moment ago.
            self._await_confirmation(list(channels), control=True)
            # Ended (realtime.disconnect, a logout) between the attach and
            # the subscription to this process's control channel, whose word
            # of it was then missed? Read with the channels' presence, which
            # must be read once the listener hears their changes.
            now, states = self._call(
                "attach a socket", lambda: self._owner_and_states(digest, channels)
            )
            self.hub.finish_presence(connection, states)
            if now is None:
                connection.close(CLOSE_SESSION_ENDED, "session ended")
            elif now != owner:  # a newer socket took over meanwhile
                connection.close(CLOSE_REPLACED, "replaced by a newer socket")
            if since:
                # Read after the listener is subscribed: what is pushed
                # meanwhile is held by the hub, and dropped there if the
                # replay has it.
                self.hub.finish_catch_up(connection, self._replays(since))
        except BaseException:
            # The endpoint will not detach a socket that failed to attach:
            # nothing of it may stay behind (its key's lease runs out).
            with self._lock:
                if self._local.get(digest) is local:
                    del self._local[digest]
                    self._unsubscribe_hub(connection, local.channels)
            raise
        other = previous.partition(":")[0]
        if previous and other != self._process:
            message = {"op": "replace", "digest": digest, "owner": previous}
            try:
                self._send(self._control(other), json.dumps(message), self._redis)
            except REDIS_ERRORS:
                logger.warning(
                    "Could not tell process %s its socket was replaced", other
                )
        return replaced.connection if replaced is not None else None

    def _owner_and_states(
        self, digest: str, channels: t.Collection[str]
    ) -> tuple[str | None, list[bytes]]:
        """The socket's owner, and the presence states of its channels that
        have members, in one round trip. Plain reads: a script in a pipeline
        costs redis-py a SCRIPT EXISTS first, which every attach would pay.
        So a member whose socket just expired may be in them, until a
        listener announces its leave (see :data:`.scripts.PRESENCE`)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.hget(self._key(digest), "owner")
        for channel in channels:
            pipe.hvals(self._presence_key(channel))
        owner, *found = pipe.execute()
        states = self._states(channels, found)
        return (owner.decode() if isinstance(owner, bytes) else None), states

    def _plain_states(self, channels: t.Collection[str]) -> list[bytes]:
        """Presence state frames of channels that have members, read as
        :meth:`_owner_and_states` reads them."""
        pipe = self._redis.pipeline(transaction=False)
        for channel in channels:
            pipe.hvals(self._presence_key(channel))
        return self._states(channels, pipe.execute())

    def _read_presence(self, channels: t.Collection[str]) -> list[list[bytes]]:
        """The members of channels, as :data:`.scripts.PRESENCE` leaves them."""
        found = self._presence(
            keys=[self._presence_key(c) for c in channels],
            args=[self._prefix, *channels],
        )
        return t.cast(list[list[bytes]], self._announced(found))

    def _states(self, channels: t.Collection[str], found: list[t.Any]) -> list[bytes]:
        """Presence state frames of the channels that have members, from
        what :data:`.scripts.PRESENCE` returned."""
        states = []
        for channel, values in zip(channels, found, strict=True):
            if values:
                self._presence_channels.add(channel)
                states.append(state_frame(channel, map(parse_stored, values)))
        return states

    def _send_states(
        self, connection: Connection, channels: t.Collection[str], *, held: bool
    ) -> None:
        """Read and send the presence of channels a live socket was just
        subscribed to; ``held``: it was added to the hub with
        ``hold_presence``, which this ends."""
        states: list[bytes] = []
        try:
            if channels:
                states = self._plain_states(channels)
        except REDIS_ERRORS as e:
            logger.warning("Could not read the presence of new subscriptions: %s", e)
        finally:
            if held:
                self.hub.finish_presence(connection, states)
            else:
                self.hub.send_presence(connection, states)

    def _replays(
        self,
        since: t.Mapping[str, str],
        delivered: t.Mapping[str, bytes] | None = None,
    ) -> dict[str, Replay]:
        """What comes after each position, from the channels' histories;
        ``delivered``: the frames delivered at those positions, where known
        (see :func:`~flask_realtime.history.replay`)."""
        delivered = delivered or {}
        calls: ScriptCalls = [
            (
                self._history,
                [self._position_key(channel), self._history_key(channel)],
                [new_epoch(), self._history_ttl_ms],
            )
            for channel in since
        ]
        try:
            results = self._run_scripts(calls)
        except REDIS_ERRORS:
            logger.warning("Redis is unavailable; no replay for a reconnecting socket")
            results = [None] * len(since)
        replays = {}
        for (channel, position), result in zip(since.items(), results, strict=True):
            try:
                replays[channel] = self._replay(
                    position, result, delivered.get(channel)
                )
            except (ValueError, TypeError, IndexError):
                # What Redis holds is not what this backend wrote: say so
                # plainly rather than fail the socket.
                logger.warning("Unreadable history of channel %r", channel[:100])
                result = None
            if result is None:
                replays[channel] = Replay([], gap=True, position=position)
        return replays

    def _replay(
        self, position: str, result: t.Any, delivered: bytes | None = None
    ) -> Replay:
        epoch, seq, now, raw = result[0].decode(), int(result[1]), result[2], result[3]
        entries = []
        for item in raw:
            number, at, frame = item.split(b" ", 2)
            excluded = NOBODY
            if frame.startswith(b"x"):  # see scripts.PUBLISH
                ids, frame = frame[1:].split(b" ", 1)
                excluded = frozenset(ids.decode().split(","))
            if now - int(at) <= self._history_ttl_ms:
                entries.append((int(number), frame, excluded))
        return replay(position, epoch, seq, entries, delivered)

    def detach(self, digest: str, connection: Connection, *, forget: bool) -> None:
        self._in_this_process()
        with self._lock:
            local = self._local.get(digest)
            if local is None or local.connection is not connection:
                return
            del self._local[digest]
            self._unsubscribe_hub(connection, local.channels)
        try:
            reply = self._detach(
                keys=[self._key(digest)],
                args=[
                    local.owner,
                    "1" if forget else "0",
                    self._grace_ms,
                    self._prefix,
                    digest,
                ],
            )
            self._announced(reply)
        except Exception as e:
            # Redis away, or the pool already closed by a drain that gave up
            # waiting: the key's lease runs out by itself.
            logger.warning("A socket's state in Redis will expire: %s", e)

    def publish(self, channel: str, head: bytes, excluded: Excluded = NOBODY) -> None:
        keys = [self._position_key(channel), self._history_key(channel)]
        args: list[bytes | str | int] = [
            head,
            new_epoch(),
            self._history_ttl_ms,
            self._history_size,
            self._channel(channel),
            ",".join(excluded),  # connection ids hold no ","
        ]
        if self._replicas:
            self._call("push", lambda: self._publish_replicated(keys, args))
        else:
            self._call("push", lambda: self._publish(keys=keys, args=args))

    def _publish_replicated(self, keys: list[str], args: list[t.Any]) -> None:
        """Push, and wait until enough replicas have the push. WAIT counts
        the writes of its own connection, so both go in one pipeline."""
        for _ in range(2):
            pipe = self._redis.pipeline(transaction=False)
            pipe.evalsha(self._publish.sha, len(keys), *keys, *args)
            pipe.wait(self._replicas, int(self.replica_timeout * 1000))
            pushed, confirmed = pipe.execute(raise_on_error=False)
            if not isinstance(pushed, redis.exceptions.NoScriptError):
                break
            # A new master (after a failover) has not seen the script.
            self._redis.script_load(self._publish.script)
        for result in (pushed, confirmed):
            if isinstance(result, Exception):
                raise result
        if confirmed < self._replicas:
            raise BackendUnavailable(
                f"Redis ({self._url}) took the push, but {confirmed} of the"
                f" {self._replicas} replica(s) it must reach confirmed it within"
                f" {self.replica_timeout} s: a failover could lose it"
            )

    def track(self, digest: str, channel: str, key_json: str, meta_json: str) -> None:
        tracked = self._call(
            "track a socket",
            lambda: self._announced(
                self._track(
                    keys=[self._key(digest), self._presence_key(channel)],
                    args=[
                        self._prefix,
                        digest,
                        channel,
                        key_json,
                        meta_json,
                        new_ref(),
                    ],
                )
            ),
        )
        if tracked == -1:
            raise not_subscribed(channel)

    def untrack(self, digest: str, channel: str) -> None:
        self._call(
            "untrack a socket",
            lambda: self._announced(
                self._untrack(
                    keys=[self._key(digest)], args=[self._prefix, digest, channel]
                )
            ),
        )

    def presence(self, channel: str) -> list[Member]:
        (values,) = self._call(
            "read a channel's presence",
            lambda: self._read_presence([channel]),
        )
        return [parse_stored(v) for v in values]

    def disconnect(
        self, *, channels: t.Collection[str] = (), sessions: t.Collection[str] = ()
    ) -> None:
        args: list[str] = [self._prefix]
        for channel in channels:
            args += ["members", channel]
        for session in sessions:
            args += ["session", session]
        connected = self._call(
            "end sockets",
            lambda: self._announced(self._end(keys=[self._key("")], args=args)),
        )
        self._in_this_process()
        notices = self._redis.pipeline(transaction=False)
        for digest, owner in ((d.decode(), o.decode()) for d, o in connected):
            process = owner.partition(":")[0]
            if process == self._process:
                self._end_local(digest, owner)
            else:
                message = {"op": "end", "digest": digest, "owner": owner}
                self._send(self._control(process), json.dumps(message), notices)
        if len(notices):
            self._call("reach the sockets' processes", notices.execute)

    def _close_if_local(self, digest: str) -> None:
        """Close a socket of this process whose record Redis lost: with
        1012, its client reconnects, is refused (4001) and reloads, which
        gives it a fresh id and fresh subscriptions."""
        with self._lock:
            local = self._local.get(digest)
        if local is not None:
            logger.warning("Redis lost a connected socket's record; closing it")
            local.connection.close(CLOSE_SERVICE_RESTART, "service restart")

    def _end_local(self, digest: str, owner: str) -> None:
        with self._lock:
            local = self._local.get(digest)
        if local is not None and local.owner == owner:
            local.connection.close(CLOSE_SESSION_ENDED, "session ended")

    def close(self) -> None:
        self._in_this_process()
        with self._lock:
            self._instance_listeners.clear()
            for local in list(self._local.values()):
                local.connection.close(1001, "going away")
        listener = self._listener
        if listener is not None:
            listener.join(self.max_retry_delay + 2)
        self._redis.close()
        pool = None if self._sharded else self._redis.connection_pool
        sentinels = getattr(pool, "sentinel_manager", None)
        if sentinels is not None:
            sentinels.close()

    def stats(self) -> dict[str, t.Any]:
        return {
            "backend": "redis",
            "channels": self.hub.channel_count(),
            "frames_delivered": self.hub.delivered,
            "listener": self.listener_state(),
        }

    def shared_stats(self) -> dict[str, t.Any]:
        """What Redis holds for every process (see :func:`.status.read`),
        with the URL, without its password, and the prefix.

        :raises ~flask_realtime.errors.BackendUnavailable: if Redis is.
        """
        shared = self._call(
            "read its state",
            lambda: status.read(self._redis, self._prefix, sharded=self._sharded),
        )
        return {"redis": self._url, "prefix": self._prefix, **shared}

    # Local sockets and the listener's subscriptions. The lock is held by the
    # callers of _want, _unwant and _unsubscribe_hub.

    def _apply_locally(
        self, op: str, digest: str, channels: t.Collection[str], *, wait: bool = True
    ) -> list[str]:
        """Change a local socket's subscriptions; returns the channels the
        listener had to subscribe to for it."""
        opened: list[str] = []
        with self._lock:
            local = self._local.get(digest)
            if local is None:
                return opened
            if op == "add":
                local.channels.update(channels)
                opened = self.hub.add(local.connection, channels, hold_presence=wait)
            else:
                local.channels.difference_update(channels)
                # Its client's lists of those channels would go stale.
                empty = [
                    state_frame(c, []) for c in channels if c in self._presence_channels
                ]
                self._unsubscribe_hub(local.connection, channels)
                self.hub.send_presence(local.connection, empty)
        if op == "add" and wait:
            try:
                self._open(opened)
                self._await_confirmation(list(channels))
            finally:
                self._send_states(local.connection, channels, held=True)
        else:
            # On the listener's thread: the states are read once Redis
            # confirms the new channels (see _send_acks).
            self._open(opened)
        return opened
