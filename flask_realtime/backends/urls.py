"""URLs that are safe to log."""

from __future__ import annotations

from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit


def without_password(url: str) -> str:
    """The URL with its password, if any, replaced by ``***``: errors name
    the URL, and end up in logs. redis-py also reads a ``password`` in the
    query string, the documented form for a Unix socket."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # such as a bracket left open
        return "(a malformed URL)"
    if password is not None:
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
