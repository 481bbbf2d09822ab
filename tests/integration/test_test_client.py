"""The test client applications use in their own tests."""

from __future__ import annotations

import threading

import pytest
from flask import g
from flask import request
from flask import session

from flask_realtime.errors import ConnectionIdRefused
from flask_realtime.signals import socket_connected
from flask_realtime.signals import socket_disconnected

from ..conftest import create_app


@pytest.fixture
def app():
    app = create_app()
    realtime = app.extensions["realtime"]

    @app.post("/say")
    def say():
        g.socket.push({"text": request.get_json()["text"]}, "chat")
        return {"ok": True}

    @app.post("/login")
    def login():
        session["user"] = request.form["name"]
        return "", 204

    @realtime.handler("whoami")
    def whoami(message):
        return session.get("user")

    return app


@pytest.fixture
def rt(realtime, app):
    return realtime.test_client(app)


def test_render_connect_receive(rt, realtime):
    assert rt.get("/?channel=chat").status_code == 200
    assert rt.connection_id
    rt.connect()
    assert rt.connected
    realtime.push({"n": 1}, "chat")
    realtime.push({"n": 2}, "other")
    assert rt.get_received() == [{"channel": "chat", "payload": {"n": 1}}]
    assert rt.get_received() == []


def test_send_and_call(rt):
    rt.get("/")
    rt.connect()
    assert rt.send("ping") == {"id": "test-1", "body": "pong"}
    assert rt.send("nope")["error"]["code"] == "unknown_action"
    reply = rt.call("/say", method="POST", input={"text": "hi"})
    assert reply["status"] == 200 and reply["body"] == {"ok": True}
    assert rt.get_received() == [{"channel": "chat", "payload": {"text": "hi"}}]


def test_the_session_is_shared_with_the_flask_test_client(app, realtime):
    client = app.test_client()
    client.post("/login", data={"name": "ada"})
    rt = realtime.test_client(app, flask_test_client=client)
    rt.get("/")
    rt.connect()
    assert rt.send("whoami")["body"] == "ada"


def test_refused_ids_raise_like_a_4001(rt, app, realtime):
    rt.get("/")
    with pytest.raises(ConnectionIdRefused):
        rt.connect("A" * 43)
    other = realtime.test_client(app)
    other.get("/")
    with pytest.raises(ConnectionIdRefused):
        other.connect(rt.connection_id)  # another session's id
    with pytest.raises(RuntimeError, match="No page"):
        realtime.test_client(app).connect()


def test_disconnect_clean_or_not(rt, realtime):
    rt.get("/?channel=chat")
    rt.connect()
    rt.disconnect(clean=False)
    rt.connect()  # resumes within the grace period
    realtime.push("again", "chat")
    assert rt.get_received() == [{"channel": "chat", "payload": "again"}]
    rt.disconnect()
    with pytest.raises(ConnectionIdRefused):
        rt.connect()
    with pytest.raises(RuntimeError, match="not connected"):
        rt.get_received()


def test_connect_and_disconnect_send_the_signals_in_the_socket_context(rt, app):
    events = []

    def connected(sender, connection_id):
        events.append(("connected", connection_id, g.socket.connection_id))

    def disconnected(sender, connection_id, code, clean):
        events.append(("disconnected", connection_id, code, clean))

    rt.get("/?channel=c")
    with socket_connected.connected_to(connected, app):
        with socket_disconnected.connected_to(disconnected, app):
            rt.connect()
            rt.disconnect(clean=False)
            rt.connect()
            rt.disconnect()
    id_ = rt.connection_id
    assert events == [
        ("connected", id_, id_),
        ("disconnected", id_, 1006, False),
        ("connected", id_, id_),
        ("disconnected", id_, 1001, True),
    ]


def test_a_second_connection_replaces_the_first(rt, app, realtime):
    rt.get("/")
    rt.connect()
    second = realtime.test_client(app, flask_test_client=rt.http)
    second.connect(rt.connection_id)
    assert rt.close_code == 4002 and not rt.connected
    assert second.connected


def test_pushes_from_threads_arrive(rt, realtime):
    rt.get("/?channel=chat")
    rt.connect()
    threads = [
        threading.Thread(target=realtime.push, args=(n, "chat")) for n in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m["payload"] for m in rt.get_received()) == list(range(10))


def test_only_the_memory_backend_is_supported(realtime, app):
    from flask_realtime.testing import RealtimeTestClient

    class Other:
        backend = object()

    with pytest.raises(RuntimeError, match="memory backend"):
        RealtimeTestClient(Other(), app)
