"""Actions from clients: application handlers and the rate limit."""

from __future__ import annotations

import json
import logging

import pytest
from flask import abort
from flask import g
from flask import got_request_exception
from flask import Response
from flask import session

from flask_realtime import HandlerError

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer


@pytest.fixture
def app():
    app = create_app()
    realtime = app.extensions["realtime"]

    @app.get("/login/<name>")
    def login(name):
        session["user"] = name
        return "<body>welcome</body>"

    @realtime.handler("echo")
    def echo(message):
        return {"data": message.get("data"), "user": session.get("user")}

    @realtime.handler("join")
    def join(message):
        g.socket.subscribe(f"room:{message['room']}")
        return "joined"

    @realtime.handler("boom")
    def boom(message):
        raise KeyError("secret detail")

    @realtime.handler("not-json")
    def not_json(message):
        return {1, 2}

    @realtime.handler("when")
    def when(message):
        import datetime

        return datetime.date(2026, 1, 2)

    @realtime.handler("remember")
    def remember(message):
        g.remembered = message["value"]
        return getattr(g, "previous", None)

    @realtime.handler("recall")
    def recall(message):
        return getattr(g, "remembered", None)

    @realtime.handler("forbidden")
    def forbidden(message):
        abort(403)

    @realtime.handler("no-room")
    def no_room(message):
        abort(404, "No such room.")

    @realtime.handler("busy")
    def busy(message):
        abort(Response("busy", 409))

    @realtime.handler("full")
    def full(message):
        raise HandlerError("room_full", "The room has no free seat.")

    @realtime.handler("bad-code")
    def bad_code(message):
        raise HandlerError("Room Full", "A typo in the code.")

    return app


def test_a_handler_gets_the_message_and_the_handshake_session(browser):
    browser.request("/login/ada")
    socket = browser.open("/").connect()
    reply = socket.request("echo", data={"x": [1, 2]})
    assert reply["body"] == {"data": {"x": [1, 2]}, "user": "ada"}


def test_a_handler_subscribes_the_live_socket_at_once(browser, realtime):
    socket = browser.open("/").connect()
    assert socket.request("join", room="7")["body"] == "joined"
    realtime.push("hi", "room:7")
    assert socket.receive() == {"channel": "room:7", "payload": "hi"}


def test_a_failing_handler_gets_an_error_reply_without_details(browser, caplog):
    socket = browser.open("/").connect()
    reply = socket.request("boom")
    assert reply["error"]["code"] == "handler_failed"
    assert "secret detail" not in json.dumps(reply)
    assert "secret detail" in caplog.text  # the log has it
    assert socket.request("not-json")["error"]["code"] == "handler_failed"
    assert socket.request("ping")["body"] == "pong"


def test_debug_mode_shows_the_details():
    app = create_app(DEBUG=True)

    @app.extensions["realtime"].handler("boom")
    def boom(message):
        raise KeyError("secret detail")

    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        socket = browser.open("/").connect()
        assert "secret detail" in socket.request("boom")["error"]["message"]
        browser.close_all()
    finally:
        server.stop()


@pytest.fixture
def rt(realtime, app):
    client = realtime.test_client(app)
    client.get("/")
    client.connect()
    return client


def test_each_message_gets_a_fresh_g(rt):
    rt.send("remember", value=1)
    assert rt.send("recall")["body"] is None


def test_registering_an_action_twice_raises(realtime):
    with pytest.raises(ValueError, match="already has a handler"):
        realtime.handler("echo")(lambda message: None)
    for builtin in ("ping", "call-route"):
        with pytest.raises(ValueError, match="already has a handler"):
            realtime.handler(builtin)(lambda message: None)
    for bad in ("", "x" * 65, None, 5):
        with pytest.raises(ValueError, match="action name"):
            realtime.handler(bad)


def test_a_flood_is_answered_with_rate_limit_errors_then_closed():
    app = create_app(REALTIME_MESSAGE_RATE=5, REALTIME_MESSAGE_BURST=10)
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        flooder = browser.open("/").connect()
        other = Browser(server.url).open("/").connect()
        for n in range(100):
            flooder.send(json.dumps({"action": "ping", "id": n}))
        replies = []
        with pytest.raises(Exception) as info:
            while True:
                replies.append(flooder.receive())
        assert getattr(info.value, "code", None) == 4029
        codes = [r.get("error", {}).get("code") for r in replies]
        assert codes[:10] == [None] * 10  # the burst goes through
        assert set(codes[10:]) == {"rate_limited"}
        assert [r["id"] for r in replies] == list(range(len(replies)))
        assert len(replies) < 100
        # Other clients are unaffected, and the flooder may come back.
        assert other.request("ping")["body"] == "pong"
        assert browser.open("/").connect().request("ping")["body"] == "pong"
        browser.close_all()
        other.close()
    finally:
        server.stop()


def test_replies_are_encoded_like_jsonify(rt):
    assert rt.send("when")["body"] == "Fri, 02 Jan 2026 00:00:00 GMT"


def test_malformed_messages_count_against_the_rate_limit_too():
    app = create_app(REALTIME_MESSAGE_RATE=5, REALTIME_MESSAGE_BURST=10)
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        flooder = browser.open("/").connect()
        for _ in range(100):
            flooder.send("garbage")
        replies = []
        with pytest.raises(Exception) as info:
            while True:
                replies.append(flooder.receive())
        assert getattr(info.value, "code", None) == 4029
        codes = [r["error"]["code"] for r in replies]
        assert codes[:10] == ["invalid_json"] * 10
        assert set(codes[10:]) == {"rate_limited"}
        assert len(replies) < 100
        browser.close_all()
    finally:
        server.stop()


def flask_realtime_logs(caplog):
    return [r for r in caplog.records if r.name == "flask_realtime"]


def test_an_http_exception_replies_with_its_status_and_logs_nothing(browser, caplog):
    caplog.set_level(logging.DEBUG, "flask_realtime")
    socket = browser.open("/").connect()
    reply = socket.request("forbidden")
    assert reply["error"]["code"] == "http_error"
    assert reply["error"]["status"] == 403
    assert "permission" in reply["error"]["message"]  # Werkzeug's description
    reply = socket.request("no-room")
    assert reply["error"] == {
        "code": "http_error",
        "message": "No such room.",
        "status": 404,
    }
    reply = socket.request("busy")  # abort(response): the response's status
    assert reply["error"] == {
        "code": "http_error",
        "message": "Conflict",
        "status": 409,
    }
    assert flask_realtime_logs(caplog) == []
    assert socket.request("ping")["body"] == "pong"


def test_a_handler_error_replies_with_the_apps_code(browser, caplog):
    caplog.set_level(logging.DEBUG, "flask_realtime")
    socket = browser.open("/").connect()
    reply = socket.request("full")
    assert reply == {
        "id": reply["id"],
        "error": {"code": "room_full", "message": "The room has no free seat."},
    }
    assert flask_realtime_logs(caplog) == []


@pytest.mark.parametrize(
    "code",
    [
        "",
        "Room",
        "room-full",
        "room full",
        "x" * 65,
        "é",
        "a\n",
        None,
        5,
        "rate_limited",
    ],
)
def test_a_bad_handler_error_code_fails_where_it_is_raised(code):
    with pytest.raises(ValueError, match="code"):
        HandlerError(code, "message")


def test_a_handler_error_with_a_bad_code_is_a_handler_failure(browser, caplog):
    socket = browser.open("/").connect()
    reply = socket.request("bad-code")
    assert reply["error"]["code"] == "handler_failed"
    assert "must be 1 to 64 characters" in caplog.text


def test_unexpected_exceptions_are_sent_to_got_request_exception(browser, app):
    received = []

    def receiver(sender, exception, **extra):
        received.append((sender, exception))

    socket = browser.open("/").connect()
    with got_request_exception.connected_to(receiver, app):
        assert socket.request("boom")["error"]["code"] == "handler_failed"
        # Answers, not faults: nothing for an error tracker.
        socket.request("forbidden")
        socket.request("full")
    assert len(received) == 1
    sender, exception = received[0]
    assert sender is app and isinstance(exception, KeyError)


def test_a_failing_got_request_exception_receiver_does_not_cost_the_reply(
    browser, app, caplog
):
    def receiver(sender, **extra):
        raise RuntimeError("the error tracker is down")

    socket = browser.open("/").connect()
    with got_request_exception.connected_to(receiver, app):
        assert socket.request("boom")["error"]["code"] == "handler_failed"
        assert socket.request("ping")["body"] == "pong"
    assert "the error tracker is down" in caplog.text
    assert "secret detail" in caplog.text  # the handler's own failure is logged
