"""Canaries: what flask-realtime relies on in its dependencies, beyond their
documented API. Each failure names what changed; see the pins in
pyproject.toml and docs/deployment.rst ("Why not wsproto directly")."""

from __future__ import annotations

import base64
import inspect
import socket
import threading

import flask_sock
import simple_websocket
from werkzeug.test import Cookie


def handshake_environ(server_side: socket.socket) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/ws",
        "HTTP_HOST": "localhost",
        "HTTP_UPGRADE": "websocket",
        "HTTP_CONNECTION": "Upgrade",
        "HTTP_SEC_WEBSOCKET_KEY": base64.b64encode(b"0123456789abcdef").decode(),
        "HTTP_SEC_WEBSOCKET_VERSION": "13",
        "werkzeug.socket": server_side,
    }


def test_simple_websocket_server_has_what_connection_py_uses():
    server_side, client_side = socket.socketpair()
    try:
        ws = simple_websocket.Server(handshake_environ(server_side))
        assert client_side.recv(4096).startswith(b"HTTP/1.1 101"), (
            "simple_websocket.Server no longer answers the handshake itself"
        )
        for name, kind in [
            ("event", threading.Event),
            ("input_buffer", list),
            ("thread", threading.Thread),
            ("connected", bool),
            ("sock", socket.socket),
        ]:
            value = getattr(ws, name, None)
            assert isinstance(value, kind), (
                f"simple_websocket.Server.{name} is no longer a {kind.__name__};"
                " connection.py reads it"
            )
        assert hasattr(ws, "max_message_size"), (
            "simple_websocket.Server.max_message_size is gone; connection.py sets it"
        )
        ws.connected = False
        client_side.close()
        ws.thread.join(5)
    finally:
        server_side.close()
        client_side.close()


def test_simple_websocket_reader_reads_and_writes_through_sock():
    # SocketProxy stands in for the socket: the reader must use sock.recv,
    # sock.send and sock.close, and find the socket in the WSGI environ.
    source = inspect.getsource(simple_websocket.ws)
    for call in ("self.sock.recv(", "self.sock.send(", "self.sock.close()"):
        assert call in source, f"simple-websocket's reader no longer calls {call}"
    for key in ("werkzeug.socket", "gunicorn.socket"):
        assert key in source, f"simple-websocket no longer looks up {key!r}"


def test_flask_sock_builds_its_server_from_the_request_environ():
    source = inspect.getsource(flask_sock)
    assert "Server(request.environ" in source, (
        "flask-sock no longer builds simple_websocket.Server from"
        " request.environ, where endpoint.py installs SocketProxy"
    )


def test_werkzeug_cookie_has_what_cookie_jar_py_uses():
    for name in (
        "_from_response_header",
        "_matches_request",
        "_to_request_header",
        "_storage_key",
        "origin_only",
    ):
        assert hasattr(Cookie, name) or name in Cookie.__dataclass_fields__, (
            f"werkzeug.test.Cookie.{name} is gone; cookie_jar.py uses it"
        )


def test_simple_websocket_client_has_what_client_socket_py_uses():
    # flask_realtime/client_socket.py subclasses simple_websocket.Client and
    # sets up what its __init__ would, then runs Base's own machinery.
    base = simple_websocket.ws.Base
    for name in ("_thread", "_handle_events", "handshake", "close"):
        assert callable(getattr(base, name, None)), (
            f"simple_websocket.ws.Base.{name} is gone; client_socket.py uses it"
        )
    parameters = inspect.signature(base.__init__).parameters
    for name in ("sock", "connection_type", "receive_bytes", "max_message_size"):
        assert name in parameters, (
            f"simple_websocket.ws.Base.__init__ lost {name!r}; client_socket.py"
            " passes it"
        )
    source = inspect.getsource(simple_websocket.Client.handshake)
    for attribute in ("self.host", "self.path", "self.extra_headeers"):
        assert attribute in source, (
            f"simple_websocket.Client.handshake no longer reads {attribute};"
            " client_socket.py sets it"
        )
