"""The cookies a live socket presents to the application."""

from __future__ import annotations

import typing as t
from http.cookies import CookieError
from http.cookies import SimpleCookie


class CookieJar:
    """Starts with the handshake's cookies, and follows the ``Set-Cookie``
    headers of routes called over the socket, so that a later message sees
    the session as the route left it. Cookies are kept as sent (raw), since
    they go back out in a ``Cookie`` header unchanged.
    """

    def __init__(self, header: str) -> None:
        self._cookies: dict[str, str] = {}
        for part in header.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                self._cookies[name] = value

    def header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self._cookies.items())

    def update(self, set_cookie_headers: t.Iterable[str]) -> None:
        for header in set_cookie_headers:
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(header)
            except CookieError:
                continue  # not ours to fix; the browser would ignore it too
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self._cookies.pop(name, None)
                else:
                    self._cookies[name] = morsel.coded_value
