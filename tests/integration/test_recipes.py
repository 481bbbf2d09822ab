"""What docs/recipes.rst says about CSRF on HTTPS: Flask-WTF checks the
Referer of secure requests; a browser's WebSocket handshake has none, so a
route call carries the handshake's checked Origin as its Referer."""

from __future__ import annotations

import re
import typing as t

import pytest
from flask import Flask
from flask import render_template_string
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_realtime import current_socket
from flask_realtime import is_socket_call
from flask_realtime import Realtime

from ..support import Browser
from ..support import LiveServer
from ..support import Socket

PAGE = """<!doctype html><html><head><meta name="csrf-token" content="{{
csrf_token() }}"></head><body>{{ realtime_script() }}</body></html>"""
#: Behind a proxy that ends TLS: the handshake says https, and carries no
#: Referer, as browsers send none with a WebSocket handshake.
HTTPS_HANDSHAKE = ["X-Forwarded-Proto: https"]


def make_app(*, exempt_socket_calls: bool, origins: t.Sequence[str] = ()) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="s",
        WTF_CSRF_CHECK_DEFAULT=not exempt_socket_calls,
        REALTIME_ALLOWED_ORIGINS=origins,
    )
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    Realtime(app)
    csrf = CSRFProtect(app)

    if exempt_socket_calls:  # the recipe's second way

        @app.before_request
        def check_csrf() -> None:
            if not is_socket_call():
                csrf.protect()

    @app.get("/")
    def page() -> str:
        current_socket.subscribe("news")
        return render_template_string(PAGE)

    @app.post("/messages")
    def post_message() -> dict[str, bool]:
        return {"saved": True}

    return app


@pytest.fixture
def open_page() -> t.Iterator[t.Callable[..., tuple[Socket, str]]]:
    opened: list[tuple[LiveServer, Browser]] = []

    def open_page(app: Flask, origin: str | None = None) -> tuple[Socket, str]:
        server = LiveServer(app)
        browser = Browser(server.url)
        opened.append((server, browser))
        page = browser.open("/")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.html)
        assert token is not None
        # The page is on https, as the proxy says: so is its Origin.
        origin = origin or server.url.replace("http://", "https://")
        return page.connect(header=HTTPS_HANDSHAKE, origin=origin), token.group(1)

    yield open_page
    for server, browser in opened:
        browser.close_all()
        server.stop()


def call(socket: Socket, **fields: t.Any) -> t.Any:
    return socket.request("call-route", uri="/messages", method="POST", **fields)


def test_on_https_a_token_in_a_header_passes_the_referrer_check(open_page):
    socket, token = open_page(make_app(exempt_socket_calls=False))
    reply = call(socket, input={}, headers={"X-CSRFToken": token})
    assert reply["status"] == 200, reply["body"]
    assert call(socket, input={})["status"] == 400  # the token is still needed


def test_on_https_a_page_of_another_origin_fails_the_referrer_check(open_page):
    # A page of an origin REALTIME_ALLOWED_ORIGINS lets open a socket is
    # still not the app's own: a CSRF check on the host refuses its calls.
    app = make_app(exempt_socket_calls=False, origins=["https://other.example"])
    socket, token = open_page(app, origin="https://other.example")
    reply = call(socket, input={}, headers={"X-CSRFToken": token})
    assert reply["status"] == 400
    assert "The referrer does not match the host." in reply["body"]


def test_on_https_exempting_socket_calls_passes(open_page):
    socket, token = open_page(make_app(exempt_socket_calls=True))
    reply = call(socket, input={})
    assert reply["status"] == 200
    assert reply["body"] == {"saved": True}
