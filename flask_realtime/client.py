"""A Python client of the wire protocol, for scripts, services, bots, tests
and other apps: what python-socketio's client is for Flask-SocketIO.

.. code-block:: python

    from flask_realtime.client import Client

    with Client("http://localhost:5000/rooms/1") as client:
        client.on("room:1", lambda payload: print(payload["text"]))
        client.call("/messages", "POST", input={"text": "hi"})

It behaves as the browser client does (``js/src/client.js``): it reconnects
with backoff and jitter, sends its positions so that the server replays what
it missed or says plainly that it cannot, and follows the close codes of
``docs/protocol.rst``. ``docs/python-client.rst`` is its guide.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import ssl
import threading
import time
import typing as t

import simple_websocket
from werkzeug.datastructures import Headers

from .client_connection import Connection
from .client_connection import FINAL_STATES
from .client_connection import Settings
from .client_connection import socket_url
from .errors import RealtimeError
from .history import _POSITION as POSITION  # the server's own form
from .history import MAX_POSITIONS
from .identity import is_valid_connection_id
from .protocol import CLOSE_ID_REFUSED
from .pushing import MAX_CHANNEL_LENGTH

__all__ = ["CallError", "Client", "ClientClosed", "ConnectionLost", "Response"]

logger = logging.getLogger("flask_realtime.client")

#: The names :meth:`Client.on_event` accepts, as the browser client's.
EVENTS = (
    "open",
    "close",
    "reconnecting",
    "reconnected",
    "missed",
    "refused",
    "replaced",
    "ended",
)

Listener = t.Callable[[t.Any], None]
EventListener = t.Callable[[dict[str, t.Any]], None]


@dataclasses.dataclass(frozen=True)
class Response:
    """A route's response to :meth:`Client.call`. A class rather than the
    reply's dict: the names are typed and checked, and ``headers`` looks up
    names in any case, as Flask's own ``response.headers`` does."""

    #: The HTTP status, such as 200 or 404.
    status: int
    #: The response's headers (never ``Set-Cookie``).
    headers: Headers
    #: Parsed JSON for a JSON response, the text otherwise, ``""`` for HEAD.
    body: t.Any


class CallError(RealtimeError):
    """The server answered a message with an error reply (``docs/protocol.rst``,
    "Error codes"): ``route_not_callable``, ``unknown_action``, an app's own
    code from :exc:`~flask_realtime.HandlerError`, ..."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        #: For programs: one of the protocol's codes or the app's own.
        self.code = code
        #: For people.
        self.message = message
        #: The HTTP status of an ``http_error``; None for the other codes.
        self.status = status


class ClientClosed(RealtimeError):
    """The client cannot send: it was closed, or the server ended it for
    good (its id was refused, another socket replaced it, its session ended),
    or it was never connected."""

    def __init__(self, state: str, message: str) -> None:
        super().__init__(message)
        #: ``"idle"``, ``"closed"``, ``"refused"``, ``"replaced"`` or ``"ended"``.
        self.state = state


class ConnectionLost(RealtimeError):
    """The connection dropped after a message was sent and before its reply
    came. The server may or may not have handled it: send it again only if
    doing it twice is harmless."""


class _Waiter:
    """One request waiting for its reply."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: dict[str, t.Any] | None = None
        self.error: RealtimeError | None = None


class Client:
    """A realtime client: listens to channels, calls the app's routes and
    actions over the socket, and reconnects by itself.

    ``Client(page_url)`` loads the page with a cookie jar of its own, as a
    browser tab would, reads the connection id from its ``<body
    data-socket-connection-id>``, and connects with the page's cookies. The
    route that renders the page decides the subscriptions.

    ``Client(base_url, connection_id=..., socket_key=...)`` connects with an
    id that an API route issued (see :ref:`python-client-api-routes`), for
    clients without cookies: the key is sent in the upgrade request's
    ``X-Realtime-Socket-Key`` header.

    Every method may be called from any thread. Listeners run on the client's
    own thread, one at a time, in the order frames arrive.

    :param url: the page's URL, or, with ``connection_id``, the app's root.
    :param connection_id: an id issued by the app to this client.
    :param socket_key: the key the client presented when the id was issued:
        32 to 256 printable ASCII characters.
    :param socket_path: the socket's path under ``url``
        (:data:`REALTIME_PATH`), for an id client; a page names its own.
    :param connect: connect now, and wait until the socket is open. With
        False, register listeners first, then call :meth:`connect`; the
        first connection replays what was pushed since the page subscribed.
    :param timeout: seconds to wait for a reply, for the page and for the
        first connection.
    :param ping_interval: the server's :data:`REALTIME_PING_INTERVAL`. A
        connection that brings nothing for twice this is dropped and opened
        again.
    :param reconnect_initial: seconds: the ceiling of the first reconnect
        delay; it doubles each attempt, up to ``reconnect_max``. Each delay
        is half its ceiling plus a random part of the other half.
    :param restart_window: seconds: after a server restart (close code
        1012), the first reconnect waits a random time from 0 to this.
    :param reload_interval: seconds: a page client whose id is refused
        (4001) loads the page again for a new id at most once in this period.
    :param max_message_size: the server's :data:`REALTIME_MAX_MESSAGE_SIZE`:
        a longer message raises :exc:`ValueError` instead of making the
        server close the socket.
    :param max_received_size: characters of a frame from the server, at
        least the server's :data:`REALTIME_MAX_BACKLOG`. A longer one closes
        the socket with 1009, and the client reconnects, so that a broken or
        hostile server cannot fill the client's memory.
    :param max_pending_messages: frames that may wait while a listener runs.
        With more, the client stops reading the socket, so the server's
        :data:`REALTIME_MAX_BACKLOG` applies to a client that cannot keep up.
    :param ssl_context: for ``https``/``wss`` URLs, instead of the default.
    :raises OSError: the page could not be loaded (``urllib.error.URLError``).
    :raises ValueError: the page has no connection id.
    """

    def __init__(
        self,
        url: str,
        *,
        connection_id: str | None = None,
        socket_key: str | None = None,
        socket_path: str = "/_realtime",
        connect: bool = True,
        timeout: float = 10.0,
        ping_interval: float = 25.0,
        reconnect_initial: float = 0.5,
        reconnect_max: float = 30.0,
        restart_window: float = 5.0,
        reload_interval: float = 10.0,
        max_message_size: int = 64 * 1024,
        max_received_size: int = 1024 * 1024,
        max_pending_messages: int = 1000,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if (connection_id is None) != (socket_key is None):
            raise TypeError("Pass both connection_id and socket_key, or neither.")
        self._timeout = timeout
        self._max_message_size = max_message_size
        self._lock = threading.Condition()
        self._next_id = 0
        self._pending: dict[int, _Waiter] = {}
        self._channels: dict[str, list[Listener]] = {}
        self._events: dict[str, list[Listener]] = {}
        self._positions: dict[str, str] = {}
        settings = Settings(
            timeout=timeout,
            ping_interval=ping_interval,
            reconnect_initial=reconnect_initial,
            reconnect_max=reconnect_max,
            restart_window=restart_window,
            reload_interval=reload_interval,
            max_received_size=max_received_size,
            max_pending_messages=max_pending_messages,
            ssl_context=ssl_context,
        )
        if connection_id is None:
            self._connection = Connection(self, self._lock, settings, page_url=url)
        else:
            if not is_valid_connection_id(connection_id):
                raise ValueError(f"Malformed connection id {connection_id!r:.60}.")
            self._connection = Connection(
                self,
                self._lock,
                settings,
                socket_url=socket_url(url, socket_path),
                connection_id=connection_id,
                socket_key=socket_key,
            )
        if connect:
            self.connect()

    # Public

    @property
    def state(self) -> str:
        """``"idle"``, ``"connecting"``, ``"open"``, ``"reconnecting"``, or a
        final one: ``"closed"``, ``"refused"``, ``"replaced"``, ``"ended"``."""
        with self._lock:
            return self._connection.state

    @property
    def connection_id(self) -> str:
        """The connection id in use; a page client gets a new one when the
        server refuses the old one."""
        with self._lock:
            return self._connection.connection_id

    def connect(self, timeout: float | None = None) -> None:
        """Open the socket and wait until it is open; it reconnects by itself
        from then on, until :meth:`close`. Does nothing more if it is open.

        :param timeout: seconds; the client's ``timeout`` by default.
        :raises TimeoutError: it could not open in time (the client is closed).
        :raises ClientClosed: the client is closed, or the server refused it.
        """
        connection = self._connection
        with self._lock:
            connection.start()
            opened = self._lock.wait_for(
                lambda: connection.state == "open" or connection.state in FINAL_STATES,
                self._timeout if timeout is None else timeout,
            )
            state, message = connection.state, connection.final_message
            failure = connection.last_failure
        if not opened:
            self.close()
            raise TimeoutError(
                f"Could not connect to {connection.socket_url}: {failure}"
            )
        if state != "open":
            raise ClientClosed(state, message)

    def close(self) -> None:
        """Close the socket (code 1000: the server forgets the id at once)
        and stop reconnecting. Calls waiting for a reply raise
        :exc:`ConnectionLost`, later ones :exc:`ClientClosed`. Does nothing
        if the client is already closed."""
        self._connection.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def on(self, channel: str, listener: Listener) -> t.Callable[[], None]:
        """Call ``listener(payload)`` for each message pushed to ``channel``.

        It runs on the client's thread: while it runs, the next frames wait,
        up to ``max_pending_messages``, so hand long work to another thread.
        It must not wait for :meth:`call` or :meth:`request`, whose replies
        that thread reads (they raise :exc:`RuntimeError` there). An
        exception it raises is logged on the ``flask_realtime.client``
        logger, and the next listeners and frames go on.

        :returns: a function that removes the listener.
        """
        return self._add(self._channels, channel, listener)

    def on_event(self, name: str, listener: EventListener) -> t.Callable[[], None]:
        """Call ``listener(detail)`` for one of the client's own events, as
        the browser client names them, on the client's thread:

        - ``open``: ``{"reconnected": bool}``;
        - ``close``: ``{"code", "reason", "state"}``, ``state`` being what
          comes next;
        - ``reconnecting``: ``{"attempt", "delay", "code"}``, ``delay`` in
          seconds;
        - ``reconnected``: ``{"attempts"}``;
        - ``missed``: ``{"channel", "position"}``: messages of the channel
          were lost for good (a gap); reload what you keep of it;
        - ``refused``: the close's detail and ``"reload"``: True when the
          client loaded its page again for a new id (pushes between the two
          ids are lost), False when it stops;
        - ``replaced``, ``ended``: the close's detail; the client stops.

        :raises ValueError: for another name.
        :returns: a function that removes the listener.
        """
        if name not in EVENTS:
            raise ValueError(f"Unknown event {name!r}; the events are {EVENTS}.")
        return self._add(self._events, name, listener)

    def call(
        self,
        uri: str,
        method: str = "GET",
        input: t.Any = None,
        *,
        form: bool = False,
        headers: t.Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """Call one of the app's routes over the socket (``call-route``), with
        the cookies of the socket's handshake. A 4xx or 5xx status is a
        :class:`Response`, not an error.

        :param uri: a path under the app's root, with a query string if any.
        :param input: for GET and HEAD, fields added to the query string; for
            the other methods, JSON for the body, or with ``form``, fields.
            None sends none.
        :param headers: headers :data:`REALTIME_CALL_HEADERS` allows, such
            as ``{"X-CSRFToken": token}``.
        :param timeout: seconds to wait, for the socket to open if it is
            reconnecting and for the reply; the client's ``timeout`` by
            default.
        :raises CallError: the server refused the call (``invalid_call``,
            ``route_not_callable``, ``reply_too_large``, ``rate_limited``).
        :raises TimeoutError: no reply in time.
        :raises ConnectionLost: the connection dropped before the reply.
        :raises ClientClosed: the client is closed or ended.
        """
        if not isinstance(uri, str) or not uri.startswith("/"):
            raise ValueError(f"The uri must be a path starting with '/', got {uri!r}.")
        message: dict[str, t.Any] = {
            "action": "call-route",
            "uri": uri,
            "method": method.upper(),
        }
        if input is not None:
            message["input"] = input
        if form:
            message["form"] = True
        if headers is not None:
            message["headers"] = dict(headers)
        reply = self._request(message, timeout)
        try:
            return Response(
                status=_check(reply["status"], int),
                headers=Headers(_check(reply["headers"], dict)),
                body=reply.get("body"),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise CallError("invalid_reply", f"Malformed reply: {reply!r:.200}") from e

    def request(
        self, action: str, /, *, timeout: float | None = None, **fields: t.Any
    ) -> t.Any:
        """Send a message for one of the app's actions
        (:meth:`~flask_realtime.Realtime.handler`), or ``"ping"``, and return
        the reply's body.

        .. code-block:: python

            client.request("typing", room="lobby")

        :param fields: the message's other fields; not ``id`` or ``action``.
        :raises CallError: for an error reply, such as ``unknown_action`` or
            the app's own :exc:`~flask_realtime.HandlerError`.
        :raises TimeoutError, ConnectionLost, ClientClosed: as :meth:`call`.
        """
        if "id" in fields or "action" in fields:
            raise TypeError("The fields 'id' and 'action' are the client's own.")
        return self._request({"action": action, **fields}, timeout).get("body")

    # Requests

    def _request(self, message: dict[str, t.Any], timeout: float | None) -> t.Any:
        connection = self._connection
        if threading.current_thread() is connection.thread:
            raise RuntimeError(
                "A listener cannot wait for a reply: the client's thread, which"
                " runs it, is the one that reads replies. Call from another thread."
            )
        deadline = time.monotonic() + (self._timeout if timeout is None else timeout)
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
        text = json.dumps({**message, "id": request_id}, allow_nan=False)
        if len(text.encode()) > self._max_message_size:
            raise ValueError(
                f"The message has more than {self._max_message_size} bytes, the"
                " most the server takes (REALTIME_MAX_MESSAGE_SIZE)."
            )
        waiter = _Waiter()
        with self._lock:
            while connection.state != "open" or connection.ws is None:
                if connection.state in FINAL_STATES or connection.state == "idle":
                    raise ClientClosed(connection.state, connection.final_message)
                if not self._lock.wait(deadline - time.monotonic()):
                    raise TimeoutError("The socket did not open in time.")
            self._pending[request_id] = waiter
            ws = connection.ws
        try:
            ws.send(text)
        except (OSError, simple_websocket.ConnectionClosed) as e:
            with self._lock:
                self._pending.pop(request_id, None)
            raise ConnectionLost("The connection dropped while sending.") from e
        if not waiter.done.wait(max(0.0, deadline - time.monotonic())):
            with self._lock:
                self._pending.pop(request_id, None)
            if not waiter.done.is_set():
                raise TimeoutError(f"No reply to {message['action']!r} in time.")
        if waiter.error is not None:
            raise waiter.error
        reply = t.cast(dict[str, t.Any], waiter.reply)
        if "error" in reply:
            raise _call_error(reply["error"])
        return reply

    # The connection's delegate

    def _reconnect_positions(self) -> dict[str, str]:
        return dict(self._positions)

    def _connection_opened(self, reconnected: bool, attempts: int) -> None:
        self._emit("open", {"reconnected": reconnected})
        if reconnected:
            self._emit("reconnected", {"attempts": attempts})

    def _connection_received(self, text: object) -> None:
        self._handle(text)

    def _connection_closed(self, detail: dict[str, t.Any], new_page: bool) -> None:
        with self._lock:
            pending = list(self._pending.values())
            self._pending.clear()
            if new_page:
                # Its subscriptions begin anew; the old positions mean
                # nothing to them.
                self._positions.clear()
        for waiter in pending:
            waiter.error = ConnectionLost(f"The connection closed ({detail['code']}).")
            waiter.done.set()
        self._emit("close", detail)
        state = detail["state"]
        if detail["code"] == CLOSE_ID_REFUSED and (new_page or state == "refused"):
            self._emit("refused", {**detail, "reload": new_page})
        elif state in ("replaced", "ended"):
            self._emit(state, detail)

    def _connection_reconnecting(self, detail: dict[str, t.Any]) -> None:
        self._emit("reconnecting", detail)

    # Frames

    def _handle(self, text: object) -> None:
        """Deliver one frame. A frame the client cannot read is logged and
        skipped: a broken or hostile server must not end the client."""
        if not isinstance(text, str):
            logger.warning("Ignored a binary frame from the server")
            return
        try:
            frame = json.loads(text)
        except (ValueError, RecursionError):
            logger.warning("Ignored a frame that is not JSON: %.80r", text)
            return
        if not isinstance(frame, dict):
            logger.warning("Ignored a frame that is not an object: %.80r", text)
        elif "id" in frame:
            self._handle_reply(frame)
        elif isinstance(frame.get("channel"), str):
            self._handle_push(frame)
        else:
            logger.warning("Ignored a frame without id or channel: %.80r", text)

    def _handle_reply(self, frame: dict[str, t.Any]) -> None:
        request_id = frame["id"]
        if type(request_id) is not int:  # "open", null, or not ours
            if "error" in frame:
                logger.warning("Error reply from the server: %.200r", frame)
            return
        with self._lock:
            waiter = self._pending.pop(request_id, None)
        if waiter is not None:  # None: the caller gave up waiting
            waiter.reply = frame
            waiter.done.set()

    def _handle_push(self, frame: dict[str, t.Any]) -> None:
        channel, position = frame["channel"], frame.get("position")
        if len(channel) > MAX_CHANNEL_LENGTH or (
            position is not None
            and not (isinstance(position, str) and POSITION.match(position))
        ):
            # Positions go back to the server in the reconnect URL: a
            # hostile server must not make it grow.
            logger.warning("Ignored a push with a malformed channel or position")
            return
        if position is not None:
            with self._lock:
                # The server takes at most MAX_POSITIONS back.
                if channel in self._positions or len(self._positions) < MAX_POSITIONS:
                    self._positions[channel] = position
        if frame.get("gap") is True:
            self._emit("missed", {"channel": channel, "position": position})
        elif "payload" in frame:
            self._call_each(self._channels, channel, frame["payload"])

    # Listeners

    def _add(
        self, table: dict[str, list[Listener]], name: str, listener: Listener
    ) -> t.Callable[[], None]:
        if not callable(listener):
            raise TypeError("The listener must be callable.")
        entry = _Entry(listener)
        with self._lock:
            table.setdefault(name, []).append(entry)

        def off() -> None:
            with self._lock:
                entries = table.get(name, [])
                if entry in entries:
                    entries.remove(entry)
                if not entries:
                    table.pop(name, None)

        return off

    def _emit(self, name: str, detail: dict[str, t.Any]) -> None:
        self._call_each(self._events, name, detail)

    def _call_each(
        self, table: dict[str, list[Listener]], name: str, argument: t.Any
    ) -> None:
        with self._lock:
            listeners = list(table.get(name, ()))
        for listener in listeners:
            try:
                listener(argument)
            except Exception:
                logger.exception("A listener of %r raised", name)


class _Entry:
    """One registration of a listener: ``off()`` removes this one, even when
    the same function was registered twice."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener

    def __call__(self, argument: t.Any) -> None:
        self.listener(argument)


_T = t.TypeVar("_T")


def _check(value: t.Any, kind: type[_T]) -> _T:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"expected {kind.__name__}")
    return value


def _call_error(error: t.Any) -> CallError:
    if not isinstance(error, dict):
        return CallError("invalid_reply", f"Malformed error reply: {error!r:.200}")
    status = error.get("status")
    return CallError(
        str(error.get("code", "error")),
        str(error.get("message", "")),
        status if type(status) is int else None,
    )
