"""REALTIME_INJECT: pages that use realtime get an id, others stay plain."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from flask import render_template_string

from ..conftest import create_app
from ..conftest import PAGE
from ..support import LiveServer


def fetch(url: str) -> tuple[int, dict[str, str], str]:
    """A first visit: no cookies. Returns status, headers and body."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def realtime_app(**config):
    app = create_app(**config)

    @app.get("/script")
    def script() -> str:
        return render_template_string(
            PAGE.replace("</body>", "{{ realtime_script() }}</body>")
        )

    @app.get("/template-id")
    def template_id() -> str:
        return render_template_string(
            '<body data-socket-connection-id="{{ socket_connection_id }}"></body>'
        )

    @app.errorhandler(404)
    def not_found(e):
        return PAGE, 404

    return app


def assert_plain(response: tuple[int, dict[str, str], str]) -> None:
    status, headers, body = response
    assert "Set-Cookie" not in headers, headers
    assert "Cookie" not in headers.get("Vary", ""), headers
    assert "data-socket" not in body
    assert body == PAGE


def assert_realtime(response: tuple[int, dict[str, str], str]) -> None:
    status, headers, body = response
    assert status == 200
    assert "session=" in headers.get("Set-Cookie", "")
    assert 'data-socket-connection-id="' in body
    assert 'data-socket-path="/_realtime"' in body


@pytest.fixture
def served():
    servers = []

    def serve(app):
        servers.append(LiveServer(app))
        return servers[-1].url

    yield serve
    for server in servers:
        server.stop()


def test_plain_pages_and_404s_stay_plain_and_cost_nothing(served):
    app = realtime_app()
    url = served(app)
    backend = app.extensions["realtime"]._state(app).backend
    assert_plain(fetch(url + "/plain"))
    not_found = fetch(url + "/no/such/page")
    assert not_found[0] == 404
    assert_plain(not_found)
    assert backend.socket_count() == 0  # no id issued, nothing written


def test_pages_that_use_realtime_get_an_id(served):
    app = realtime_app()
    url = served(app)
    backend = app.extensions["realtime"]._state(app).backend
    assert_realtime(fetch(url + "/?channel=a"))  # g.socket.subscribe()
    assert_realtime(fetch(url + "/script"))  # realtime_script()
    status, headers, body = fetch(url + "/template-id")  # socket_connection_id
    assert "session=" in headers["Set-Cookie"] and body.count("data-socket") == 1
    assert backend.socket_count() == 3


def test_always_injects_every_page(served):
    app = realtime_app(REALTIME_INJECT="always")
    url = served(app)
    assert_realtime(fetch(url + "/plain"))
    status, headers, body = fetch(url + "/no/such/page")
    assert status == 404 and "data-socket-connection-id" in body


def test_false_injects_nothing_but_the_template_still_gets_the_id(served):
    app = realtime_app(REALTIME_INJECT=False)
    url = served(app)
    status, headers, body = fetch(url + "/?channel=a")
    assert "data-socket" not in body and "session=" in headers["Set-Cookie"]
    status, headers, body = fetch(url + "/template-id")
    assert body.count("data-socket-connection-id") == 1
    assert 'data-socket-connection-id=""' not in body


@pytest.mark.redis
def test_plain_pages_write_nothing_to_redis(served, redis_server):
    app = realtime_app(REALTIME_BACKEND=redis_server.url)
    url = served(app)
    for path in ("/plain", "/no/such/page", "/plain?x=1"):
        assert_plain(fetch(url + path))
    assert redis_server.client().dbsize() == 0
    assert_realtime(fetch(url + "/?channel=a"))
    assert redis_server.client().dbsize() > 0
    app.extensions["realtime"]._state(app).backend.close()
