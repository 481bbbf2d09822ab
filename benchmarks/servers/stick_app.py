"""The measuring stick: one frame encoded per push, one ``sendall`` per
subscriber.

A flask-sock route keeps the raw socket of each WebSocket (``ws.sock`` of
simple-websocket's ``Server``) in a list and blocks in ``ws.receive()`` until
the connection closes. The push encodes the message once into a complete,
unmasked text frame and writes it with ``sock.sendall(frame)`` to every
socket in the list. Nothing stops two pushes (or a push and simple-websocket's
own close or pong) from interleaving their bytes on one socket: this is no
way to write an application, only the least work a push can do with these
servers, to measure the others against.

permessage-deflate is refused (the offer is removed from the environ before
simple-websocket sees it), so the frames are plain text frames.
"""

from __future__ import annotations

import json
import struct
import threading
import typing as t

from flask import Flask
from flask import request
from flask_sock import Sock

from .common import add_routes

app = Flask(__name__)
sock = Sock(app)
sockets: list[t.Any] = []
lock = threading.Lock()


@app.before_request
def refuse_deflate() -> None:
    # simple-websocket accepts permessage-deflate whenever the client offers
    # it; without the offer the handshake agrees on no extension.
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


@sock.route("/ws")
def ws_route(ws: t.Any) -> None:
    raw = ws.sock
    with lock:
        sockets.append(raw)
    try:
        while True:
            ws.receive()
    finally:
        with lock:
            sockets.remove(raw)


def encode_frame(text: str) -> bytes:
    """A complete text frame (FIN, opcode 1), unmasked, as a server sends."""
    data = text.encode()
    length = len(data)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + data


def push(message: dict[str, t.Any]) -> None:
    frame = encode_frame(json.dumps(message, separators=(",", ":")))
    for raw in list(sockets):
        try:
            raw.sendall(frame)
        except OSError:
            pass


add_routes(app, push)
