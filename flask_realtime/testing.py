"""A test client for applications that use flask-realtime."""

from __future__ import annotations

import json
import re
import threading
import typing as t

from flask import Flask
from flask.testing import EnvironBuilder

from . import frames
from . import identity
from .backends.memory import MemoryBackend
from .errors import ConnectionIdRefused
from .live_socket import LiveSocket
from .protocol import CLOSE_ABNORMAL
from .protocol import CLOSE_GOING_AWAY
from .protocol import CLOSE_REPLACED
from .protocol import CONNECTION_ID_PARAM
from .ratelimit import RateLimiter
from .signals import socket_connected
from .signals import socket_disconnected

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient
    from werkzeug.test import TestResponse

    from .state import AppState

_CONNECTION_ID = re.compile(rb'data-socket-connection-id="([^"]+)"')


class _TestConnection:
    """Takes the place of a WebSocket: keeps what the server writes."""

    def __init__(self, connection_id: str) -> None:
        self.connection_id = connection_id
        self.lock = threading.Lock()
        self.pushes: list[dict[str, t.Any]] = []
        self.presence: list[dict[str, t.Any]] = []
        self.replies: list[dict[str, t.Any]] = []
        self.close_code: int | None = None

    def send_frame(self, frame: bytes) -> None:
        message = json.loads(frames.unframe(frame)[1])
        # Positions serve replays after reconnects; tests compare the rest.
        message.pop("position", None)
        if "channel" not in message:
            kept = self.replies
        elif "presence" in message or "presence_state" in message:
            kept = self.presence
        else:
            kept = self.pushes
        with self.lock:
            if self.close_code is None:
                kept.append(message)

    def close(self, code: int, reason: str = "") -> None:
        with self.lock:
            if self.close_code is None:
                self.close_code = code


class RealtimeTestClient:
    """Renders pages, connects their sockets and talks over them, in-process
    and synchronously, in the style of Flask's test client.

    Get one from :meth:`Realtime.test_client
    <flask_realtime.Realtime.test_client>`. It needs the memory backend.

    .. code-block:: python

        def test_chat(app):
            rt = realtime.test_client(app)
            rt.get("/rooms/lobby")            # renders the page, keeps its id
            rt.connect()                      # connects that page's socket
            rt.call("/rooms/lobby/messages", method="POST", input={"text": "hi"})
            assert rt.get_received() == [
                {"channel": "room:lobby", "payload": {"text": "hi"}}
            ]

    .. versionadded:: 0.1
    """

    def __init__(
        self, state: AppState, app: Flask, flask_test_client: FlaskClient | None = None
    ) -> None:
        if not isinstance(state.backend, MemoryBackend):
            raise RuntimeError(
                "The realtime test client needs the memory backend; set"
                " REALTIME_BACKEND = 'memory://' in the tests' configuration."
            )
        self.app = app
        #: The Flask test client whose cookies (session) the socket uses.
        self.http = flask_test_client or app.test_client()
        #: The connection id of the last page that carried one.
        self.connection_id: str | None = None
        self._state = state
        self._connection: _TestConnection | None = None
        self._live: LiveSocket | None = None
        self._request_count = 0

    def open(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        """Make an HTTP request with the Flask test client (same arguments);
        a page's connection id is kept for :meth:`connect`."""
        response = self.http.open(*args, **kwargs)
        match = _CONNECTION_ID.search(response.get_data())
        if match is not None:
            self.connection_id = match.group(1).decode()
        return response

    def get(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        return self.open(*args, method="GET", **kwargs)

    def post(self, *args: t.Any, **kwargs: t.Any) -> TestResponse:
        return self.open(*args, method="POST", **kwargs)

    def connect(self, connection_id: str | None = None) -> None:
        """Connect the socket of the last page (or of ``connection_id``), with
        the Flask test client's cookies.

        :raises ~flask_realtime.errors.ConnectionIdRefused: where a real
            socket would be closed with 4001.
        """
        connection_id = connection_id or self.connection_id
        if connection_id is None:
            raise RuntimeError("No page with a connection id was opened yet.")
        builder = EnvironBuilder(
            self.app,
            path=self._state.settings.path,
            query_string={CONNECTION_ID_PARAM: connection_id},
        )
        environ = builder.get_environ()
        # Werkzeug's own way to put the test client's cookies on a request.
        self.http._add_cookies_to_wsgi(environ)
        with self.app.request_context(environ):
            key = identity.socket_key(create=False, upgrade=True)
        if key is None:
            raise ConnectionIdRefused(connection_id)
        digest = identity.digest(key, connection_id)
        connection = _TestConnection(connection_id)
        replaced = self._state.backend.attach(digest, connection)  # type: ignore[arg-type]
        if replaced is not None:
            replaced.close(CLOSE_REPLACED, "replaced by a newer socket")
        self._connection = connection
        self._live = LiveSocket(
            self.app,
            self._state,
            connection,
            connection_id=connection_id,
            digest=digest,
            environ=environ,
            limiter=RateLimiter(
                self._state.settings.message_rate, self._state.settings.message_burst
            ),
        )
        with self._live.context():
            socket_connected.send(self.app, connection_id=connection_id)

    @property
    def connected(self) -> bool:
        """Whether the socket is connected and the server has not closed it."""
        return self._connection is not None and self._connection.close_code is None

    @property
    def close_code(self) -> int | None:
        """The code the server closed the socket with, if it did."""
        return self._connection.close_code if self._connection else None

    def get_received(self) -> list[dict[str, t.Any]]:
        """The pushes received since the last call, oldest first, as
        ``{"channel", "payload"}`` (the ``position`` is left out)."""
        connection = self._require_connection()
        with connection.lock:
            received, connection.pushes = connection.pushes, []
        return received

    def get_presence(self) -> list[dict[str, t.Any]]:
        """The presence frames received since the last call, oldest first:
        ``{"channel", "presence_state"}`` and ``{"channel", "presence"}``
        (see :doc:`/presence`). :meth:`get_received` leaves them out.

        .. versionadded:: 0.1
        """
        connection = self._require_connection()
        with connection.lock:
            received, connection.presence = connection.presence, []
        return received

    def send(self, action: str, **fields: t.Any) -> dict[str, t.Any]:
        """Send a message and return the reply (an error reply included)."""
        live = self._require_live()
        self._request_count += 1
        request_id = f"test-{self._request_count}"
        live.receive(json.dumps({**fields, "action": action, "id": request_id}))
        connection = self._require_connection()
        with connection.lock:
            for index, reply in enumerate(connection.replies):
                if reply.get("id") == request_id:
                    return connection.replies.pop(index)
        raise AssertionError(
            f"No reply to {action!r}; the socket was closed with {self.close_code}."
        )

    def call(
        self,
        uri: str,
        *,
        method: str = "GET",
        input: t.Any = None,
        form: bool = False,
    ) -> dict[str, t.Any]:
        """Call a route over the socket; returns the reply with ``status``,
        ``headers`` and ``body``."""
        fields: dict[str, t.Any] = {"uri": uri, "method": method}
        if input is not None:
            fields["input"] = input
        if form:
            fields["form"] = True
        return self.send("call-route", **fields)

    def disconnect(self, *, clean: bool = True) -> None:
        """End the socket: cleanly, as when a page unloads (its subscriptions
        end), or not, as when the network drops (they wait for a reconnect).

        The :data:`~flask_realtime.signals.socket_disconnected` signal is sent
        with code 1001 (the page went away) or 1006 (the connection dropped),
        or with the code the server closed the socket with.
        """
        connection = self._require_connection()
        live = self._require_live()
        self._state.backend.detach(live.digest, connection, forget=clean)  # type: ignore[arg-type]
        self._connection = None
        self._live = None
        code = connection.close_code or (CLOSE_GOING_AWAY if clean else CLOSE_ABNORMAL)
        with live.context():
            socket_disconnected.send(
                self.app, connection_id=live.connection_id, code=code, clean=clean
            )

    def _require_connection(self) -> _TestConnection:
        if self._connection is None:
            raise RuntimeError("The socket is not connected; call connect().")
        return self._connection

    def _require_live(self) -> LiveSocket:
        self._require_connection()
        assert self._live is not None
        return self._live
