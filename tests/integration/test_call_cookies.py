"""The cookie jar of routes called over the socket: paths, domains, expiry
and bounds, as a browser keeps cookies."""

from __future__ import annotations

import datetime
import logging
import time

import pytest
from flask import request
from flask import Response

from flask_realtime import cookie_jar
from flask_realtime.cookie_jar import MAX_COOKIE_SIZE
from flask_realtime.cookie_jar import MAX_COOKIES

from ..conftest import create_app


@pytest.fixture
def app():
    app = create_app()
    realtime = app.extensions["realtime"]

    @app.post("/set-cookie")
    def set_cookie():
        # {"name", "value", and set_cookie's keyword arguments}
        options = dict(request.get_json())
        if "expires" in options:
            options["expires"] = datetime.datetime.fromtimestamp(
                options["expires"], datetime.timezone.utc
            )
        response = Response(status=204)
        response.set_cookie(options.pop("name"), options.pop("value", ""), **options)
        return response

    @app.post("/raw-set-cookie")
    def raw_set_cookie():
        # Exactly the headers given: werkzeug would refuse to write some.
        return Response(
            status=204, headers=[("Set-Cookie", h) for h in request.get_json()]
        )

    @app.post("/many-cookies")
    def many_cookies():
        response = Response(status=204)
        prefix = request.args["prefix"]
        for n in range(int(request.args["n"])):
            response.set_cookie(f"{prefix}{n}", "x" * 20)
        return response

    @app.get("/cookies")
    @app.get("/admin/cookies")
    @app.get("/administrator/cookies")
    def cookies():
        return dict(request.cookies)

    @realtime.handler("cookies")
    def handler_cookies(message):
        return dict(request.cookies)

    return app


@pytest.fixture
def socket(browser):
    return browser.open("/").connect()


def call(socket, uri, **fields):
    reply = socket.request("call-route", uri=uri, **fields)
    assert "error" not in reply, reply
    return reply


def set_cookie(socket, **options):
    assert call(socket, "/set-cookie", method="POST", input=options)["status"] == 204


def cookies(socket, path="/cookies"):
    return call(socket, path)["body"]


def test_a_path_cookie_is_sent_only_under_its_path(socket):
    set_cookie(socket, name="admin_token", value="t", path="/admin")
    assert cookies(socket, "/admin/cookies")["admin_token"] == "t"
    assert "admin_token" not in cookies(socket, "/cookies")
    assert "admin_token" not in cookies(socket, "/administrator/cookies")
    # Handlers run at the socket's path, outside /admin, too.
    assert "admin_token" not in socket.request("cookies")["body"]


def test_a_cookie_for_a_path_sits_beside_one_for_the_root(socket):
    set_cookie(socket, name="lang", value="root")
    set_cookie(socket, name="lang", value="admin", path="/admin")
    assert cookies(socket, "/admin/cookies")["lang"] == "admin"  # longest path first
    assert cookies(socket, "/cookies")["lang"] == "root"


def test_max_age_0_and_any_past_expiry_delete_a_cookie(socket):
    for name in ("zero", "negative", "past", "epoch", "kept"):
        set_cookie(socket, name=name, value="1")
    assert {"zero", "negative", "past", "epoch", "kept"} <= set(cookies(socket))
    set_cookie(socket, name="zero", max_age=0)
    set_cookie(socket, name="negative", max_age=-1)
    set_cookie(socket, name="past", expires=datetime.datetime(2000, 1, 1).timestamp())
    set_cookie(socket, name="epoch", expires=0)
    names = set(cookies(socket))
    assert names.isdisjoint({"zero", "negative", "past", "epoch"})
    assert {"kept", "session"} <= names
    assert set(socket.request("cookies")["body"]) == names


class Clock:
    """The jar's wall clock, moved forward by the test instead of slept."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead


def test_a_cookie_expires_as_time_passes(socket, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(cookie_jar, "time", clock)
    set_cookie(socket, name="brief", value="1", max_age=60)
    set_cookie(socket, name="dated", value="1", expires=time.time() + 120)
    set_cookie(socket, name="lasting", value="1", max_age=3600)
    assert {"brief", "dated", "lasting"} <= set(cookies(socket))
    clock.ahead = 600
    names = set(cookies(socket))
    assert "lasting" in names and names.isdisjoint({"brief", "dated"})


def test_a_route_deletes_a_cookie_that_came_with_the_handshake(browser):
    socket = browser.open("/").connect(cookie=browser.cookie_header() + "; theme=dark")
    assert cookies(socket)["theme"] == "dark"
    # With a Domain, as SESSION_COOKIE_DOMAIN gives: the handshake said
    # nothing of its domain, and the deletion still reaches it.
    set_cookie(socket, name="theme", max_age=0, domain="127.0.0.1")
    assert "theme" not in cookies(socket)
    assert "theme" not in socket.request("cookies")["body"]


def test_a_cookie_for_another_domain_is_refused(socket):
    set_cookie(socket, name="planted", value="1", domain="evil.example")
    set_cookie(socket, name="mine", value="1", domain="127.0.0.1")
    names = set(cookies(socket))
    assert "planted" not in names and "mine" in names


def test_malformed_set_cookie_headers_are_skipped(socket):
    headers = [
        "",
        ";",
        "=nameless",
        "bad_age=1; Max-Age=soon",
        "huge_age=1; Max-Age=" + "9" * 400,
        "bad_date=1; Expires=someday",
        "relative=1; Path=admin",
        "good=1",
    ]
    assert (
        call(socket, "/raw-set-cookie", method="POST", input=headers)["status"] == 204
    )
    names = set(cookies(socket))
    assert {"good", "huge_age", "bad_date", "relative"} <= names
    assert "bad_age" not in names and "" not in names
    assert socket.request("ping")["body"] == "pong"


def test_a_route_setting_1000_cookies_does_not_grow_the_jar(socket, caplog):
    caplog.set_level(logging.WARNING, "flask_realtime")
    call(socket, "/many-cookies?prefix=a&n=1000", method="POST")
    names = set(cookies(socket))
    assert len(names) == MAX_COOKIES
    assert "session" in names  # new cookies are ignored, old ones kept
    call(socket, "/many-cookies?prefix=b&n=1000", method="POST")
    assert set(cookies(socket)) == names
    warnings = [r for r in caplog.records if "cookie jar" in r.getMessage()]
    assert len(warnings) == 1  # once per socket, not once per cookie
    # A cookie the jar already has can still change, or be deleted.
    set_cookie(socket, name="a0", value="changed")
    set_cookie(socket, name="a1", max_age=0)
    after = cookies(socket)
    assert after["a0"] == "changed" and "a1" not in after
    assert socket.request("ping")["body"] == "pong"


def test_a_cookie_larger_than_a_browser_keeps_is_ignored(socket):
    big = "x" * MAX_COOKIE_SIZE
    headers = [f"big={big}", f"fits={big[: MAX_COOKIE_SIZE - 4]}"]
    call(socket, "/raw-set-cookie", method="POST", input=headers)
    names = set(cookies(socket))
    assert "big" not in names and "fits" in names


def test_each_socket_has_its_own_jar(browser):
    first = browser.open("/").connect()
    second = browser.open("/").connect()
    set_cookie(first, name="only_first", value="1")
    assert "only_first" in cookies(first)
    assert "only_first" not in cookies(second)
