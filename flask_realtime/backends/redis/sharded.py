"""Sharded pub/sub on a Redis Cluster, read as one.

On a cluster a push is published with SPUBLISH, which travels only within
the shard that owns the channel's slot, instead of to every node. A process
then subscribes to each channel on the node that owns its slot: one
connection per node. :class:`ShardedPubSub` hides that from the listener,
which reads it as it reads redis-py's ``PubSub`` on one server: the same
methods, and the same message types (``message``, ``subscribe``, ``pong``).

redis-py's own ``ClusterPubSub`` polls its nodes one after the other, each
for the whole timeout, which would hold a push back by up to that long per
node; this waits on all of them at once.
"""

from __future__ import annotations

import collections
import contextlib
import select
import socket
import threading
import time
import typing as t

import redis

from .connect import REDIS_ERRORS

if t.TYPE_CHECKING:
    import redis.cluster
    from redis.client import PubSub

_TYPES = {b"smessage": "message", b"ssubscribe": "subscribe", b"pong": "pong"}


class ShardedPubSub:
    """What the listener reads on a cluster.

    A node that goes away, or does not answer a ping by the next one, costs
    only its own channels: :meth:`get_message` returns a message of type
    ``lost`` that names them, once it has learnt the cluster's layout again,
    and the listener subscribes to them again and catches them up, while
    the other nodes' channels go on. A channel whose slot moved to another
    node (Redis then unsubscribes it) raises :class:`redis.ConnectionError`:
    the listener starts again with a fresh one.
    """

    def __init__(self, cluster: redis.cluster.RedisCluster) -> None:
        self._cluster = cluster
        self._lock = threading.Lock()
        # One pub/sub connection per node, by node name, and the node of
        # each channel subscribed to.
        self._nodes: dict[str, PubSub] = {}
        self._channels: dict[bytes, str] = {}
        # Nodes whose answer to our last ping has not come yet, and nodes
        # found gone, with why, for get_message() to report.
        self._pinged: set[str] = set()
        self._failed: dict[str, str] = {}
        # Channels that could not be subscribed to, and why.
        self._orphans: set[str] = set()
        self._orphans_error = ""
        # Unsubscriptions whose confirmation has not come yet, by channel: a
        # confirmation nobody waits for means the channel's slot moved.
        self._leaving: collections.Counter[bytes] = collections.Counter()
        # Connections of nodes left without channels, closed by the next
        # get_message() (the listener's thread, which may be reading them).
        self._retired: list[PubSub] = []
        # Wakes a get_message() that waits while a subscription opens a
        # connection to another node, whose confirmation it must read.
        self._waker, self._wakee = socket.socketpair()

    def subscribe(self, *names: str) -> None:
        """Subscribe to channels, each on the node that owns its slot. A node
        that cannot be reached costs only its channels: get_message() names
        them as lost, for the listener to try them again."""
        failed, error = [], ""
        with self._lock:
            for name in names:
                try:
                    node = self._subscribe(name)
                except REDIS_ERRORS as e:
                    failed.append(name)
                    error = str(e)
                else:
                    self._channels[name.encode()] = node
            self._orphans.update(failed)
            self._orphans_error = error or self._orphans_error
        if failed:
            # The layout may have changed (a failover): learn it again before
            # the listener's next attempt.
            with contextlib.suppress(*REDIS_ERRORS):
                self._cluster.nodes_manager.initialize()
            self._waker.send(b"x")

    def _subscribe(self, name: str) -> str:
        node = self._cluster.get_node_from_key(name)  # type: ignore[no-untyped-call]
        pubsub = self._nodes.get(node.name)
        if pubsub is not None:
            try:
                pubsub.ssubscribe(name)
            except REDIS_ERRORS as e:
                self._failed[node.name] = str(e)  # its other channels too
                raise
            return str(node.name)
        # A pool of its own, as the node's: the cluster client disconnects
        # its pools when it meets an error, and redis-py would then subscribe
        # again to all the node's channels in one SSUBSCRIBE, which a cluster
        # refuses for channels of several slots. A failed node is ours to
        # handle (its connections do not retry: redis-py's default there).
        shared = self._cluster.get_redis_connection(node).connection_pool
        pool = redis.ConnectionPool(
            connection_class=shared.connection_class, **shared.connection_kwargs
        )
        pubsub = redis.Redis(connection_pool=pool).pubsub()  # type: ignore[no-untyped-call]
        try:
            pubsub.ssubscribe(name)
        except REDIS_ERRORS:
            _close(pubsub)
            raise
        self._nodes[node.name] = pubsub
        self._waker.send(b"x")  # a get_message() under way must read it too
        return str(node.name)

    def unsubscribe(self, *names: str) -> None:
        with self._lock:
            for name in names:
                node = self._channels.pop(name.encode(), None)
                if node is None:
                    continue
                if node in self._channels.values():
                    self._leaving[name.encode()] += 1
                    self._nodes[node].sunsubscribe(name)  # type: ignore[no-untyped-call]
                else:
                    # Its last channel: a pub/sub without subscriptions reads
                    # nothing more, so the connection goes, answers and all.
                    self._retired.append(self._nodes.pop(node))
                    self._pinged.discard(node)

    def ping(self) -> None:
        with self._lock:
            for name, pubsub in self._nodes.items():
                if name in self._pinged:
                    self._failed[name] = "no answer to a ping"
                    continue
                try:
                    pubsub.ping()
                except REDIS_ERRORS as e:
                    self._failed[name] = str(e)
                self._pinged.add(name)

    def get_message(self, timeout: float = 0.0) -> dict[str, t.Any] | None:
        """The next message of any node, waiting up to ``timeout`` seconds."""
        with self._lock:
            failed = next(iter(self._failed.items()), None)
            orphans, self._orphans = self._orphans, set()
        if failed is not None:
            with self._lock:
                self._orphans.update(orphans)  # the next call reports them
            return self._lose(*failed)
        if orphans:
            return {
                "type": "lost",
                "channels": sorted(orphans),
                "error": self._orphans_error,
            }
        with self._lock:
            retired, self._retired = self._retired, []
        for pubsub in retired:
            _close(pubsub)
        with self._lock:
            nodes: list[tuple[str, PubSub, t.Any]] = [
                (name, pubsub, pubsub.connection)
                for name, pubsub in self._nodes.items()
                if pubsub.connection is not None
            ]
        if not nodes:
            time.sleep(timeout)
            return None
        for name, pubsub, connection in nodes:
            # Already read from its socket, or waiting in it.
            try:
                readable = connection.can_read(timeout=0)
            except REDIS_ERRORS as e:
                return self._lose(name, str(e))
            if readable:
                return self._read(name, pubsub)
        sockets = {
            connection._sock: (name, pubsub) for name, pubsub, connection in nodes
        }
        ready, _, _ = select.select([*sockets, self._wakee], [], [], timeout)
        if self._wakee in ready:
            self._wakee.recv(4096)
            ready.remove(self._wakee)
        if not ready:
            return None
        return self._read(*sockets[ready[0]])

    def _read(self, node: str, pubsub: PubSub) -> dict[str, t.Any] | None:
        try:
            message = pubsub.get_message(timeout=0)
        except REDIS_ERRORS as e:
            return self._lose(node, str(e))
        with self._lock:
            retired = self._nodes.get(node) is not pubsub
        if message is None or retired:
            # A retired connection's messages are of channels left: a socket
            # subscribed to one again meanwhile must not get them.
            return None
        kind = message["type"]
        kind = kind.encode() if isinstance(kind, str) else kind
        if kind == b"sunsubscribe":
            with self._lock:
                channel = message["channel"]
                if self._leaving[channel]:
                    self._leaving[channel] -= 1
                    if not self._leaving[channel]:
                        del self._leaving[channel]
                    return None
            # Nobody asked: the channel's slot went to another node.
            raise redis.ConnectionError("a channel's slot moved")
        if kind == b"pong":
            self._pinged.discard(node)
        if kind not in _TYPES:
            return None
        return {**message, "type": _TYPES[kind]}

    def _lose(self, node: str, error: str) -> dict[str, t.Any]:
        """Forget a node that failed, and name its channels to the listener."""
        with self._lock:
            self._failed.pop(node, None)
            self._pinged.discard(node)
            pubsub = self._nodes.pop(node, None)
            if pubsub is not None:
                self._retired.append(pubsub)
            lost = [c for c, n in self._channels.items() if n == node]
            for channel in lost:
                del self._channels[channel]
                self._leaving.pop(channel, None)
        # Where its slots are now, if a replica took them over.
        with contextlib.suppress(*REDIS_ERRORS):
            self._cluster.nodes_manager.initialize()
        return {
            "type": "lost",
            "channels": [c.decode() for c in lost],
            "error": f"{node}: {error}",
        }

    def close(self) -> None:
        with self._lock:
            for pubsub in [*self._nodes.values(), *self._retired]:
                _close(pubsub)
            self._nodes.clear()
            self._retired.clear()
        self._waker.close()
        self._wakee.close()


def _close(pubsub: PubSub) -> None:
    """Close a node's pub/sub and the pool of its own."""
    with contextlib.suppress(*REDIS_ERRORS):
        pubsub.close()
        pubsub.connection_pool.disconnect()
