"""Flask-SocketIO, with its defaults: each client joins a room on connect.

``BENCH_ASYNC_MODE`` is ``threading`` (under Werkzeug) or ``gevent`` (under
gunicorn's gevent worker). Its WebSocket is simple-websocket's, which accepts
permessage-deflate when the client offers it, as browsers do.
"""

from __future__ import annotations

import os

from flask import Flask
from flask_socketio import join_room
from flask_socketio import SocketIO

from .common import add_routes
from .common import CHANNEL

app = Flask(__name__)
app.config["SECRET_KEY"] = "benchmark"
socketio = SocketIO(app, async_mode=os.environ.get("BENCH_ASYNC_MODE", "threading"))


@socketio.on("connect")
def connect() -> None:
    join_room(CHANNEL)


add_routes(app, lambda message: socketio.emit("m", message, to=CHANNEL))
