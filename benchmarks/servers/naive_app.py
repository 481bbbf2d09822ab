"""The naive way with flask-sock: a list of sockets and a loop of ``send``."""

from __future__ import annotations

import json
import threading
import typing as t

from flask import Flask
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from .common import add_routes

app = Flask(__name__)
sock = Sock(app)
sockets: list[t.Any] = []
lock = threading.Lock()


@sock.route("/ws")
def ws_route(ws: t.Any) -> None:
    with lock:
        sockets.append(ws)
    try:
        while True:
            ws.receive()
    finally:
        with lock:
            sockets.remove(ws)


def push(message: dict[str, t.Any]) -> None:
    text = json.dumps(message, separators=(",", ":"))
    for ws in list(sockets):
        try:
            ws.send(text)
        except ConnectionClosed:
            pass


add_routes(app, push)
