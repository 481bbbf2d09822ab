"""Connecting to Redis: what counts as Redis being unavailable, and URLs
that are safe to log."""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import redis

#: What a call to Redis raises when Redis cannot be reached or answer.
REDIS_ERRORS = (redis.RedisError, OSError)


def without_password(url: str) -> str:
    """The URL with its password, if any, replaced by ``***``: errors name
    the URL, and end up in logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
