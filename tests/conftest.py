from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import typing as t

import pytest
from flask import Flask
from flask import g
from flask import render_template_string
from flask import request

from flask_realtime import Realtime
from flask_realtime.signals import socket_disconnected

from .support import Browser
from .support import LiveServer

PAGE = (
    "<!doctype html><html><head><title>t</title></head><body><p>page</p></body></html>"
)


def create_app(**config: t.Any) -> Flask:
    """An application with the routes the tests drive."""
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="test secret", **config)
    realtime = Realtime(app)
    app.extensions["test_realtime"] = realtime

    @app.get("/")
    def index() -> str:
        channels = request.args.getlist("channel") or ["chat"]
        g.socket.subscribe(*channels)
        return PAGE

    @app.get("/bare")
    def bare() -> str:
        # A page with the client and no subscription yet: it gets an id.
        return render_template_string(
            PAGE.replace("</body>", "{{ realtime_script() }}</body>")
        )

    @app.get("/plain")
    def plain() -> str:
        return PAGE  # touches nothing of realtime: stays plain

    @app.post("/subscribe")
    def subscribe() -> dict[str, str]:
        g.socket.subscribe(*request.form.getlist("channel"))
        return {"connection_id": g.socket.connection_id}

    @app.post("/unsubscribe")
    def unsubscribe() -> dict[str, str]:
        g.socket.unsubscribe(*request.form.getlist("channel"))
        return {"connection_id": g.socket.connection_id}

    @app.post("/push")
    def push() -> tuple[str, int]:
        g.socket.push(
            {"text": request.form["text"]},
            *request.form.getlist("channel"),
            exclude=request.form.getlist("exclude") or None,
        )
        return "", 204

    @app.get("/room")
    def room() -> str:
        # A page present on the first channel, under ?key= with ?meta= (JSON).
        channels = request.args.getlist("channel") or ["room"]
        g.socket.subscribe(*channels)
        meta = json.loads(request.args.get("meta", "null"))
        g.socket.track(channels[0], request.args["key"], meta)
        return PAGE

    @app.post("/track")
    def track() -> tuple[dict[str, str] | str, int]:
        # JSON (over the socket) or a form; errors answered with their text.
        data = request.get_json(silent=True) or request.form
        try:
            if "key" in data:
                g.socket.track(data["channel"], data["key"], data.get("meta"))
            else:
                g.socket.untrack(data["channel"])
        except (TypeError, ValueError) as e:
            return {"error": str(e)}, 400
        return "", 204

    @app.get("/presence")
    def presence() -> dict[str, t.Any]:
        return realtime.presence(request.args["channel"])

    @app.post("/end-session")
    def end_session() -> tuple[str, int]:
        realtime.end_session()
        return "", 204

    @app.post("/say-to-others")
    def say_to_others() -> tuple[str, int]:
        # The chat pattern: everyone in the room but the page that said it.
        fields = request.get_json(silent=True) or request.form
        g.socket.push({"said": fields["text"]}, "chat", exclude=g.socket)
        return "", 204

    return app


@pytest.fixture
def app() -> Flask:
    return create_app()


@pytest.fixture
def realtime(app: Flask) -> Realtime:
    return t.cast(Realtime, app.extensions["test_realtime"])


@pytest.fixture
def disconnects(app: Flask) -> t.Iterator[dict[str, int]]:
    """The close code of each connection id that disconnects, as the
    ``socket_disconnected`` signal tells it."""
    codes: dict[str, int] = {}

    def record(sender: Flask, connection_id: str, code: int, clean: bool) -> None:
        codes[connection_id] = code

    with socket_disconnected.connected_to(record, app):
        yield codes


@pytest.fixture
def server(app: Flask) -> t.Iterator[LiveServer]:
    live = LiveServer(app)
    yield live
    live.stop()


@pytest.fixture
def browser(server: LiveServer) -> t.Iterator[Browser]:
    client = Browser(server.url)
    yield client
    client.close_all()


@pytest.fixture
def new_browser(server: LiveServer) -> t.Iterator[t.Callable[[], Browser]]:
    """Makes more browsers (separate sessions) on the same server."""
    made: list[Browser] = []

    def make() -> Browser:
        made.append(Browser(server.url))
        return made[-1]

    yield make
    for client in made:
        client.close_all()


@pytest.fixture(autouse=True)
def no_leaked_threads() -> t.Iterator[None]:
    """Fail a test whose sockets leave threads running after it ends."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 15
    while True:
        leaked = [th for th in set(threading.enumerate()) - before if th.is_alive()]
        if not leaked:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"threads still running after the test: {leaked}")
        time.sleep(0.05)


def require(what: str) -> None:
    """Skip for a missing dependency, except in CI, where it is a failure."""
    message = f"{what} is missing"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; in CI nothing may be skipped")
    pytest.skip(message)


def start_redis_server(certificate: tuple[str, str] | None = None) -> t.Any:
    """Start a redis-server of the test's own, on a free port (speaking only
    TLS with ``certificate``); skip (fail in CI) when there is none."""
    from .redis_server import MISSING
    from .redis_server import RedisServer

    try:
        return RedisServer(certificate)
    except FileNotFoundError:
        require(MISSING)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[t.Any]:
    """A Redis Cluster of three masters for the session's tests, which empty
    it before use; skip (fail in CI) when there is no redis-server."""
    from .redis_server import ClusterDeployment
    from .redis_server import MISSING

    try:
        cluster = ClusterDeployment(str(tmp_path_factory.mktemp("cluster")))
    except FileNotFoundError:
        require(MISSING)
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_server() -> t.Iterator[t.Any]:
    """A redis-server of this test's own, on a free port."""
    server = start_redis_server()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate (and its key) for 127.0.0.1, made with
    openssl, for servers that speak TLS."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
            + ["-keyout", key, "-out", cert],
            check=True,
            capture_output=True,
        )
    except FileNotFoundError:
        require("openssl (Debian's openssl package)")
    return cert, key
