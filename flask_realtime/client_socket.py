"""The Python client's WebSocket: simple-websocket's client, with what a
client that runs for days needs and simple-websocket 1.1 leaves out.

- Timeouts: the TCP connect and the handshake give up after ``timeout``;
  afterwards a read that waits more than ``idle_timeout`` (twice the
  server's ping interval) ends the connection. The server pings every
  interval and simple-websocket answers, so silence that long means the
  connection is dead: a laptop that slept, a proxy that dropped it.
- Frames that arrive in the same packet as the handshake's response (a
  replay, a close with 4001) are read at once. simple-websocket reads them
  only when more data comes, which may be never.
- Writes, ours and the pongs of simple-websocket's reader thread, go out
  whole (``sendall``) and one at a time: its ``send()`` makes one
  ``socket.send()``, which may write part of a frame, and two threads may
  interleave (simple-websocket issues #45 and #34).
- A close from the server is answered, as RFC 6455 asks; the server
  otherwise waits 5 seconds for it.
- Memory stays bounded whatever the server sends: a message longer than
  ``max_message_size`` characters ends the connection with 1009, and the
  reader stops reading while ``max_pending`` messages wait for
  ``receive()``, so that TCP pushes back and the server's own backlog limit
  applies, as the server's ``Connection`` does with its clients.

It relies on simple-websocket's internals (``Base.__init__``, ``_thread``,
``_handle_events``, ``sock``, ``ws``, ``close_reason``, ``input_buffer``,
``max_message_size``), which the
dependency pin in ``pyproject.toml`` keeps stable; ``tests/unit/test_client.py``
runs it against a fake server.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import typing as t
from urllib.parse import urlsplit

import simple_websocket
import simple_websocket.ws
from wsproto import ConnectionType
from wsproto.connection import ConnectionState
from wsproto.events import CloseConnection
from wsproto.utilities import LocalProtocolError

from .protocol import CLOSE_ABNORMAL
from .protocol import CLOSE_MESSAGE_TOO_BIG

logger = logging.getLogger("flask_realtime.client")

#: Seconds a clean close waits for the server's answer before cutting.
CLOSE_WAIT = 2.0
#: Seconds between two looks at a full input buffer, so that a reader that
#: waits for room notices a connection that ended.
_ROOM_POLL = 0.1


class ClientSocket(simple_websocket.Client):  # type: ignore[misc]
    """An open WebSocket to ``url`` (``ws://`` or ``wss://``).

    :param headers: extra headers of the upgrade request (``Cookie``).
    :param timeout: seconds for the TCP connect and the handshake.
    :param idle_timeout: seconds without a byte from the server after which
        the connection counts as dead.
    :param max_message_size: characters of a message, past which the
        connection is closed with 1009.
    :param max_pending: messages that may wait for :meth:`receive` before
        the reader stops reading.
    :raises OSError: the server cannot be reached, or did not answer in time.
    :raises simple_websocket.ConnectionError: the server refused the upgrade
        with an HTTP status (``status_code``).
    """

    def __init__(
        self,
        url: str,
        headers: t.Mapping[str, str],
        *,
        timeout: float,
        idle_timeout: float,
        max_message_size: int,
        max_pending: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        # What simple_websocket.Client.__init__ sets, with a connect timeout
        # it does not offer. handshake() reads these four attributes.
        parts = urlsplit(url)
        secure = parts.scheme == "wss"
        self.host = parts.hostname
        self.port = parts.port or (443 if secure else 80)
        self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.subprotocols: list[str] = []
        self.extra_headeers = list(headers.items())  # sic: simple-websocket's name
        self._idle_timeout = idle_timeout
        self._max_pending = max_pending
        self._input_room = threading.Event()
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            if secure:
                context = ssl_context or ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=self.host)
            simple_websocket.ws.Base.__init__(
                self,
                _WholeWrites(sock, self._wait_for_room),
                connection_type=ConnectionType.CLIENT,
                max_message_size=max_message_size,
            )
        except BaseException:
            sock.close()
            raise

    def send(self, data: str) -> None:
        """Send a text message; a failed write ends the connection, since
        part of a frame may have gone out."""
        try:
            super().send(data)
        except OSError:
            self.abort()
            raise
        except LocalProtocolError as e:  # the server's close came first
            raise simple_websocket.ConnectionClosed(self.close_reason) from e

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        message: str | bytes | None = super().receive(timeout)
        self._input_room.set()
        return message

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        """Close with ``reason`` (a close code) and wait a moment for the
        server's answer, so that the server reads the code before the TCP
        connection ends (a reset could make it lose the close frame)."""
        # Not the idle timeout: on a dead network, closing must not take long.
        self.sock.settimeout(CLOSE_WAIT)
        try:
            simple_websocket.ws.Base.close(self, reason, message)
        except (simple_websocket.ConnectionClosed, LocalProtocolError, OSError):
            pass
        self._input_room.set()  # the reader must read the server's answer
        if threading.current_thread() is not self.thread:
            self.thread.join(CLOSE_WAIT)
        self.abort()

    def finish(self) -> None:
        """After the connection ended: let the reader thread finish what it
        is doing (answering the server's close), then release the socket."""
        if threading.current_thread() is not self.thread:
            self.thread.join(CLOSE_WAIT)
        self.abort()

    def abort(self) -> None:
        """End the TCP connection now, and with it the reader thread."""
        self.connected = False
        self.sock.cut()
        self.event.set()
        self._input_room.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(CLOSE_WAIT)

    @property
    def close_code(self) -> int:
        """The server's close code, or 1006 when the connection ended without
        a close frame (or is still open)."""
        return int(self.close_reason)

    def _thread(self) -> None:
        self.close_reason = CLOSE_ABNORMAL  # until a close frame says otherwise
        try:
            self.sock.settimeout(self._idle_timeout)
            # Frames that came with the handshake's response.
            if not self._handle_events():
                self.connected = False
                self.sock.close()
                return
            super()._thread()
        except Exception:
            # simple-websocket's loop catches only OSError and wsproto's
            # LocalProtocolError; whatever else a broken server causes must
            # end this connection, not leave it open and deaf.
            logger.exception("The client's WebSocket reader failed")
            self.connected = False
            self.event.set()
            self.sock.cut()

    def _handle_events(self) -> bool:
        keep_going = bool(super()._handle_events())
        if keep_going:
            return True
        if self.ws.state is ConnectionState.REMOTE_CLOSING:
            try:
                self.sock.send(self.ws.send(CloseConnection(code=self.close_reason)))
            except (LocalProtocolError, OSError):
                pass
        elif self.ws.state is ConnectionState.LOCAL_CLOSING:
            # simple-websocket closed a message that is too big; it records
            # no code of its own.
            self.close_reason = CLOSE_MESSAGE_TOO_BIG
        # simple-websocket sets ``connected`` only after this returns, and
        # wakes receive() no more: it would wait for ever.
        self.connected = False
        self.event.set()
        return False

    def _wait_for_room(self) -> None:
        """Before each read: wait while the input buffer is full."""
        buffer = self.input_buffer
        while len(buffer) >= self._max_pending and self.connected:
            self._input_room.clear()
            if len(buffer) >= self._max_pending:
                self._input_room.wait(_ROOM_POLL)


class _WholeWrites:
    """A socket whose ``send`` writes all the data, one caller at a time, and
    whose ``recv`` reports the end of the connection as an error (the
    handshake of simple-websocket would read an ended connection for ever)."""

    def __init__(
        self, sock: socket.socket, wait_for_room: t.Callable[[], None]
    ) -> None:
        self._sock = sock
        self._write_lock = threading.Lock()
        self._wait_for_room = wait_for_room

    def send(self, data: bytes) -> int:
        with self._write_lock:
            self._sock.sendall(data)
        return len(data)

    def recv(self, size: int) -> bytes:
        self._wait_for_room()
        data = self._sock.recv(size)
        if not data:
            raise ConnectionResetError("The server ended the connection.")
        return data

    def settimeout(self, timeout: float | None) -> None:
        try:
            self._sock.settimeout(timeout)
        except OSError:
            pass  # closed

    def fileno(self) -> int:
        return self._sock.fileno()

    def cut(self) -> None:
        """Shut the connection down: a read blocked in another thread returns
        (``close()`` alone would leave it waiting)."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()

    def close(self) -> None:
        self._sock.close()
