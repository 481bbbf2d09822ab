"""Real parts for tests: a live server on a free port, and a browser-like
HTTP client whose pages open real WebSocket connections."""

from __future__ import annotations

import http.cookiejar
import json
import re
import socket
import ssl
import threading
import time
import typing as t
import urllib.error
import urllib.request
from urllib.parse import quote
from urllib.parse import urlencode

import websocket
from werkzeug.serving import make_server

if t.TYPE_CHECKING:
    from flask import Flask

_CONNECTION_ID = re.compile(r'data-socket-connection-id="([^"]+)"')


class LiveServer:
    """A threaded Werkzeug server for ``app`` on a free loopback port, or on
    ``port`` (a restart on the port of a stopped one)."""

    def __init__(self, app: Flask, port: int = 0) -> None:
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self._server.server_port
        # The connections it accepted and not closed yet, so that
        # drop_connections() can end them.
        self._accepted: list[socket.socket] = []
        accept = self._server.get_request

        def get_request() -> tuple[socket.socket, t.Any]:
            connection, address = accept()
            open_ones = [c for c in self._accepted if c.fileno() != -1]
            self._accepted = [*open_ones, connection]
            return connection, address

        self._server.get_request = get_request  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="live-server",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def drop_connections(self) -> None:
        """End every connection the server accepted, without a close frame,
        as a crash or a lost network would."""
        for connection in self._accepted:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed


class Page:
    """What a browser tab holds after rendering a page: its id and cookies."""

    def __init__(self, browser: Browser, html: str) -> None:
        self.browser = browser
        self.html = html
        match = _CONNECTION_ID.search(html)
        self.connection_id = match.group(1) if match else None

    def connect(self, **kwargs: t.Any) -> Socket:
        return self.browser.connect(self.connection_id, **kwargs)

    def reconnect(self, dropped: Socket) -> Socket:
        """Connect again after ``dropped`` lost its network, sending the
        positions it had, as the browser client does."""
        query = (
            f"socket_connection_id={self.connection_id}"
            f"&positions={quote(json.dumps(dropped.positions))}"
        )
        return self.browser.connect(None, query=query)


class Browser:
    """An HTTP client with its own cookie jar (one browser session)."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.cookies = http.cookiejar.CookieJar()
        # A test server's TLS certificate is its own, self-signed.
        self._tls = ssl.create_default_context()
        self._tls.check_hostname = False
        self._tls.verify_mode = ssl.CERT_NONE
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies),
            urllib.request.HTTPSHandler(context=self._tls),
        )
        self._sockets: list[Socket] = []

    def close_all(self) -> None:
        """Close every socket this browser opened (at the end of a test)."""
        for socket_ in self._sockets:
            socket_.close()

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        body = urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            self.server_url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with self._opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def open(self, path: str = "/") -> Page:
        status, html = self.request(path)
        assert status == 200, (status, html)
        return Page(self, html)

    def issue_with_key(self, key: str, channel: str) -> str:
        """As a client without cookies: have the app subscribe a new id under
        a key the client presents, and return the id."""
        status, body = self.request(
            "/subscribe",
            method="POST",
            data={"channel": channel},
            headers={"X-Realtime-Socket-Key": key},
        )
        assert status == 200, (status, body)
        return str(json.loads(body)["connection_id"])

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.cookies)

    def connect(
        self,
        connection_id: str | None,
        *,
        origin: str | None = "same",
        cookie: str | None = None,
        query: str | None = None,
        header: list[str] | None = None,
        sockopt: tuple[t.Any, ...] = (),
    ) -> Socket:
        ws_url = "ws" + self.server_url[4:] + "/_realtime"
        if query is None:
            query = f"socket_connection_id={connection_id}" if connection_id else ""
        ws = websocket.WebSocket(
            sockopt=sockopt,
            sslopt={"context": self._tls},
            enable_multithread=True,
            skip_utf8_validation=True,
        )
        ws.connect(
            f"{ws_url}?{query}",
            cookie=self.cookie_header() if cookie is None else cookie,
            origin=self.server_url if origin == "same" else origin,
            suppress_origin=origin is None,
            header=header or [],
            timeout=10,
        )
        self._sockets.append(Socket(ws))
        return self._sockets[-1]


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class Socket:
    """A real WebSocket client with helpers to read JSON and the close code."""

    def __init__(self, ws: websocket.WebSocket) -> None:
        self.ws = ws
        self._next_id = 0
        #: The last position received on each channel.
        self.positions: dict[str, str] = {}

    def receive(self, timeout: float = 10) -> t.Any:
        """The next JSON message; raises Closed when the server closes."""
        self.ws.settimeout(timeout)
        while True:
            try:
                opcode, frame = self.ws.recv_data_frame(True)
            except websocket.WebSocketConnectionClosedException as e:
                raise Closed(None, "connection dropped") from e
            except OSError as e:  # reset, broken pipe: the server is gone
                raise Closed(None, str(e)) from e
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self._assert_nothing_follows_the_close()
                data = frame.data
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                raise Closed(code, data[2:].decode(errors="replace"))
            if opcode == websocket.ABNF.OPCODE_PING:
                try:
                    self.ws.pong(frame.data)
                except OSError as e:
                    raise Closed(None, str(e)) from e
                continue
            if opcode == websocket.ABNF.OPCODE_PONG:
                continue
            message = json.loads(frame.data)
            # Like the browser client, keep each channel's last position (for
            # a reconnect) and hand over the rest.
            if "position" in message:
                self.positions[message["channel"]] = message.pop("position")
            return message

    def _assert_nothing_follows_the_close(self) -> None:
        # A browser fails the whole connection (and reports 1006 instead of
        # the close code) if any byte follows the close frame.
        trailing = b""
        try:
            while chunk := self.ws.sock.recv(4096):
                trailing += chunk
        except OSError:
            pass
        assert trailing == b"", f"bytes after the close frame: {trailing[:80]!r}"

    def receive_close(self, timeout: float = 10) -> Closed:
        """Read until the server closes; fails if a message arrives first."""
        try:
            message = self.receive(timeout)
        except Closed as closed:
            return closed
        raise AssertionError(f"expected a close, got {message!r}")

    def request(self, action: str, **fields: t.Any) -> t.Any:
        """Send a message and return the reply with the same id."""
        self._next_id += 1
        request_id = f"r{self._next_id}"
        self.ws.send(json.dumps({"action": action, "id": request_id, **fields}))
        while True:
            message = self.receive()
            if message.get("id") == request_id:
                return message

    def send(self, data: str | bytes) -> None:
        if isinstance(data, bytes):
            self.ws.send_binary(data)
        else:
            self.ws.send(data)

    def read_raw(self, count: int, timeout: float = 10) -> tuple[list[t.Any], int]:
        """Read ``count`` text frames straight from the TCP socket, under
        the WebSocket client: their JSON, and how many ``recv()`` calls
        brought them. Frames written together arrive in one read."""
        self.ws.settimeout(timeout)
        messages: list[t.Any] = []
        reads, buffer = 0, b""
        while len(messages) < count:
            data = self.ws.sock.recv(1 << 20)
            assert data, "the server closed the connection"
            reads += 1
            buffer += data
            while len(buffer) >= 2:
                assert buffer[0] == 0x81, buffer[:2]  # a whole text frame
                length, offset = buffer[1] & 0x7F, 2
                if length == 126:
                    length, offset = int.from_bytes(buffer[2:4], "big"), 4
                if len(buffer) < offset + length:
                    break
                messages.append(json.loads(buffer[offset : offset + length]))
                buffer = buffer[offset + length :]
        assert buffer == b""
        return messages, reads

    def drop(self) -> None:
        """End the TCP connection without a close frame, like a lost network."""
        self.ws.sock.shutdown(socket.SHUT_RDWR)
        self.ws.sock.close()

    def close(self, code: int = 1000) -> None:
        """Close cleanly, as a page does when it unloads."""
        try:
            if self.ws.connected:
                self.ws.close(status=code, timeout=5)
        except (OSError, websocket.WebSocketException):
            pass
        finally:
            self.ws.shutdown()


def wait_for(condition: t.Callable[[], t.Any], timeout: float = 10) -> t.Any:
    """Poll until ``condition()`` is true; fail with a clear message if not."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)
