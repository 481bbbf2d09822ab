"""A socket ends with the session it was opened in, and on
``realtime.disconnect()`` (issue 10, item 4)."""

from __future__ import annotations

import pytest
from flask import g
from flask import request
from flask import session

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer


@pytest.fixture
def app():
    app = create_app()
    realtime = app.extensions["test_realtime"]

    @app.post("/login")
    def login():
        session["user"] = request.form["user"]
        return "", 204

    @app.get("/me")
    def me():
        g.socket.subscribe(f"user:{session['user']}")
        return "<html><body>me</body></html>"

    @app.post("/logout")
    def logout():
        session.clear()
        return "logged out"

    @app.post("/logout-keep-session")
    def logout_keep_session():
        session.pop("user")
        realtime.end_session()
        return "", 204

    @app.post("/disconnect")
    def disconnect():
        realtime.disconnect(*request.form.getlist("channel"))
        return "", 204

    @realtime.handler("log-out")
    def log_out(message):
        realtime.end_session()
        return "bye"

    @app.post("/transfer")
    def transfer():
        return {"from": session.get("user")}

    return app


def logged_in(server, user):
    browser = Browser(server.url)
    browser.request("/login", method="POST", data={"user": user})
    return browser


def test_logging_out_ends_every_socket_of_the_session(server, realtime):
    alice = logged_in(server, "alice")
    bob = logged_in(server, "bob")
    try:
        tabs = [alice.open("/me").connect() for _ in range(2)]
        pending = alice.open("/me")  # rendered, not yet connected
        bobs = bob.open("/me").connect()
        for tab in [*tabs, bobs]:
            tab.request("ping")
        status, _ = alice.request("/logout", method="POST")
        assert status == 200
        for tab in tabs:
            assert tab.receive_close().code == 4003
        realtime.push("for alice", "user:alice")
        realtime.push("for bob", "user:bob")
        assert bobs.receive()["payload"] == "for bob"
        # Another user logs in on the same browser: the page rendered for
        # alice, never connected, cannot connect now.
        alice.request("/login", method="POST", data={"user": "carol"})
        assert pending.connect().receive_close().code == 4001
    finally:
        alice.close_all()
        bob.close_all()


def test_a_logout_called_over_the_socket_replies_then_ends_it(server):
    alice = logged_in(server, "alice")
    try:
        socket = alice.open("/me").connect()
        reply = socket.request("call-route", uri="/logout", method="POST")
        assert reply["status"] == 200 and reply["body"] == "logged out"
        assert socket.receive_close().code == 4003
    finally:
        alice.close_all()


def test_end_session_ends_the_sockets_and_keeps_the_rest(server):
    alice = logged_in(server, "alice")
    try:
        socket = alice.open("/me").connect()
        socket.request("ping")
        status, _ = alice.request("/logout-keep-session", method="POST")
        assert status == 204
        assert socket.receive_close().code == 4003
        # A new page gets a new key and a working socket.
        alice.request("/login", method="POST", data={"user": "alice"})
        fresh = alice.open("/me").connect()
        assert fresh.request("ping")["body"] == "pong"
    finally:
        alice.close_all()


def test_disconnect_ends_a_users_sockets_in_every_browser(server, realtime):
    phone, laptop = logged_in(server, "alice"), logged_in(server, "alice")
    bob = logged_in(server, "bob")
    try:
        sockets = [b.open("/me").connect() for b in (phone, laptop)]
        bobs = bob.open("/me").connect()
        for s in [*sockets, bobs]:
            s.request("ping")
        status, _ = bob.request(
            "/disconnect", method="POST", data={"channel": "user:alice"}
        )
        assert status == 204
        for s in sockets:
            assert s.receive_close().code == 4003
        realtime.push("still here", "user:bob")
        assert bobs.receive()["payload"] == "still here"
        # Outside any request, too.
        realtime.disconnect("user:bob")
        assert bobs.receive_close().code == 4003
    finally:
        for b in (phone, laptop, bob):
            b.close_all()


@pytest.mark.parametrize("channels", [(), (1,), ("",)])
def test_disconnect_refuses_bad_channels(realtime, channels):
    with pytest.raises((TypeError, ValueError)):
        realtime.disconnect(*channels)


def test_a_route_past_max_channels_fails_clearly_and_the_socket_keeps_working():
    app = create_app(REALTIME_MAX_CHANNELS=3)
    server = LiveServer(app)
    browser = Browser(server.url)
    try:
        page = browser.open("/?channel=a&channel=b")
        status, _ = browser.request(
            "/?channel=c&channel=d",
            headers={"X-Socket-Connection-Id": page.connection_id},
        )
        assert status == 500
        socket = page.connect()
        app.extensions["test_realtime"].push("still", "a")
        assert socket.receive()["payload"] == "still"
    finally:
        browser.close_all()
        server.stop()


def test_end_session_in_a_message_handler_ends_the_session_sockets(server):
    alice = logged_in(server, "alice")
    try:
        other_tab = alice.open("/me").connect()
        other_tab.request("ping")
        socket = alice.open("/me").connect()
        reply = socket.request("log-out")
        assert reply["body"] == "bye"
        assert socket.receive_close().code == 4003
        assert other_tab.receive_close().code == 4003
    finally:
        alice.close_all()
