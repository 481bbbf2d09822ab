"""Backends keep subscriptions and carry pushes to sockets."""

from __future__ import annotations

from ..errors import ConfigurationError
from ..flusher import Flusher
from ..settings import Settings
from .base import Backend
from .urls import without_password


def create_backend(settings: Settings, flusher: Flusher | None = None) -> Backend:
    """Build the backend ``REALTIME_BACKEND`` names, importing it lazily.
    ``flusher``: what holds the pushes of ``REALTIME_WRITE_DELAY``."""
    # Not urlsplit: it refuses some URLs (a bracket left open) with an
    # error that would show the password; RedisBackend reports them.
    scheme = settings.backend.partition("://")[0].lower()
    if scheme == "memory":
        from .memory import MemoryBackend

        return MemoryBackend(
            connect_timeout=settings.connect_timeout,
            disconnect_grace=settings.disconnect_grace,
            history_size=settings.history_size,
            history_ttl=settings.history_ttl,
            max_channels=settings.max_channels,
            flusher=flusher,
        )
    if scheme in ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster"):
        try:
            from .redis import RedisBackend
        except ImportError as e:
            raise ConfigurationError(str(e)) from e

        return RedisBackend(
            settings.backend,
            prefix=settings.redis_prefix,
            connect_timeout=settings.connect_timeout,
            disconnect_grace=settings.disconnect_grace,
            ping_interval=settings.ping_interval,
            history_size=settings.history_size,
            history_ttl=settings.history_ttl,
            max_channels=settings.max_channels,
            flusher=flusher,
        )
    raise ConfigurationError(
        f"REALTIME_BACKEND {without_password(settings.backend)!r} names an"
        " unknown backend; use 'memory://', or a Redis URL such as"
        " 'redis://localhost:6379/0', 'redis+sentinel://...' or"
        " 'redis+cluster://...' (see the configuration docs)."
    )
