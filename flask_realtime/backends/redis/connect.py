"""Connecting to Redis: the URLs the backend takes (one server, or a
master that Sentinel watches), what counts as Redis being unavailable, and
URLs that are safe to log."""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import redis
import redis.sentinel

#: What a call to Redis raises when Redis cannot be reached or answer.
REDIS_ERRORS = (redis.RedisError, OSError)

#: The URL scheme of a master found through Redis Sentinel.
SENTINEL_SCHEME = "redis+sentinel"

#: Options of the URL's query that are the backend's, not redis-py's.
REPLICAS_OPTION = "wait_for_replicas"
SENTINEL_PASSWORD_OPTION = "sentinel_password"


def without_password(url: str) -> str:
    """The URL with its password, if any, replaced by ``***``: errors name
    the URL, and end up in logs. redis-py also reads a ``password`` in the
    query string, the documented form for a Unix socket."""
    parts = urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        user = parts.username or ""
        parts = parts._replace(netloc=f"{user}:***@{host}")
    if parts.query:
        query = [
            (name, "***" if "password" in name.lower() else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(query, safe="*"))
    return urlunsplit(parts)


def connection_pool(
    url: str, *, max_connections: int, timeout: float, **options: t.Any
) -> tuple[redis.ConnectionPool, int]:
    """A blocking connection pool for ``url``, and how many replicas a push
    waits for (the URL's ``wait_for_replicas``: 1 by default behind
    Sentinel, so that a failover cannot lose a push that returned; 0 for one
    server).

    :raises ValueError: if the URL is malformed.
    """
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    sentinel = parts.scheme == SENTINEL_SCHEME
    replicas = _count(query.pop(REPLICAS_OPTION, "1" if sentinel else "0"))
    sentinel_password = query.pop(SENTINEL_PASSWORD_OPTION, None)
    # Rebuilt by hand: urlunsplit turns unix:///path into unix:/path.
    url = url.partition("?")[0] + (f"?{urlencode(query)}" if query else "")
    if not sentinel:
        if sentinel_password is not None:
            raise ValueError(f"{SENTINEL_PASSWORD_OPTION} is for Sentinel URLs")
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=timeout, **options
        )
        return pool, replicas
    return (
        _sentinel_pool(
            url,
            sentinel_password,
            max_connections=max_connections,
            timeout=timeout,
            **options,
        ),
        replicas,
    )


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


def _address(text: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``host`` (Sentinel's port, 26379)."""
    host, port = text, "26379"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"malformed sentinel address {text!r}")
            port = rest[1:]
    elif ":" in text:
        host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"malformed sentinel address {text!r}")
    return host, int(port)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) > 100:
        raise ValueError(f"{REPLICAS_OPTION} must be a whole number from 0 to 100")
    return int(text)
