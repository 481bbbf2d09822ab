"""One live WebSocket and the only writer to its socket.

simple-websocket's reader thread parses what the client sends, and we let it.
Everything that is *written* goes through :class:`Connection`: pushes, replies,
our pings, and the pong and close replies that simple-websocket's reader
produces, which reach us through :class:`SocketProxy`. So frames never
interleave, and a close frame is always the last thing written.

A pusher first tries to write a frame straight to the socket without
blocking. Whatever the kernel does not take goes into a bounded backlog that
the connection's own thread (the WSGI worker thread or greenlet flask-sock
gives us) drains. A client that stops reading therefore never blocks a
pusher: its backlog overflows and it is closed.

With a write delay (``REALTIME_WRITE_DELAY``) most pushes never reach a
connection one by one: the application's
:class:`~flask_realtime.flusher.Flusher` hands each socket the frames of a
window in one piece, which takes the same path as one frame. Frames that
someone waits for do not wait out the window: pongs, our pings, close frames
and the replies to the client's messages go at once, after the pushes that
wait for this socket, as without a delay.
"""

from __future__ import annotations

import _socket
import select
import socket
import ssl
import threading
import typing as t
from collections import deque
from time import monotonic

from . import frames
from .protocol import CLEAN_CLOSE_CODES
from .protocol import CLOSE_ABNORMAL
from .protocol import CLOSE_MESSAGE_TOO_BIG
from .protocol import CLOSE_NO_STATUS
from .protocol import CLOSE_RATE_LIMITED
from .protocol import CLOSE_SLOW_CONSUMER

if t.TYPE_CHECKING:
    from .flusher import Flusher
    from .ratelimit import RateLimiter

_POLL_SLICE = 1.0


def _nonblocking_socket(sock: t.Any) -> _socket.socket | None:
    """Return the OS socket we can write to without blocking, if there is one.

    gevent wraps the OS socket in ``_sock``; a TLS socket has no such
    non-blocking send, so its writes are left to the connection thread.
    gevent's TLS socket also keeps an OS socket in ``_sock``: writing there
    would send frames in clear, around TLS.
    """
    if _is_tls(sock):
        return None
    inner = getattr(sock, "_sock", None)
    if isinstance(inner, _socket.socket):
        return inner
    if isinstance(sock, _socket.socket) and not isinstance(sock, ssl.SSLSocket):
        return sock
    return None


def _is_tls(sock: t.Any) -> bool:
    return isinstance(sock, ssl.SSLSocket) or hasattr(sock, "_sslobj")


class Connection:
    """A WebSocket accepted by the endpoint, seen from the server.

    :param ws: the ``simple_websocket.Server`` flask-sock created.
    :param connection_id: the page's connection id.
    :param max_backlog: bytes that may wait for a slow client before it is
        closed with :data:`~flask_realtime.protocol.CLOSE_SLOW_CONSUMER`.
    :param ping_interval: seconds between pings; a peer that sends nothing for
        twice as long is dropped.
    :param max_message_size: largest message the client may send, in bytes.
    :param flusher: under a write delay, what holds the pushes that wait
        for this connection; None without a delay.
    """

    #: The Flusher hands this connection whole windows (see send_frame).
    takes_windows = True

    #: Seconds to wait for the client's close reply before dropping the TCP
    #: connection.
    close_timeout = 5.0
    #: Messages read ahead of the handler before reading pauses, so that a
    #: client cannot make the server buffer without bound.
    max_pending_messages = 64
    #: Characters (or bytes, of binary messages) read ahead before reading
    #: pauses, whatever their number: text is held as up to 4 bytes a
    #: character, so a socket holds at most about 4 MiB of input.
    max_pending_size = 1024 * 1024

    def __init__(
        self,
        ws: t.Any,
        proxy: SocketProxy,
        *,
        connection_id: str,
        max_backlog: int,
        ping_interval: float,
        max_message_size: int,
        flusher: Flusher | None = None,
    ) -> None:
        self.connection_id = connection_id
        #: The close code that ended the connection: the client's when it
        #: closed, ours when we did, 1006 when the TCP connection just ended.
        self.close_code: int | None = None
        #: Whether the client sent the first close frame.
        self.closed_by_client = False
        #: Why it ended, in a few words (for logs): the close frame's reason,
        #: or what happened to a connection that ended without one.
        self.close_reason = ""
        self._ws = ws
        self._sock = proxy.sock
        self._raw = _nonblocking_socket(proxy.sock)
        if _is_tls(proxy.sock):
            # A TLS socket waits for whole records and cannot write without
            # blocking: its reads and writes wake each second instead, so
            # that a client that stops reading, or sends part of a record,
            # cannot hold the connection's thread past its deadlines.
            proxy.sock.settimeout(_POLL_SLICE)
            self._sock = TakingTurns(proxy.sock)
        self._max_backlog = max_backlog
        self._ping_interval = ping_interval
        self._flusher = flusher
        self._lock = threading.Lock()
        # simple-websocket sets this event when a message arrives or its
        # reader stops; we set it when there is something to write.
        self._wake: threading.Event = ws.event
        self._input_room = threading.Event()
        self._backlog: deque[bytes] = deque()
        # Bytes waiting to be written, control frames included.
        self._backlog_size = 0
        # Bytes at the head of the backlog that are the rest of a frame the
        # socket took only part of (0 if none): they go before anything
        # else, a pong too, and are never dropped, or the client would read
        # the next frame inside that one.
        self._partial = 0
        # The answer to the client's latest ping, if not yet written: one is
        # enough (RFC 6455, 5.5.3), so a ping flood cannot queue more.
        self._pong = b""
        self._limiter: RateLimiter | None = None
        # The thread handling a message right now, and a close it asked for.
        self._handling: int | None = None
        self._close_after_reply: tuple[int, str] | None = None
        # The client's close frame, echoed by simple-websocket, until the
        # connection's thread writes it (see _answer_client_close).
        self._client_close: bytes | None = None
        # Whether the connection's thread is writing outside the lock:
        # nobody else writes meanwhile.
        self._writing = False
        self._closing = False
        self._broken = False
        self._reader_done = False
        self._abort_at: float | None = None
        now = monotonic()
        # When the client last showed it is there: it sent something, or
        # took bytes we were waiting to write.
        self._last_heard = now
        self._next_ping = now + ping_interval
        # simple-websocket counts characters; _handle_input counts bytes.
        ws.max_message_size = max_message_size
        self._max_message_size = max_message_size
        proxy.bind(self)

    @property
    def closed_cleanly(self) -> bool:
        """Whether the client closed on purpose (page unload or refresh)."""
        return self.closed_by_client and self.close_code in CLEAN_CLOSE_CODES

    @property
    def backlog_size(self) -> int:
        """Bytes waiting to be written to the client (for stats)."""
        return self._backlog_size

    def limit_pings(self, limiter: RateLimiter) -> None:
        """Make each ping the client sends take a token from ``limiter``,
        like a message: a ping over the limit gets no answer, and a flood
        closes the connection with
        :data:`~flask_realtime.protocol.CLOSE_RATE_LIMITED`."""
        self._limiter = limiter

    # Called from any thread.

    def send_frame(self, frame: bytes, *, window: bool = False) -> None:
        """Write an encoded frame now if the socket takes it, else queue it.

        Under a write delay, the window of pushes that wait is handed out
        first (to every socket), so that a frame never passes the pushes
        that wait for its socket. ``window``: ``frame`` is a window's
        frames, which the :class:`~flask_realtime.flusher.Flusher` hands out
        in order."""
        flusher = self._flusher
        # Without a delay, the one test this adds is the first.
        if flusher is not None and not window and flusher.pending:
            flusher.settle()
        with self._lock:
            if self._closing or self._broken:
                return
            if not self._writing and not self._backlog and self._raw is not None:
                try:
                    sent = self._raw.send(frame, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    # The connection thread sees this and ends the connection.
                    self._broken = True
                    sent = 0
                if sent == len(frame):
                    return
                if sent:
                    self._backlog.append(frame[sent:])
                    self._partial = len(frame) - sent
                    self._backlog_size += self._partial
                elif not self._broken:  # else just wake the connection thread
                    self._enqueue(frame)
            else:
                self._enqueue(frame)
        self._wake.set()

    def close(self, code: int, reason: str = "") -> None:
        """Close with ``code`` after what is already queued has been written
        (and, under a write delay, the pushes that wait for this socket).

        Asked while the connection's own thread handles a message (a logout
        route called over the socket ends its own session), the close waits
        until that message's reply is queued, so the client gets both.
        """
        if self._handling is not None and self._handling == threading.get_ident():
            self._close_after_reply = self._close_after_reply or (code, reason)
            return
        flusher = self._flusher
        if flusher is not None and flusher.pending:
            flusher.settle()
        with self._lock:
            self._queue_close(code, reason)
        self._wake.set()

    # Called from the connection's own thread.

    def run(
        self,
        on_message: t.Callable[[str | bytes], None],
        on_clean_close: t.Callable[[], None] | None = None,
    ) -> None:
        """Write, read and ping until the connection ends.

        ``on_message`` is called here for each message the client sends, one
        at a time and in order. ``on_clean_close`` is called here when the
        client closes cleanly, before its close is answered.
        """
        try:
            while True:
                self._wake.wait(self._seconds_to_next_deadline())
                self._wake.clear()
                self._answer_client_close(on_clean_close)
                self._flush()
                if self._broken:
                    break
                self._handle_input(on_message)
                now = monotonic()
                if self._reader_done:
                    # The reader may have answered a close as it stopped.
                    self._answer_client_close(on_clean_close)
                    self._flush()
                    break
                if now - self._last_heard > 2 * self._ping_interval:
                    self._broken = True
                    # A close queued before (4008, say) keeps its reason.
                    self.close_reason = self.close_reason or "no answer to pings"
                    break
                if self._closing and self._abort_at is not None:
                    if now >= self._abort_at:
                        break
                elif now >= self._next_ping:
                    self._next_ping = now + self._ping_interval
                    self._write_control(frames.ping_frame())
        finally:
            self._finish()

    def _handle_input(self, on_message: t.Callable[[str | bytes], None]) -> None:
        buffer = self._ws.input_buffer
        while not self._closing:
            try:
                message = buffer.pop(0)
            except IndexError:  # empty, or emptied by the reader on a close
                return
            self._input_room.set()
            if self._too_big(message):
                self.close(CLOSE_MESSAGE_TOO_BIG, "Message is too big")
                return
            self._handling = threading.get_ident()
            try:
                on_message(message)
            finally:
                self._handling = None
            if self._close_after_reply is not None:
                self.close(*self._close_after_reply)

    def _answer_client_close(self, on_clean_close: t.Callable[[], None] | None) -> None:
        # The client may reconnect with its id the moment it has our answer,
        # and must then be refused: so the id ends first, then the answer.
        with self._lock:
            frame, self._client_close = self._client_close, None
        if frame is None:
            return
        if on_clean_close is not None and self.closed_cleanly:
            on_clean_close()
        with self._lock:
            if not self._broken:
                self._append_close(frame)

    def _too_big(self, message: str | bytes) -> bool:
        limit = self._max_message_size
        # Only text of more than a quarter of the limit can be too big.
        return (
            isinstance(message, str)
            and len(message) * 4 > limit
            and len(message.encode()) > limit
        )

    def _seconds_to_next_deadline(self) -> float:
        deadline = min(self._next_ping, self._give_up_at())
        return max(0.0, deadline - monotonic())

    def _give_up_at(self) -> float:
        """When a client that neither answers nor reads is dropped: twice
        the ping interval after it was last heard, or once the close
        timeout has passed. (No pings go out while a long write is under
        way: a client that reads on is heard by what it takes.)"""
        deadline = self._last_heard + 2 * self._ping_interval
        if self._abort_at is not None:
            deadline = min(deadline, self._abort_at)
        return deadline

    def _flush(self) -> None:
        while True:
            with self._lock:
                if not (self._pong or self._backlog) or self._broken:
                    self._writing = False
                    return
                # A pong goes between two frames, never inside one.
                head = self._backlog.popleft() if self._partial else b""
                data = head + self._pong + b"".join(self._backlog)
                self._pong = b""
                self._partial = 0
                self._backlog.clear()
                self._backlog_size = 0
                self._writing = True
            if not self._write(data):
                with self._lock:
                    self._broken = True
                    self._writing = False
                    self._backlog.clear()
                    self._partial = 0
                return

    def _write(self, data: bytes) -> bool:
        if self._raw is None:
            return self._write_blocking(data)
        view = memoryview(data)
        while view:
            try:
                sent = self._raw.send(view, socket.MSG_DONTWAIT)
            except BlockingIOError:
                sent = 0
            except OSError:
                return False
            view = view[sent:]
            if view and not self._wait_writable():
                return False
        return True

    def _write_blocking(self, data: bytes) -> bool:
        """Write to a socket that cannot write without blocking (TLS), whose
        timeout wakes each write now and then to see if it is given up."""
        view = memoryview(data)
        while view:
            try:
                view = view[self._sock.send(view) :]
                self._last_heard = monotonic()
            except TimeoutError:
                # TLS must be given the same bytes again: the view has not moved.
                if monotonic() >= self._give_up_at() or self._reader_done:
                    return False
            except OSError:
                return False
        return True

    def _wait_writable(self) -> bool:
        """Wait until the socket takes more data; False once it is given up."""
        poller = select.poll()  # gevent patches this into a cooperative poll
        poller.register(self._sock.fileno(), select.POLLOUT)
        while True:
            now = monotonic()
            deadline = self._give_up_at()
            if now >= deadline or self._reader_done:
                return False
            if poller.poll(min(deadline - now, _POLL_SLICE) * 1000):
                self._last_heard = monotonic()  # the client took some
                return True

    def _finish(self) -> None:
        with self._lock:
            self._closing = True
            self._backlog.clear()
            self._pong = b""
            self._partial = 0
            if self.close_code is None:
                self.close_code = CLOSE_ABNORMAL
                self.close_reason = self.close_reason or "connection lost"
        self._input_room.set()
        # Shut the socket down rather than only close it: the server may hold
        # other references to it, and Werkzeug writes an HTTP response to it
        # after the handler returns. Nothing may follow our close frame.
        # But not a TLS socket yet: a shutdown drops its TLS layer, and the
        # client's close reply could no longer be read.
        if not _is_tls(self._sock):
            self._shutdown(socket.SHUT_WR)
        if not self._broken:
            # Let the client's close reply arrive before the socket goes:
            # closing with unread data sends a reset, and a reset can destroy
            # our close frame in the client's buffer before it is read.
            deadline = self._abort_at or monotonic() + self.close_timeout
            if self._reader_done:
                self._drain_until_eof(deadline)
            else:
                self._ws.thread.join(max(0.0, deadline - monotonic()))
        self._shutdown(socket.SHUT_RDWR)  # ends the reader's recv, if it waits
        self._ws.thread.join(self.close_timeout)
        self._ws.connected = False
        self._sock.close()

    def _shutdown(self, how: int) -> None:
        try:
            self._sock.shutdown(how)
        except OSError:
            pass  # already shut down, or the client is gone

    def _drain_until_eof(self, deadline: float) -> None:
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN)
        while (left := deadline - monotonic()) > 0 and poller.poll(left * 1000):
            try:
                if not self._sock.recv(65536):
                    return
            except TimeoutError:
                continue  # part of a TLS record: wait on, to the deadline
            except OSError:
                return

    # Internals shared by both sides; the lock is held by the caller.

    def _enqueue(self, frame: bytes) -> None:
        # A frame alone always fits: a push larger than the limit goes to a
        # client that keeps up, and the next frame closes a client that does
        # not. (Replies are kept under the limit, see LiveSocket.)
        if self._backlog_size and self._backlog_size + len(frame) > self._max_backlog:
            self._overflow()
        else:
            self._backlog.append(frame)
            self._backlog_size += len(frame)

    def _overflow(self) -> None:
        # The rest of a frame begun stays: the client would read the close
        # inside it.
        head = self._backlog[0] if self._partial else None
        self._backlog.clear()
        if head is not None:
            self._backlog.append(head)
        self._backlog_size = self._partial
        self._pong = b""
        self._queue_close(CLOSE_SLOW_CONSUMER, "slow consumer")

    def _queue_close(self, code: int, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        self.close_code = code
        self.close_reason = reason
        self._append_close(frames.close_frame(code, reason))

    def _append_close(self, frame: bytes) -> None:
        # Past the backlog limit too: a close frame is small, and the last.
        self._backlog.append(frame)
        self._backlog_size += len(frame)
        self._abort_at = monotonic() + self.close_timeout

    def _write_control(self, data: bytes) -> None:
        """Queue a ping of ours, counted against the backlog limit."""
        with self._lock:
            if self._broken or self._closing:
                return
            self._enqueue(data)
        self._wake.set()

    # Called by simple-websocket's reader thread through SocketProxy.

    def _reader_recv(self, size: int) -> bytes:
        buffer = self._ws.input_buffer
        while self._input_full(buffer) and not self._closing:
            self._input_room.clear()
            if self._input_full(buffer):
                self._input_room.wait(_POLL_SLICE)
        if self._closing:
            # Read on, since the client's close reply is behind whatever it
            # sent before; but input is no longer handled, so drop it.
            buffer.clear()
        while True:
            try:
                data: bytes = self._sock.recv(size)
                break
            except TimeoutError:
                continue  # a TLS socket's read wakes each second (see __init__)
            except ValueError:
                # gevent's TLS socket, shut down under the reader (by
                # _finish), raises this rather than OSError, the end
                # simple-websocket expects.
                return b""
        self._last_heard = monotonic()
        return data

    def _input_full(self, buffer: list[str | bytes]) -> bool:
        return (
            len(buffer) >= self.max_pending_messages
            or sum(map(len, buffer)) >= self.max_pending_size
        )

    def _reader_send(self, data: bytes) -> int:
        # Pongs, and close frames, several in one write when one read brought
        # several pings.
        for opcode, frame in frames.split(data):
            if opcode == frames.OPCODE_PONG:
                self._answer_ping(frame)
            elif opcode == frames.OPCODE_CLOSE:
                self._reply_close(frame)
        return len(data)

    def _answer_ping(self, pong: bytes) -> None:
        limiter = self._limiter
        if limiter is not None and not limiter.take():
            if limiter.exhausted:
                self.close(CLOSE_RATE_LIMITED, "rate limit exceeded")
            return  # over the limit: no answer
        with self._lock:
            if self._closing or self._broken:
                return
            self._backlog_size += len(pong) - len(self._pong)
            self._pong = pong
        self._wake.set()

    def _reply_close(self, frame: bytes) -> None:
        # simple-websocket writes a close of its own only for an oversized
        # message; every other close it writes answers the client's. Once our
        # own close is queued, a second one must not follow it.
        with self._lock:
            if self._closing or self._broken:
                return
            self._closing = True
            code = int.from_bytes(frame[2:4], "big") if len(frame) >= 4 else 0
            self.close_code = code or CLOSE_NO_STATUS
            # The client's close, which simple-websocket answers, has set its
            # close_reason; an oversized message has not.
            self.closed_by_client = not (
                code == CLOSE_MESSAGE_TOO_BIG
                and self._ws.close_reason == CLOSE_NO_STATUS
            )
            self.close_reason = frame[4:].decode(errors="replace")
            self._client_close = frame
        self._wake.set()

    def _reader_stopped(self) -> None:
        self._reader_done = True
        self._wake.set()


class TakingTurns:
    """A TLS socket whose reads and writes never overlap.

    OpenSSL does not let two threads use one connection at once, and a read
    can write (it answers a TLS 1.3 key update): simple-websocket's reader
    reading while the connection's thread wrote corrupted the stream, and
    crashed the process now and then. A read waits for data without the
    turn, so that writes go on meanwhile; the socket's timeout bounds how
    long either holds it.
    """

    def __init__(self, sock: t.Any) -> None:
        self._sock = sock
        self._turn = threading.Lock()
        self._readable = select.poll()  # cooperative under gevent
        self._readable.register(sock.fileno(), select.POLLIN)

    def recv(self, size: int) -> bytes:
        if not self._sock.pending() and not self._readable.poll(
            self._sock.gettimeout() * 1000
        ):
            raise TimeoutError("The read operation timed out")
        with self._turn:
            data: bytes = self._sock.recv(size)
            return data

    def send(self, data: bytes | memoryview) -> int:
        with self._turn:
            sent: int = self._sock.send(data)
            return sent

    def __getattr__(self, name: str) -> t.Any:
        # fileno, shutdown, close, and _sslobj, by which it is known as TLS.
        return getattr(self._sock, name)


class SocketProxy:
    """What simple-websocket sees as its socket.

    It is put in the WSGI environ before flask-sock creates the
    ``simple_websocket.Server``, so that from the handshake on every write
    goes through the :class:`Connection`, and the reader thread reads nothing
    until the connection is set up, with its limits, and bound here.
    """

    #: The WSGI environ keys where simple-websocket finds the socket, one per
    #: supported server (Werkzeug; gunicorn's gthread and gevent workers).
    ENVIRON_KEYS = ("werkzeug.socket", "gunicorn.socket")

    #: Seconds the reader waits for a connection to be bound before it gives
    #: up, so that a failed endpoint cannot leave it blocked.
    bind_timeout = 10.0

    def __init__(self, sock: t.Any) -> None:
        self.sock = sock
        self._connection: Connection | None = None
        self._bound = threading.Event()

    @classmethod
    def install(cls, environ: dict[str, t.Any]) -> bool:
        """Put a proxy in place of the server's socket; False if the server
        is not one we support."""
        for key in cls.ENVIRON_KEYS:
            if key in environ:
                environ[key] = cls(environ[key])
                return True
        sock = _gevent_socket(environ)
        if sock is not None:
            # simple-websocket then treats it as Werkzeug's: flask-sock ends
            # the request with an empty response, which gevent's WSGIServer
            # writes to a socket we have shut down.
            environ["werkzeug.socket"] = cls(sock)
            return True
        return False

    def bind(self, connection: Connection) -> None:
        self._connection = connection
        self._bound.set()

    def recv(self, size: int) -> bytes:
        if not self._bound.wait(self.bind_timeout) or self._connection is None:
            return b""  # the reader takes this as the end of the connection
        return self._connection._reader_recv(size)

    def send(self, data: bytes) -> int:
        if self._connection is None:  # the handshake's response
            self.sock.sendall(data)
            return len(data)
        return self._connection._reader_send(data)

    def fileno(self) -> int:
        return int(self.sock.fileno())

    def close(self) -> None:
        if self._connection is None:
            self.sock.close()
        else:
            self._connection._reader_stopped()


def _gevent_socket(environ: dict[str, t.Any]) -> t.Any:
    """The client's socket under gevent's WSGIServer, found as
    simple-websocket finds it, or None."""
    if not str(environ.get("SERVER_SOFTWARE", "")).startswith("gevent"):
        return None
    wsgi_input = environ.get("wsgi.input")
    reader = getattr(wsgi_input, "rfile", wsgi_input)
    return getattr(getattr(reader, "raw", None), "_sock", None)
