"""Connecting to Redis: what counts as Redis being unavailable, and URLs
that are safe to log."""

from __future__ import annotations

from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import redis

#: What a call to Redis raises when Redis cannot be reached or answer.
REDIS_ERRORS = (redis.RedisError, OSError)


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
            (name, "***" if name.lower() == "password" else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(query, safe="*"))
    return urlunsplit(parts)
