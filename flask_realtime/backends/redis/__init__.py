"""The Redis backend, for many processes and machines: see
:class:`~flask_realtime.backends.redis.backend.RedisBackend`."""

try:
    import redis  # noqa: F401 - the extra's package, checked first
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "REALTIME_BACKEND names Redis, but the 'redis' package is not"
        ' installed. Install it with: pip install "flask-realtime[redis]"'
    ) from e

from .backend import RedisBackend as RedisBackend

__all__ = ["RedisBackend"]
