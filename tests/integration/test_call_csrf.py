"""CSRF protection (Flask-WTF) and route calls: a token in an allowed
header, or an exemption with ``is_socket_call()``."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask import render_template_string
from flask_wtf.csrf import CSRFProtect

from flask_realtime import ConfigurationError
from flask_realtime import current_socket
from flask_realtime import is_socket_call
from flask_realtime import Realtime

from ..support import Browser
from ..support import LiveServer

PAGE = """<!doctype html><html><head><meta name="csrf-token" content="{{
csrf_token() }}"></head><body>{{ realtime_script() }}</body></html>"""


def make_app(**config) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", **config)
    realtime = Realtime(app)
    csrf = CSRFProtect(app)

    @app.get("/")
    def page():
        current_socket.subscribe("news")
        return render_template_string(PAGE)

    @app.post("/messages")
    def post_message():
        return {"saved": True, "socket_call": is_socket_call()}

    @realtime.handler("where")
    def where(message):
        return {"socket_call": is_socket_call()}

    app.extensions["test_csrf"] = csrf
    return app


@pytest.fixture
def opened():
    servers = []

    def open_page(app):
        servers.append(LiveServer(app))
        browser = Browser(servers[-1].url)
        page = browser.open("/")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.html)
        socket = page.connect()
        servers.append(browser)
        return browser, socket, token.group(1)

    yield open_page
    for item in reversed(servers):
        item.close_all() if isinstance(item, Browser) else item.stop()


def call(socket, **fields):
    return socket.request("call-route", uri="/messages", method="POST", **fields)


def test_a_call_without_the_token_is_refused_by_csrf_protect(opened):
    browser, socket, token = opened(make_app())
    reply = call(socket, input={"text": "hi"})
    assert reply["status"] == 400
    assert "CSRF token is missing" in reply["body"]


def test_a_call_with_the_token_in_an_allowed_header_passes(opened):
    browser, socket, token = opened(make_app())
    for name in ("X-CSRFToken", "x-csrf-token"):
        reply = call(socket, input={"text": "hi"}, headers={name: token})
        assert reply["status"] == 200
        assert reply["body"] == {"saved": True, "socket_call": True}
    wrong = call(socket, input={}, headers={"X-CSRFToken": "not the token"})
    assert wrong["status"] == 400


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Cookie": "session=stolen"}, "not 'Cookie'"),
        ({"Host": "evil.example"}, "not 'Host'"),
        ({"X-Forwarded-For": "10.0.0.1"}, "not 'X-Forwarded-For'"),
        ({"X-Realtime-Socket-Key": "k" * 40}, "not 'X-Realtime-Socket-Key'"),
        ({"X-CSRFToken": 5}, "printable ASCII text"),
        ({"X-CSRFToken": "a\r\nX-Injected: 1"}, "printable ASCII text"),
        ({"X-CSRFToken": "é"}, "printable ASCII text"),
        ({"X-CSRFToken": "t" * 4097}, "printable ASCII text"),
        (["X-CSRFToken"], "must be an object"),
        ("X-CSRFToken: t", "must be an object"),
    ],
)
def test_other_headers_are_refused_and_the_route_does_not_run(opened, headers, message):
    browser, socket, token = opened(make_app())
    reply = call(socket, input={}, headers=headers)
    assert reply["error"]["code"] == "invalid_call"
    assert message in reply["error"]["message"]
    # The socket goes on working.
    assert call(socket, input={}, headers={"X-CSRFToken": token})["status"] == 200


def test_socket_calls_can_be_exempted_with_is_socket_call(opened):
    app = make_app(WTF_CSRF_CHECK_DEFAULT=False)
    csrf = app.extensions["test_csrf"]

    @app.before_request
    def check_csrf():
        if not is_socket_call():
            csrf.protect()

    browser, socket, token = opened(app)
    assert call(socket, input={"text": "hi"})["body"]["socket_call"] is True
    assert socket.request("where")["body"] == {"socket_call": True}
    status, body = browser.request("/messages", method="POST", data={"text": "hi"})
    assert status == 400 and "CSRF token is missing" in body


@pytest.mark.parametrize(
    "value",
    [
        ["Cookie"],
        ["x-forwarded-host"],
        ["Sec-WebSocket-Key"],
        "X-CSRFToken",
        [""],
        # Aliases: WSGI gives X_Forwarded_For the environ key of X-Forwarded-For.
        ["X_Forwarded_For"],
        ["X-Realtime_Socket-Key"],
        ["True-Client-IP"],
        ["CF-Connecting-IP"],
        ["X-Original-URL"],
    ],
)
def test_headers_that_set_identity_cannot_be_allowed(value):
    with pytest.raises(ConfigurationError, match="REALTIME_CALL_HEADERS"):
        make_app(REALTIME_CALL_HEADERS=value)


def test_no_headers_allowed_refuses_every_header(opened):
    browser, socket, token = opened(make_app(REALTIME_CALL_HEADERS=()))
    reply = call(socket, input={}, headers={"X-CSRFToken": token})
    assert "allows (none)" in reply["error"]["message"]
