"""The cookies a live socket presents to the application: a bounded jar."""

from __future__ import annotations

import dataclasses
import logging
import time
import typing as t
from urllib.parse import urlsplit

from werkzeug.test import Cookie

logger = logging.getLogger("flask_realtime")

#: Most cookies a socket keeps, the handshake's included. Browsers keep at
#: least 50 per domain (RFC 6265 section 6.1).
MAX_COOKIES = 50
#: Longest cookie a socket keeps, name and value together, in bytes. Browsers
#: ignore longer ones. With :data:`MAX_COOKIES`, the jar holds at most 200 KiB.
MAX_COOKIE_SIZE = 4096
#: Longest lifetime a cookie is given, as Chrome caps it: 400 days.
_MAX_LIFETIME = 400 * 24 * 3600


@dataclasses.dataclass
class _Stored:
    cookie: Cookie
    #: Wall-clock time (Expires is a date) after which it is gone, or None.
    expires_at: float | None
    #: Came from the handshake's ``Cookie`` header, whose attributes the
    #: browser does not send: its real domain and path are unknown.
    from_handshake: bool = False


def request_path(environ: t.Mapping[str, t.Any]) -> str:
    """The URL path of a request, script root included, as cookie paths are
    matched against it (as Werkzeug's test client does, not quoted)."""
    root = str(environ.get("SCRIPT_NAME", "")).rstrip("/")
    return f"{root}/{str(environ.get('PATH_INFO', '')).lstrip('/')}"


class CookieJar:
    """Starts with the handshake's cookies, and follows the ``Set-Cookie``
    headers of routes called over the socket, so that a later message sees
    the session as the route left it.

    Werkzeug's test client cookies do the parsing and the domain and path
    matching, keyed by (domain, path, name) as a browser does. What the test
    client leaves out, because tests trust their app, is added here: the
    jar is bounded, cookies expire (any past ``Expires``, ``Max-Age`` of 0 or
    less, and later as time passes), a malformed header is skipped instead of
    raising, and a ``Domain`` that does not cover the host is refused.
    ``Secure``, ``HttpOnly`` and ``SameSite`` are not checked: every request
    goes from the socket to this same app.
    """

    def __init__(self, handshake: t.Mapping[str, t.Any]) -> None:
        #: Every request over the socket has the handshake's host.
        self._host = _hostname(handshake)
        self._handshake_path = request_path(handshake)
        self._cookies: dict[tuple[str, str, str], _Stored] = {}
        self._warned = False
        for part in handshake.get("HTTP_COOKIE", "").split(";"):
            # Sent without attributes: keep each as a host cookie for "/".
            cookie = _parse(self._host, "/", part.strip())
            if cookie is None or cookie._storage_key in self._cookies:
                continue  # of two with one name, the app read the first
            if _too_large(cookie):
                self._ignore(cookie)
            else:
                self._store(_Stored(cookie, None, from_handshake=True))

    def header(self, path: str) -> str:
        """The ``Cookie`` header for a request to ``path`` on the host."""
        now = time.time()
        for key, stored in list(self._cookies.items()):
            if stored.expires_at is not None and stored.expires_at <= now:
                del self._cookies[key]
        matching = [
            stored.cookie
            for stored in self._cookies.values()
            if stored.cookie._matches_request(self._host, path)
        ]
        # Longer paths first, then oldest first, as browsers send them
        # (RFC 6265 section 5.4), so the app reads the most specific one.
        matching.sort(key=lambda cookie: -len(cookie.path))
        return "; ".join(cookie._to_request_header() for cookie in matching)

    def update(self, path: str, set_cookie_headers: t.Iterable[str]) -> None:
        """Apply the ``Set-Cookie`` headers of a response to a request to
        ``path``."""
        now = time.time()
        for header in set_cookie_headers:
            cookie = _parse(self._host, path, header)
            if cookie is None:
                continue  # the browser would ignore it too
            if _too_large(cookie):
                self._ignore(cookie)
                continue
            self._replace_stand_in(cookie)
            expires_at = _expiry(cookie, now)
            if expires_at is not None and expires_at <= now:
                self._cookies.pop(cookie._storage_key, None)
            else:
                self._store(_Stored(cookie, expires_at))

    def __len__(self) -> int:
        return len(self._cookies)

    def _replace_stand_in(self, cookie: Cookie) -> None:
        # The browser sent the handshake a cookie of this name. One of the
        # same name that the socket's path would get is most likely the same
        # cookie, set with a Domain or Path the handshake could not tell us
        # (SESSION_COOKIE_DOMAIN, say): it replaces it, or a logout that
        # deletes the session would leave the old session in the jar.
        key = (self._host, "/", cookie.decoded_key)
        stand_in = self._cookies.get(key)
        if (
            stand_in is not None
            and stand_in.from_handshake
            and cookie._matches_request(self._host, self._handshake_path)
        ):
            del self._cookies[key]

    def _store(self, stored: _Stored) -> None:
        key = stored.cookie._storage_key
        if key not in self._cookies and len(self) >= MAX_COOKIES:
            # Ignore the newcomer rather than evict an older cookie: a route
            # that sets many cookies must not push the session out.
            self._ignore(stored.cookie)
            return
        # Replacing keeps the old cookie's place, its creation order, as a
        # browser keeps its creation time.
        self._cookies[key] = stored

    def _ignore(self, cookie: Cookie) -> None:
        if not self._warned:  # once per socket: a loop must not flood the log
            self._warned = True
            logger.warning(
                "A socket's cookie jar keeps at most %d cookies of at most %d"
                " bytes each; cookie %r and any further ones past the limit are"
                " ignored.",
                MAX_COOKIES,
                MAX_COOKIE_SIZE,
                cookie.decoded_key[:80],
            )


def _hostname(environ: t.Mapping[str, t.Any]) -> str:
    # Not Werkzeug's get_host: it raises for a Host header it finds invalid,
    # and a socket with such a header is still a socket. Any stable name does.
    host = str(environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "")
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:  # an unclosed "[", say
        name = None
    return (name or host or "localhost").lower()


def _parse(host: str, path: str, header: str) -> Cookie | None:
    """One ``Set-Cookie`` header as a Werkzeug cookie, or None where a
    browser would ignore it."""
    try:
        # Werkzeug raises for an empty name and a non-numeric Max-Age.
        cookie = Cookie._from_response_header(host, path, header)
    except (ValueError, StopIteration, OverflowError):
        return None
    if not cookie.key:
        return None
    changes: dict[str, t.Any] = {}
    if not cookie.origin_only:
        # A leading dot is ignored (RFC 6265 section 5.2.3); a domain that
        # does not cover the host is refused, as browsers refuse it.
        domain = cookie.domain.lstrip(".").lower()
        if not domain or not (host == domain or host.endswith("." + domain)):
            return None
        changes["domain"] = domain
    if not cookie.path.startswith("/"):
        changes["path"] = path.rpartition("/")[0] or "/"  # the default path
    return dataclasses.replace(cookie, **changes) if changes else cookie


def _too_large(cookie: Cookie) -> bool:
    return len(cookie.key) + len(cookie.value) > MAX_COOKIE_SIZE


def _expiry(cookie: Cookie, now: float) -> float | None:
    # Max-Age wins over Expires (RFC 6265 section 5.3). The cap also keeps
    # a huge Max-Age from overflowing a float.
    if cookie.max_age is not None:
        return now + min(cookie.max_age, _MAX_LIFETIME) if cookie.max_age > 0 else now
    if cookie.expires is not None:
        return min(cookie.expires.timestamp(), now + _MAX_LIFETIME)
    return None
