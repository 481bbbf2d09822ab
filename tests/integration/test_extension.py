"""The extension as a Flask user meets it: setup, config, g.socket, pages."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask import g
from flask import render_template_string
from flask import Response
from flask import stream_with_context

from flask_realtime import ConfigurationError
from flask_realtime import current_socket
from flask_realtime import is_socket_call
from flask_realtime import Realtime
from flask_realtime.signals import channel_subscribed
from flask_realtime.signals import channel_unsubscribed
from flask_realtime.signals import message_pushed
from flask_realtime.signals import message_received
from flask_realtime.signals import socket_connected
from flask_realtime.signals import socket_disconnected

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer
from ..support import wait_for


def add(app, path, view):
    app.add_url_rule(path, endpoint=path, view_func=view)


def make_app(**config):
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", **config)
    return app


def test_init_app_later_and_twice_raises():
    realtime = Realtime()
    app = make_app()
    realtime.init_app(app)
    assert app.extensions["realtime"] is realtime
    with pytest.raises(RuntimeError, match="already registered"):
        realtime.init_app(app)
    with pytest.raises(RuntimeError, match="already registered"):
        Realtime(app)


def test_the_extension_keeps_no_app():
    realtime = Realtime(make_app())
    assert not any(isinstance(v, Flask) for v in vars(realtime).values())


def test_several_apps_in_one_process_each_work():
    realtime = Realtime()
    apps = [make_app(), make_app()]
    for app in apps:
        realtime.init_app(app)

        @app.get("/")
        def index():
            g.socket.subscribe("shared-name")
            return "<body></body>"

    servers = [LiveServer(app) for app in apps]
    try:
        sockets = []
        for server in servers:
            page = Browser(server.url).open("/")
            sockets.append(page.connect())
            sockets[-1].request("ping")
        # A push needs to know which app it is for.
        with pytest.raises(RuntimeError, match="2 applications"):
            realtime.push("ambiguous", "shared-name")
        realtime.push("to the first", "shared-name", app=apps[0])
        with apps[1].app_context():
            realtime.push("to the second", "shared-name")
        assert sockets[0].receive()["payload"] == "to the first"
        assert sockets[1].receive()["payload"] == "to the second"
        assert sockets[0].request("ping")["body"] == "pong"  # nothing else came
        for s in sockets:
            s.close()
    finally:
        for server in servers:
            server.stop()


def test_push_without_init_app_says_what_to_do():
    with pytest.raises(RuntimeError, match="init_app"):
        Realtime().push("x", "c")
    with pytest.raises(RuntimeError, match="init_app"):
        Realtime(make_app()).push("x", "c", app=make_app())


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("REALTIME_PATH", "no-slash"),
        ("REALTIME_PATH", 5),
        ("REALTIME_PATH", "/a?b"),
        ("REALTIME_INJECT", "yes"),
        ("REALTIME_INJECT", True),
        ("REALTIME_INJECT", ["auto"]),
        ("REALTIME_ALLOWED_ORIGINS", "https://one.example"),
        ("REALTIME_ALLOWED_ORIGINS", ["ftp://x"]),
        ("REALTIME_ALLOWED_ORIGINS", [None]),
        ("REALTIME_ALLOWED_ORIGINS", 5),
        ("REALTIME_BACKEND", "memory"),
        ("REALTIME_BACKEND", "nosuch://x"),
        ("REALTIME_CONNECT_TIMEOUT", 0),
        ("REALTIME_CONNECT_TIMEOUT", -1),
        ("REALTIME_CONNECT_TIMEOUT", "60"),
        ("REALTIME_CONNECT_TIMEOUT", float("nan")),
        ("REALTIME_CONNECT_TIMEOUT", float("inf")),
        ("REALTIME_CONNECT_TIMEOUT", True),
        ("REALTIME_DISCONNECT_GRACE", -0.5),
        ("REALTIME_PING_INTERVAL", None),
        ("REALTIME_MAX_MESSAGE_SIZE", 1.5),
        ("REALTIME_MAX_MESSAGE_SIZE", 0),
        ("REALTIME_MAX_BACKLOG", "1MB"),
        ("REALTIME_WRITE_DELAY", -1),
        ("REALTIME_WRITE_DELAY", 5000),
        ("REALTIME_WRITE_DELAY", "5"),
        ("REALTIME_WRITE_DELAY", float("nan")),
        ("REALTIME_WRITE_DELAY", True),
        ("REALTIME_MAX_CHANNELS", 0),
        ("REALTIME_MAX_CHANNELS", 2.5),
        ("REALTIME_MAX_CHANNELS", "100"),
        ("REALTIME_CALL_ENDPOINTS", "index"),
        ("REALTIME_CALL_ENDPOINTS", ["*"]),
        ("REALTIME_CALL_ENDPOINTS", ["api*"]),
        ("REALTIME_CALL_ENDPOINTS", ["a.*.b"]),
        ("REALTIME_CALL_ENDPOINTS", [""]),
        ("REALTIME_CALL_ENDPOINTS", [None]),
        ("REALTIME_CALL_ENDPOINTS", 5),
    ],
)
def test_bad_config_gets_a_clear_error_naming_the_key(key, value):
    app = make_app(**{key: value})
    with pytest.raises(ConfigurationError, match=key):
        Realtime(app)
    assert "realtime" not in app.extensions


def test_config_defaults_are_set_and_documented():
    app = make_app()
    Realtime(app)
    keys = sorted(k for k in app.config if k.startswith("REALTIME_"))
    with open("docs/configuration.rst") as f:
        documented = f.read()
    for key in keys:
        assert f".. data:: {key}" in documented


def test_g_socket_in_every_request_and_the_id_is_issued_lazily():
    app = make_app()
    realtime = Realtime(app)
    seen = {}

    @app.before_request
    def early():
        seen["early"] = g.socket  # registered before the route, still there

    @app.get("/api")
    def api():
        return {"has_socket": g.socket is seen["early"]}

    @app.get("/id")
    def get_id():
        return {"id": g.socket.connection_id, "again": g.socket.connection_id}

    client = app.test_client()
    assert client.get("/api").json == {"has_socket": True}
    backend = realtime._state(app).backend
    assert backend.socket_count() == 0  # nothing issued for a JSON route
    body = client.get("/id").json
    assert body["id"] == body["again"]
    assert backend.socket_count() == 1


def test_html_pages_get_the_body_attributes():
    app = make_app(REALTIME_INJECT="always")
    Realtime(app)
    add(app, "/page", lambda: '<!doctype html><BODY class="x">hi</BODY>')
    add(app, "/two", lambda: "<body>a</body><body>b</body>")
    add(app, "/text", lambda: Response("<body>t</body>", mimetype="text/plain"))
    add(app, "/json", lambda: {"body": "<body>"})
    add(app, "/fragment", lambda: "<p>no body tag</p>")
    add(app, "/tbody", lambda: "<table><tbody></tbody></table><body>x</body>")
    add(app, "/redirect", lambda: ("<body>moved</body>", 302, {"Location": "/"}))
    add(
        app,
        "/manual",
        lambda: render_template_string(
            '<body data-socket-connection-id="{{ socket_connection_id }}">x</body>'
        ),
    )

    @app.get("/stream")
    def stream():
        return Response(stream_with_context(iter(["<body>", "x</body>"])))

    client = app.test_client()
    page = client.get("/page").get_data(as_text=True)
    assert page.startswith('<!doctype html><BODY data-socket-connection-id="')
    assert 'data-socket-path="/_realtime" class="x">hi</BODY>' in page
    assert client.get("/two").get_data(as_text=True).count("data-socket") == 2
    assert client.get("/text").get_data(as_text=True) == "<body>t</body>"
    assert client.get("/json").json == {"body": "<body>"}
    assert client.get("/fragment").get_data(as_text=True) == "<p>no body tag</p>"
    assert "<tbody>" in client.get("/tbody").get_data(as_text=True)
    assert "<body data-socket" in client.get("/tbody").get_data(as_text=True)
    assert client.get("/redirect").get_data(as_text=True) == "<body>moved</body>"
    assert (
        client.get("/manual").get_data(as_text=True).count("data-socket-connection-id")
        == 1
    )
    assert client.get("/stream").get_data(as_text=True) == "<body>x</body>"


def test_injection_can_be_turned_off_and_templates_still_get_the_id():
    app = make_app(REALTIME_INJECT=False)
    Realtime(app)
    add(
        app,
        "/",
        lambda: render_template_string("<body>{{ socket_connection_id }}</body>"),
    )
    add(app, "/plain", lambda: "<body>x</body>")
    client = app.test_client()
    assert client.get("/plain").get_data(as_text=True) == "<body>x</body>"
    body = client.get("/").get_data(as_text=True)
    assert "data-socket" not in body and len(body) > len("<body></body>") + 30


def test_the_socket_path_is_configurable_and_follows_the_script_root():
    app = make_app(REALTIME_PATH="/ws/live/", REALTIME_INJECT="always")
    Realtime(app)
    add(app, "/", lambda: "<body></body>")
    client = app.test_client()
    assert 'data-socket-path="/ws/live"' in client.get("/").get_data(as_text=True)
    mounted = client.get("/", environ_overrides={"SCRIPT_NAME": "/shop"})
    assert 'data-socket-path="/shop/ws/live"' in mounted.get_data(as_text=True)


def test_without_a_secret_key_the_error_says_what_to_set():
    app = Flask(__name__)
    Realtime(app)
    add(app, "/", lambda: render_template_string("<body>{{ realtime_script() }}"))
    app.testing = True
    with pytest.raises(RuntimeError, match="secret key"):
        app.test_client().get("/")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), TypeError),
        ((["a", "b"],), TypeError),
        ((b"bytes",), TypeError),
        ((None,), TypeError),
        ((1,), TypeError),
        (("",), ValueError),
        (("x" * 257,), ValueError),
        (("room-\ud800",), ValueError),  # a lone surrogate: no UTF-8 for it
    ],
)
def test_bad_channel_arguments_get_clear_errors(args, error):
    app = make_app()
    realtime = Realtime(app)
    with pytest.raises(error, match="channel"):
        realtime.push("m", *args)
    with app.test_request_context():
        app.preprocess_request()
        with pytest.raises(error, match="channel"):
            g.socket.subscribe(*args)
        with pytest.raises(error, match="channel"):
            g.socket.unsubscribe(*args)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (object(), TypeError),
        ({"x": {1, 2}}, TypeError),
        (float("nan"), ValueError),
        ({"x": float("inf")}, ValueError),
    ],
)
def test_messages_that_are_not_json_are_refused_before_sending(message, error):
    app = make_app()
    realtime = Realtime(app)
    with pytest.raises(error, match="JSON"):
        realtime.push(message, "c")


def test_messages_are_encoded_like_jsonify(browser, realtime):
    import datetime
    import decimal
    import uuid

    socket = browser.open("/").connect()
    socket.request("ping")
    realtime.push(
        {
            "when": datetime.date(2026, 1, 2),
            "id": uuid.UUID(int=1),
            "price": decimal.Decimal("1.50"),
            "text": "héllo ☃",
        },
        "chat",
    )
    payload = socket.receive()["payload"]
    assert payload["when"] == "Fri, 02 Jan 2026 00:00:00 GMT"
    assert payload["id"] == "00000000-0000-0000-0000-000000000001"
    assert payload["price"] == "1.50"
    assert payload["text"] == "héllo ☃"


def test_signals_are_sent_with_the_documented_arguments(browser, realtime, app):
    events = []

    def recorder(name):
        def record(sender, **kwargs):
            assert sender is app
            events.append((name, kwargs))

        return record

    receivers = {
        signal: recorder(signal.name)
        for signal in (
            socket_connected,
            socket_disconnected,
            channel_subscribed,
            channel_unsubscribed,
            message_pushed,
            message_received,
        )
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver, app)
    try:
        page = browser.open("/?channel=s1&channel=s2")
        socket = page.connect()
        socket.request("ping")
        browser.request(
            "/unsubscribe",
            method="POST",
            data={"channel": "s2"},
            headers={"X-Socket-Connection-Id": page.connection_id},
        )
        realtime.push({"m": 1}, "s1")
        socket.receive()
        socket.close()
        wait_for(lambda: any(name == "socket-disconnected" for name, _ in events))
    finally:
        for signal, receiver in receivers.items():
            signal.disconnect(receiver, app)
    cid = page.connection_id
    assert events == [
        ("channel-subscribed", {"connection_id": cid, "channels": ("s1", "s2")}),
        ("socket-connected", {"connection_id": cid}),
        (
            "message-received",
            {"connection_id": cid, "message": {"action": "ping", "id": "r1"}},
        ),
        ("channel-unsubscribed", {"connection_id": cid, "channels": ("s2",)}),
        ("message-pushed", {"message": {"m": 1}, "channels": ("s1",)}),
        ("socket-disconnected", {"connection_id": cid, "code": 1000, "clean": True}),
    ]


def test_push_from_many_threads_while_sockets_come_and_go(browser, realtime):
    stop = threading.Event()
    errors = []

    def pusher():
        n = 0
        while not stop.is_set():
            try:
                realtime.push(n, "busy")
            except Exception as e:  # pragma: no cover - the assertion shows it
                errors.append(e)
            n += 1

    threads = [threading.Thread(target=pusher) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(20):
            socket = browser.open("/?channel=busy").connect()
            socket.receive()
            socket.close()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []


def test_create_app_helper_is_independent():
    assert create_app() is not create_app()


def test_a_server_without_concurrency_is_refused_with_a_clear_error(app, caplog):
    import websocket
    from werkzeug.serving import make_server

    app.testing = False  # log the error instead of letting it propagate
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}
    )
    thread.start()
    try:
        browser = Browser(f"http://127.0.0.1:{server.server_port}")
        page = browser.open("/")
        with pytest.raises(websocket.WebSocketBadStatusException) as info:
            page.connect()
        assert info.value.status_code == 500
        assert "gthread and gevent workers" in caplog.text
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_current_socket_is_g_socket_and_says_when_there_is_none():
    app = make_app()
    Realtime(app)
    add(app, "/", lambda: {"same": current_socket._get_current_object() is g.socket})
    assert app.test_client().get("/").json == {"same": True}
    other = make_app()  # flask-realtime is not registered on it
    with other.test_request_context():
        assert not is_socket_call()
        with pytest.raises(RuntimeError, match="no page socket here"):
            current_socket.subscribe("a")


def test_windows_is_refused_at_init_app_with_what_to_use(monkeypatch):
    import select

    monkeypatch.delattr(select, "poll")  # as on Windows
    with pytest.raises(RuntimeError, match="not on Windows. Use WSL"):
        Realtime(make_app())
