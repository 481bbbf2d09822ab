"""The ``REALTIME_`` configuration keys: defaults and validation."""

from __future__ import annotations

import dataclasses
import re
import typing as t

from .errors import ConfigurationError

#: Every key flask-realtime reads, with its default. ``docs/configuration.rst``
#: documents each one.
DEFAULTS: dict[str, t.Any] = {
    "REALTIME_PATH": "/_realtime",
    "REALTIME_INJECT": "auto",
    "REALTIME_ALLOWED_ORIGINS": (),
    "REALTIME_BACKEND": "memory://",
    "REALTIME_REDIS_PREFIX": "realtime:",
    "REALTIME_CONNECT_TIMEOUT": 60,
    "REALTIME_DISCONNECT_GRACE": 120,
    "REALTIME_PING_INTERVAL": 25,
    "REALTIME_MAX_MESSAGE_SIZE": 64 * 1024,
    "REALTIME_MAX_BACKLOG": 1024 * 1024,
    "REALTIME_WRITE_DELAY": 0,
    "REALTIME_HISTORY_SIZE": 100,
    "REALTIME_HISTORY_TTL": 300,
    "REALTIME_MESSAGE_RATE": 50,
    "REALTIME_MESSAGE_BURST": 100,
    "REALTIME_MAX_CHANNELS": 100,
    "REALTIME_CALL_ENDPOINTS": None,
    # Flask-WTF's default WTF_CSRF_HEADERS.
    "REALTIME_CALL_HEADERS": ("X-CSRFToken", "X-CSRF-Token"),
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The validated configuration of one application."""

    path: str
    #: "auto", "always" or "never" (REALTIME_INJECT = False).
    inject: str
    allowed_origins: frozenset[str]
    backend: str
    redis_prefix: str
    connect_timeout: float
    disconnect_grace: float
    ping_interval: float
    max_message_size: int
    max_backlog: int
    #: Seconds a socket's frames wait to be written together; 0 writes each
    #: at once. REALTIME_WRITE_DELAY gives it in milliseconds.
    write_delay: float
    history_size: int
    history_ttl: float
    message_rate: float
    message_burst: int
    max_channels: int
    #: Endpoints routes may be called over the socket for; None for all.
    call_endpoints: frozenset[str] | None
    #: Headers a route call may set, by lower-cased name: name as configured.
    call_headers: t.Mapping[str, str]


def load_settings(config: t.Mapping[str, t.Any]) -> Settings:
    """Read and check the ``REALTIME_`` keys, raising a clear error for a bad
    value instead of failing later inside a socket."""
    path = config["REALTIME_PATH"]
    if not isinstance(path, str) or not path.startswith("/") or "?" in path:
        _fail("REALTIME_PATH", path, "a URL path starting with '/'")
    return Settings(
        path=path.rstrip("/") or "/",
        inject=_inject(config),
        allowed_origins=_origins(config),
        backend=_backend(config),
        redis_prefix=_prefix(config),
        connect_timeout=_positive(config, "REALTIME_CONNECT_TIMEOUT"),
        disconnect_grace=_positive(config, "REALTIME_DISCONNECT_GRACE", zero_ok=True),
        ping_interval=_positive(config, "REALTIME_PING_INTERVAL"),
        max_message_size=int(
            _positive(config, "REALTIME_MAX_MESSAGE_SIZE", whole=True)
        ),
        max_backlog=int(_positive(config, "REALTIME_MAX_BACKLOG", whole=True)),
        write_delay=_write_delay(config),
        history_size=int(
            _positive(config, "REALTIME_HISTORY_SIZE", whole=True, zero_ok=True)
        ),
        history_ttl=_positive(config, "REALTIME_HISTORY_TTL"),
        message_rate=_positive(config, "REALTIME_MESSAGE_RATE"),
        message_burst=int(_positive(config, "REALTIME_MESSAGE_BURST", whole=True)),
        max_channels=int(_positive(config, "REALTIME_MAX_CHANNELS", whole=True)),
        call_endpoints=_endpoints(config),
        call_headers=_call_headers(config),
    )


def _fail(key: str, value: t.Any, expected: str) -> t.NoReturn:
    raise ConfigurationError(f"{key} must be {expected}, got {value!r}.")


def _inject(config: t.Mapping[str, t.Any]) -> str:
    value = config["REALTIME_INJECT"]
    if value is False:
        return "never"
    if value not in ("auto", "always") or not isinstance(value, str):
        _fail("REALTIME_INJECT", value, "'auto', 'always' or False")
    return value


def _positive(
    config: t.Mapping[str, t.Any],
    key: str,
    *,
    zero_ok: bool = False,
    whole: bool = False,
) -> float:
    value = config[key]
    number_types = (int,) if whole else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, number_types)
        or value != value  # NaN
        or value == float("inf")
        or value < 0
        or (value == 0 and not zero_ok)
    ):
        kind = "a whole number" if whole else "a number of seconds"
        _fail(key, value, f"{kind} greater than {'or equal to ' if zero_ok else ''}0")
    return float(value)


#: The largest REALTIME_WRITE_DELAY, in milliseconds. A push held longer
#: would look lost to a user, and the delay is meant to gather a burst,
#: which a few milliseconds do.
MAX_WRITE_DELAY_MS = 1000


def _write_delay(config: t.Mapping[str, t.Any]) -> float:
    value = config["REALTIME_WRITE_DELAY"]
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 <= value <= MAX_WRITE_DELAY_MS  # NaN fails both
    ):
        _fail(
            "REALTIME_WRITE_DELAY",
            value,
            f"a number of milliseconds from 0 to {MAX_WRITE_DELAY_MS}",
        )
    return value / 1000


def _origins(config: t.Mapping[str, t.Any]) -> frozenset[str]:
    value = config["REALTIME_ALLOWED_ORIGINS"]
    if isinstance(value, str) or not isinstance(value, t.Iterable):
        _fail(
            "REALTIME_ALLOWED_ORIGINS",
            value,
            "a list of origins such as ['https://example.com'], or ['*']",
        )
    origins = []
    for origin in value:
        if not isinstance(origin, str) or not (
            origin == "*" or origin.startswith(("http://", "https://"))
        ):
            _fail(
                "REALTIME_ALLOWED_ORIGINS",
                value,
                "a list of origins such as 'https://example.com', or '*'",
            )
        origins.append(origin.rstrip("/").lower())
    return frozenset(origins)


def _backend(config: t.Mapping[str, t.Any]) -> str:
    value = config["REALTIME_BACKEND"]
    if not isinstance(value, str) or "://" not in value:
        _fail("REALTIME_BACKEND", value, "a URL such as 'memory://'")
    return value


def _prefix(config: t.Mapping[str, t.Any]) -> str:
    value = config["REALTIME_REDIS_PREFIX"]
    if not isinstance(value, str) or not value or len(value) > 100:
        _fail("REALTIME_REDIS_PREFIX", value, "a string of 1 to 100 characters")
    return value


def _endpoints(config: t.Mapping[str, t.Any]) -> frozenset[str] | None:
    value = config["REALTIME_CALL_ENDPOINTS"]
    if value is None:
        return None
    expected = (
        "None (every route) or a list of endpoint names such as"
        " ['post_message', 'api.*']"
    )
    if isinstance(value, str) or not isinstance(value, t.Iterable):
        _fail("REALTIME_CALL_ENDPOINTS", value, expected)
    names = frozenset(value)
    for name in names:
        # A "*" means a whole blueprint, and only as "bp.*".
        if not isinstance(name, str) or not name.removesuffix(".*").strip("*."):
            _fail("REALTIME_CALL_ENDPOINTS", value, expected)
        if "*" in name.removesuffix(".*"):
            _fail("REALTIME_CALL_ENDPOINTS", value, expected)
    return names


# Headers that say who the client is, where the request goes, or how its body
# is framed: the server, the proxy or the handshake sets them, never a page.
_NEVER_CALL_HEADERS = frozenset(
    {
        "authorization",
        "connection",
        "content-length",
        "content-type",
        "cookie",
        "forwarded",
        "host",
        "origin",
        "proxy-authorization",
        "referer",
        "te",
        "transfer-encoding",
        "upgrade",
        "x-real-ip",
        "x-realtime-socket-key",
        "x-socket-connection-id",
        # What proxies and CDNs set for the client's address or the URL.
        "cf-connecting-ip",
        "fastly-client-ip",
        "true-client-ip",
        "x-client-ip",
        "x-cluster-client-ip",
        "x-forwarded",
        "x-host",
        "x-original-url",
        "x-rewrite-url",
    }
)
_NEVER_CALL_HEADER_PREFIXES = ("x-forwarded-", "sec-", "proxy-")
# No "_": WSGI servers turn X_Forwarded_For and X-Forwarded-For into the
# same environ key, so an underscore would alias a header the list refuses.
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^`|~-]{1,64}\Z")


def _call_headers(config: t.Mapping[str, t.Any]) -> dict[str, str]:
    value = config["REALTIME_CALL_HEADERS"]
    expected = "a list of header names without '_' such as ['X-CSRFToken']"
    if isinstance(value, str) or not isinstance(value, t.Iterable):
        _fail("REALTIME_CALL_HEADERS", value, expected)
    names: dict[str, str] = {}
    for name in value:
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            _fail("REALTIME_CALL_HEADERS", value, expected)
        lower = name.lower()
        if lower in _NEVER_CALL_HEADERS or lower.startswith(
            _NEVER_CALL_HEADER_PREFIXES
        ):
            raise ConfigurationError(
                f"REALTIME_CALL_HEADERS cannot allow {name!r}: a page must not"
                " set who the client is, where the request goes, or how its"
                " body is framed."
            )
        names[lower] = name
    return names
