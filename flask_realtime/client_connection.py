"""The Python client's connection, as ``js/src/connection.js`` is the browser
client's: it opens the socket, reads it on a thread of its own, decides from
each close code what comes next, and reconnects with backoff and jitter. A
page client loads its page again for a new id when the server refuses the
old one. Internal: :class:`~flask_realtime.client.Client` is its delegate,
and hears about everything through ``_connection_opened``,
``_connection_received``, ``_connection_closed`` and
``_connection_reconnecting``.

What a close code means (``docs/protocol.rst``, "Close codes"):

- 4001 (id refused): a page client loads its page again, at most once per
  ``reload_interval``; otherwise "refused", and nothing is retried.
- 4002 (replaced): "replaced", not retried, or the two sockets would take
  the id from each other for ever.
- 4003 (session ended): "ended", not retried; the server forgot the id.
- 1009 (message too big): the client closed a message longer than
  ``max_received_size``; it reconnects as for any other code.
- 1012 (service restart): every client of that server got it at the same
  instant, so the first reconnect waits a random time up to
  ``restart_window`` instead of the quick first retry.
- Anything else: "reconnecting", after a backoff delay.
"""

from __future__ import annotations

import dataclasses
import http.cookiejar
import json
import logging
import random
import ssl
import threading
import time
import typing as t
import urllib.error
import urllib.request
from html.parser import HTMLParser
from urllib.parse import quote
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import simple_websocket

from .identity import is_valid_connection_id
from .protocol import BODY_CONNECTION_ID_ATTRIBUTE
from .protocol import BODY_PATH_ATTRIBUTE
from .protocol import CLOSE_ABNORMAL
from .protocol import CLOSE_ID_REFUSED
from .protocol import CLOSE_NORMAL
from .protocol import CLOSE_REPLACED
from .protocol import CLOSE_SERVICE_RESTART
from .protocol import CLOSE_SESSION_ENDED
from .protocol import CONNECTION_ID_PARAM
from .protocol import POSITIONS_PARAM
from .protocol import SOCKET_KEY_HEADER

if t.TYPE_CHECKING:
    from .client_socket import ClientSocket

logger = logging.getLogger("flask_realtime.client")

#: States after which the connection does nothing more.
FINAL_STATES = frozenset({"closed", "refused", "replaced", "ended"})
#: Seconds a connection must stay open for the backoff to start over, so that
#: a server that accepts and at once closes is not hammered.
STABLE_AFTER = 5.0
#: Most bytes of a page read to find its connection id.
MAX_PAGE_SIZE = 8 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Settings:
    """The client's options the connection uses (see ``Client``)."""

    timeout: float
    ping_interval: float
    reconnect_initial: float
    reconnect_max: float
    restart_window: float
    reload_interval: float
    max_received_size: int
    max_pending_messages: int
    ssl_context: ssl.SSLContext | None


class Delegate(t.Protocol):
    def _reconnect_positions(self) -> dict[str, str]:
        """The last position of each channel. Called with the lock held."""

    def _connection_opened(self, reconnected: bool, attempts: int) -> None: ...

    def _connection_received(self, text: object) -> None: ...

    def _connection_closed(self, detail: dict[str, t.Any], new_page: bool) -> None:
        """``detail`` has ``code``, ``reason`` and ``state``, what comes
        next; ``new_page``: the page is loaded again for a new id."""

    def _connection_reconnecting(self, detail: dict[str, t.Any]) -> None: ...


@dataclasses.dataclass
class _Ended:
    """How one connection attempt ended."""

    code: int
    reason: str
    opened: bool = False
    held: bool = False
    #: A final state that this end forces, whatever the code.
    final: str | None = None


class Connection:
    """The socket of a page (``page_url``) or of an id an API route issued
    (``socket_url``, ``connection_id`` and ``socket_key``).

    Its attributes are read and written with ``lock`` held, the lock the
    delegate shares; it notifies the lock's waiters when it opens and when
    it ends for good.

    :raises OSError: the page could not be loaded.
    :raises ValueError: the page has no connection id.
    """

    def __init__(
        self,
        delegate: Delegate,
        lock: threading.Condition,
        settings: Settings,
        *,
        page_url: str | None = None,
        socket_url: str = "",
        connection_id: str = "",
        socket_key: str | None = None,
    ) -> None:
        self._delegate = delegate
        self._lock = lock
        self._settings = settings
        self._page_url = page_url
        self._socket_key = socket_key
        #: "idle", "connecting", "open", "reconnecting", or a final state.
        self.state = "idle"
        #: Why the connection is in its final state.
        self.final_message = "The client is not connected; call connect()."
        #: Why the last attempt ended, for a connect() that times out.
        self.last_failure = "no answer yet"
        #: The open socket, if any.
        self.ws: ClientSocket | None = None
        #: The thread that connects, reads and calls the delegate.
        self.thread: threading.Thread | None = None
        self._closing = False
        self._attached_before = False
        self._last_reload: float | None = None
        self._reload_needed = False
        self._cookies: http.cookiejar.CookieJar | None = None
        if page_url is not None:
            self._cookies = http.cookiejar.CookieJar()
            handlers: list[urllib.request.BaseHandler] = [
                urllib.request.HTTPCookieProcessor(self._cookies)
            ]
            if settings.ssl_context is not None:
                context = settings.ssl_context
                handlers.append(urllib.request.HTTPSHandler(context=context))
            self._opener = urllib.request.build_opener(*handlers)
            connection_id, socket_url = self._load_page()
        #: The connection id in use.
        self.connection_id = connection_id
        #: The socket's ``ws://`` or ``wss://`` URL, without the query.
        self.socket_url = socket_url

    def start(self) -> None:
        """Start connecting, if it never did. Called with the lock held."""
        if self.state == "idle" and not self._closing:
            self.state = "connecting"
            self.thread = threading.Thread(
                target=self._run, name="flask-realtime-client", daemon=True
            )
            self.thread.start()

    def close(self) -> None:
        """Close with 1000, stop reconnecting, and wait for the thread."""
        with self._lock:
            self._closing = True
            if self.state == "idle":
                self._finish("closed", "The client was closed.")
            ws, thread = self.ws, self.thread
            self._lock.notify_all()  # ends a reconnect delay
        if ws is not None:
            ws.close(CLOSE_NORMAL)
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._settings.timeout + 5)

    # The connection's thread

    def _run(self) -> None:
        try:
            self._reconnect_loop()
        except Exception:  # a bug of ours: end, rather than leave callers hanging
            logger.exception("The realtime client's thread failed")
            with self._lock:
                self._finish("closed", "The client's thread failed.")
            detail = {"code": CLOSE_ABNORMAL, "reason": "", "state": "closed"}
            self._delegate._connection_closed(detail, False)

    def _reconnect_loop(self) -> None:
        settings = self._settings
        tries = 0  # reconnect delays since the last connection that held
        attempts = 0  # connection attempts since the last open
        while True:
            attempts += 1
            ended = self._attempt(attempts)
            if ended.opened:
                attempts = 0
            if ended.held:
                tries = 0
            state, new_page = self._next_state(ended)
            detail = {"code": ended.code, "reason": ended.reason, "state": state}
            self._delegate._connection_closed(detail, new_page)
            if state in FINAL_STATES:
                return
            if new_page:
                continue  # at once, as a tab reloads
            if ended.code == CLOSE_SERVICE_RESTART and tries == 0:
                delay = random.uniform(0, settings.restart_window)
            else:
                initial, maximum = settings.reconnect_initial, settings.reconnect_max
                delay = backoff(tries + 1, initial, maximum)
            self._delegate._connection_reconnecting(
                {"attempt": tries + 1, "delay": delay, "code": ended.code}
            )
            with self._lock:
                self._lock.wait_for(lambda: self._closing, delay)
            tries += 1

    def _attempt(self, attempts: int) -> _Ended:
        """Connect once and read until the connection ends."""
        from .client_socket import ClientSocket

        if self._reload_needed:
            failure = self._reload_page()
            if failure is not None:
                return failure
        with self._lock:
            if self._closing:
                return _Ended(CLOSE_NORMAL, "")
            url, headers = self._handshake()
        try:
            ws = ClientSocket(
                url,
                headers,
                timeout=self._settings.timeout,
                idle_timeout=2 * self._settings.ping_interval,
                max_message_size=self._settings.max_received_size,
                max_pending=self._settings.max_pending_messages,
                ssl_context=self._settings.ssl_context,
            )
        except simple_websocket.ConnectionError as e:
            # An HTTP status before the first open is a mistake (a wrong path,
            # a refused Origin) that retrying cannot mend.
            reason = f"The server refused the upgrade with HTTP {e.status_code}."
            final = None if self._attached_before else "closed"
            return _Ended(CLOSE_ABNORMAL, reason, final=final)
        except Exception as e:  # unreachable, timed out, not a WebSocket server
            logger.debug("Connecting to %s failed", self.socket_url, exc_info=True)
            return _Ended(CLOSE_ABNORMAL, str(e) or type(e).__name__)
        with self._lock:
            self.ws = ws
        opened_at = None
        try:
            if not self._closing:
                # A first frame proves the server attached the socket to its
                # subscriptions (flask-sock answers the handshake before).
                ws.send('{"action":"ping","id":"open"}')
            while not self._closing:
                text = ws.receive()
                if self._closing:
                    break
                if opened_at is None:
                    opened_at = time.monotonic()
                    self._opened(attempts)
                self._delegate._connection_received(text)
        except (simple_websocket.ConnectionClosed, OSError):
            pass
        if self._closing:
            ws.close(CLOSE_NORMAL)  # the server forgets the id at once
        else:
            ws.finish()
        with self._lock:
            self.ws = None
        return _Ended(
            ws.close_code,
            ws.close_message or "",
            opened=opened_at is not None,
            held=opened_at is not None and time.monotonic() - opened_at >= STABLE_AFTER,
        )

    def _handshake(self) -> tuple[str, dict[str, str]]:
        """The socket's URL and the upgrade request's headers. Called with
        the lock held."""
        url = f"{self.socket_url}?{CONNECTION_ID_PARAM}={self.connection_id}"
        if self._attached_before:
            # Even {}: without positions, the server replays nothing.
            positions = json.dumps(self._delegate._reconnect_positions())
            url += f"&{POSITIONS_PARAM}={quote(positions)}"
        headers = {}
        if self._socket_key is not None:
            # A header rather than the socket_key parameter: URLs end up in
            # access logs, and the key is a secret.
            headers[SOCKET_KEY_HEADER] = self._socket_key
        if self._cookies is not None:
            request = urllib.request.Request("http" + self.socket_url[2:])
            self._cookies.add_cookie_header(request)
            cookie = request.get_header("Cookie")
            if cookie:
                headers["Cookie"] = cookie
        return url, headers

    def _opened(self, attempts: int) -> None:
        with self._lock:
            reconnected = self._attached_before
            self._attached_before = True
            self.state = "open"
            self._lock.notify_all()
        self._delegate._connection_opened(reconnected, attempts)

    def _next_state(self, ended: _Ended) -> tuple[str, bool]:
        """What follows a close: the state, and whether to load the page again."""
        now = time.monotonic()
        new_page = False
        with self._lock:
            if self._closing:
                state, message = "closed", "The client was closed."
            elif ended.final is not None:
                state, message = ended.final, ended.reason
            elif ended.code == CLOSE_REPLACED:
                state, message = "replaced", "Another socket took this connection id."
            elif ended.code == CLOSE_SESSION_ENDED:
                state, message = "ended", "The server ended the session."
            elif ended.code == CLOSE_ID_REFUSED:
                new_page = self._page_url is not None and (
                    self._last_reload is None
                    or now - self._last_reload >= self._settings.reload_interval
                )
                state = "reconnecting" if new_page else "refused"
                message = "The server refused the connection id."
                if new_page:
                    self._last_reload = now
                    self._reload_needed = True
            else:
                state, message = "reconnecting", ended.reason or f"Closed {ended.code}."
            self.last_failure = message
            if state in FINAL_STATES:
                self._finish(state, message)
            else:
                self.state = state
        return state, new_page

    def _finish(self, state: str, message: str) -> None:
        """Enter a final state. Called with the lock held."""
        self.state = state
        self.final_message = message
        self._lock.notify_all()

    # The page

    def _reload_page(self) -> _Ended | None:
        """Load the page again for a new id; how the attempt ends if that fails."""
        try:
            connection_id, socket_url = self._load_page()
        except urllib.error.HTTPError as e:
            reason = f"The page answered {e.code}."
            if 400 <= e.code < 500:
                return _Ended(CLOSE_ID_REFUSED, reason, final="refused")
            return _Ended(CLOSE_ABNORMAL, reason)
        except OSError as e:
            return _Ended(CLOSE_ABNORMAL, f"The page could not be loaded: {e}")
        except ValueError as e:
            return _Ended(CLOSE_ID_REFUSED, str(e), final="refused")
        with self._lock:
            self._reload_needed = False
            self.connection_id, self.socket_url = connection_id, socket_url
            # A new page: its first connection replays from its subscriptions.
            self._attached_before = False
        return None

    def _load_page(self) -> tuple[str, str]:
        """GET the page; its connection id and socket URL."""
        assert self._page_url is not None
        request = urllib.request.Request(
            self._page_url, headers={"Accept": "text/html"}
        )
        with self._opener.open(request, timeout=self._settings.timeout) as response:
            charset = response.headers.get_content_charset() or "utf-8"
            html = response.read(MAX_PAGE_SIZE).decode(charset, "replace")
            page_url = response.geturl()
        body = _BodyTag.attributes_of(html)
        connection_id = body.get(BODY_CONNECTION_ID_ATTRIBUTE)
        if not is_valid_connection_id(connection_id):
            raise ValueError(
                f"The page {page_url} has no <body {BODY_CONNECTION_ID_ATTRIBUTE}>:"
                " its route must use g.socket (or REALTIME_INJECT = 'always')."
            )
        path = body.get(BODY_PATH_ATTRIBUTE, "/_realtime")
        return t.cast(str, connection_id), socket_url(page_url, path, replace=True)


class _BodyTag(HTMLParser):
    """Reads the attributes of a page's first ``<body>`` tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attributes: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and self.attributes is None:
            self.attributes = {name: value or "" for name, value in attrs}

    @classmethod
    def attributes_of(cls, html: str) -> dict[str, str]:
        parser = cls()
        parser.feed(html)
        parser.close()
        return parser.attributes or {}


def socket_url(base: str, path: str, *, replace: bool = False) -> str:
    """The ``ws://`` or ``wss://`` URL of the socket at ``path``: under
    ``base``, or with ``replace``, on ``base``'s host. Never another host's:
    ``path`` may come from a page."""
    if (
        not path.startswith("/")
        or path.startswith("//")
        or any(c in path for c in "?#\\ \t\r\n")
    ):
        raise ValueError(f"Malformed socket path {path!r:.100}.")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        raise ValueError(f"The URL must be http:// or https://, got {base!r}.")
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    full_path = path if replace else parts.path.rstrip("/") + path
    return urlunsplit((scheme, parts.netloc, full_path, "", ""))


def backoff(tries: int, initial: float, maximum: float) -> float:
    """The delay before attempt ``tries`` (from 1): half of the ceiling
    ``min(maximum, initial * 2 ** (tries - 1))``, plus a random part up to the
    other half, as the browser client's ``backoff()``."""
    ceiling = min(maximum, initial * 2.0 ** min(tries - 1, 52))
    return ceiling / 2 + random.random() * ceiling / 2
