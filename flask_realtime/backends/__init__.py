"""Backends keep subscriptions and carry pushes to sockets."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import ConfigurationError
from ..settings import Settings
from .base import Backend


def create_backend(settings: Settings) -> Backend:
    """Build the backend ``REALTIME_BACKEND`` names, importing it lazily."""
    scheme = urlsplit(settings.backend).scheme
    if scheme == "memory":
        from .memory import MemoryBackend

        return MemoryBackend(
            connect_timeout=settings.connect_timeout,
            disconnect_grace=settings.disconnect_grace,
        )
    raise ConfigurationError(
        f"REALTIME_BACKEND {settings.backend!r} names an unknown backend;"
        " use 'memory://'."
    )
