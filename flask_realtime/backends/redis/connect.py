"""Connecting to Redis: the URLs the backend takes (one server, a master
that Sentinel watches, or a Redis Cluster), and what counts as Redis being
unavailable."""

from __future__ import annotations

import dataclasses
import threading
import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import redis
import redis.cluster
import redis.sentinel

#: What a call to Redis raises when Redis cannot be reached or answer (a
#: cluster's client raises RedisClusterException, which is not a RedisError,
#: when no node answers or a slot has none).
REDIS_ERRORS = (redis.RedisError, redis.exceptions.RedisClusterException, OSError)

#: The URL scheme of a master found through Redis Sentinel.
SENTINEL_SCHEME = "redis+sentinel"
#: The URL scheme of a Redis Cluster.
CLUSTER_SCHEME = "redis+cluster"

#: Options of the URL's query that are the backend's, not redis-py's.
REPLICAS_OPTION = "wait_for_replicas"
SENTINEL_PASSWORD_OPTION = "sentinel_password"


@dataclasses.dataclass(frozen=True)
class Connected:
    """What the backend talks to Redis through."""

    #: A ``redis.Redis`` over a blocking pool, or a ``redis.cluster.RedisCluster``
    #: whose nodes each have one.
    client: t.Any
    #: How many replicas a push waits for (the URL's ``wait_for_replicas``:
    #: 1 by default behind Sentinel, so that a failover cannot lose a push
    #: that returned; 0 otherwise).
    replicas: int
    #: A Redis Cluster: sharded pub/sub, and scripts held to one slot.
    sharded: bool
    #: Whether a replica may take the master's place (Sentinel, a cluster,
    #: or pushes that wait for replicas): a channel's epoch then ends with
    #: its master (see ``scripts._EPOCH``).
    failover: bool


def connect(
    url: str, *, max_connections: int, timeout: float, **options: t.Any
) -> Connected:
    """A client for ``url``; it connects at its first command.

    :raises ValueError: if the URL is malformed.
    """
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    sentinel = parts.scheme == SENTINEL_SCHEME
    replicas = _count(query.pop(REPLICAS_OPTION, "1" if sentinel else "0"))
    sentinel_password = query.pop(SENTINEL_PASSWORD_OPTION, None)
    if sentinel_password is not None and not sentinel:
        raise ValueError(f"{SENTINEL_PASSWORD_OPTION} is for Sentinel URLs")
    # Rebuilt by hand: urlunsplit turns unix:///path into unix:/path.
    url = url.partition("?")[0] + (f"?{urlencode(query)}" if query else "")
    pool_options: dict[str, t.Any] = {
        "max_connections": max_connections,
        "timeout": timeout,
    }
    if parts.scheme == CLUSTER_SCHEME:
        if replicas:
            raise ValueError(f"{REPLICAS_OPTION} is not supported on a cluster yet")
        # Read now: a malformed URL fails here, not at the first push.
        make = _cluster(url, **pool_options, **options)
        return Connected(LazyCluster(make), 0, sharded=True, failover=True)
    if sentinel:
        pool = _sentinel_pool(url, sentinel_password, **pool_options, **options)
    else:
        pool = redis.BlockingConnectionPool.from_url(url, **pool_options, **options)
    client = redis.Redis.from_pool(pool)
    failover = sentinel or replicas > 0
    return Connected(client, replicas, sharded=False, failover=failover)


class LazyCluster:
    """A ``RedisCluster`` made at its first use: redis-py's asks the cluster
    for its layout as it is made, and an app must start while Redis is down
    (the first page or push reports it)."""

    def __init__(self, make: t.Callable[[], redis.cluster.RedisCluster]) -> None:
        self._make = make
        self._client: redis.cluster.RedisCluster | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> t.Any:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make()
                client = self._client
        return getattr(client, name)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _cluster(
    url: str, *, max_connections: int, timeout: float, **options: t.Any
) -> t.Callable[[], redis.cluster.RedisCluster]:
    """``redis+cluster://[user:password@]host:port[,host:port...]``: nodes to
    learn the cluster's layout from, and what redis-py's own URLs say of
    the connections (password, query options). Each node gets a blocking
    pool, as one server does. Returns what makes the client."""
    parts = urlsplit(url)
    if parts.path.strip("/") not in ("", "0"):
        raise ValueError("a Redis Cluster has one database: drop the path")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    nodes = [_address(host, default_port=6379) for host in hosts.split(",")]
    netloc = f"{userinfo}@cluster" if userinfo else "cluster"
    found = redis.connection.parse_url(  # type: ignore[no-untyped-call]
        urlunsplit(("redis", netloc, "", parts.query, ""))
    )
    del found["host"]
    found.pop("db", None)
    wait = found.pop("timeout", timeout)
    per_node = found.pop("max_connections", max_connections)
    if per_node < 2:
        raise ValueError(
            "max_connections must be at least 2, as the listener holds one"
            " connection to each node for itself"
        )

    class NodePool(redis.BlockingConnectionPool):
        def __init__(self, **kwargs: t.Any) -> None:
            super().__init__(timeout=wait, **kwargs)  # type: ignore[no-untyped-call]

    def make() -> redis.cluster.RedisCluster:
        return redis.cluster.RedisCluster(
            startup_nodes=[
                redis.cluster.ClusterNode(host, port)  # type: ignore[no-untyped-call]
                for host, port in nodes
            ],
            connection_pool_class=NodePool,
            max_connections=per_node,
            **{**options, **found},
        )

    return make


class _SentinelBlockingPool(
    redis.sentinel.SentinelConnectionPool, redis.BlockingConnectionPool
):
    """redis-py's Sentinel pool, which asks the sentinels where the master
    is whenever it connects, made to wait for a free connection as the
    backend's pool for one server does."""


def _sentinel_pool(
    url: str,
    sentinel_password: str | None,
    *,
    max_connections: int,
    timeout: float,
    **options: t.Any,
) -> redis.ConnectionPool:
    """``redis+sentinel://[user:password@]host:port[,host:port...]/service[/db]``:
    the sentinels to ask, the name of the master they watch, and what
    redis-py's own URLs say of the master's connections (password, query
    options). Plain TCP only: TLS to sentinels is not supported yet."""
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    sentinels = [_address(host) for host in hosts.split(",")]
    service, _, db = parts.path.lstrip("/").partition("/")
    if not service:
        raise ValueError("a Sentinel URL names its master after the hosts: /mymaster")
    # redis-py reads the rest as it reads a URL of one server.
    netloc = f"{userinfo}@sentinel" if userinfo else "sentinel"
    master = redis.connection.parse_url(  # type: ignore[no-untyped-call]
        urlunsplit(("redis", netloc, "", parts.query, ""))
    )
    del master["host"]
    if db:
        if not db.isdigit():
            raise ValueError(
                f"the database after the master's name is not a number: {db!r}"
            )
        master["db"] = int(db)
    master["connection_class"] = redis.sentinel.SentinelManagedConnection
    sentinel_options = {k: v for k, v in options.items() if k.startswith("socket_")}
    if sentinel_password is not None:
        sentinel_options["password"] = sentinel_password
    manager = redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]
        sentinels, sentinel_kwargs=sentinel_options
    )
    return _SentinelBlockingPool(  # type: ignore[no-untyped-call]
        service,
        manager,
        max_connections=master.pop("max_connections", max_connections),
        timeout=master.pop("timeout", timeout),
        **{**options, **master},
    )


def _address(text: str, default_port: int = 26379) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``host`` (by default Sentinel's port)."""
    host, port = text, str(default_port)
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"malformed address {text!r}")
            port = rest[1:]
    elif ":" in text:
        host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"malformed address {text!r}")
    return host, int(port)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) > 100:
        raise ValueError(f"{REPLICAS_OPTION} must be a whole number from 0 to 100")
    return int(text)
