"""How long subscriptions live: grace after a drop, and clean closes."""

from __future__ import annotations

import time

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer
from ..support import wait_for


def test_reconnect_within_the_grace_period_resumes(browser, realtime, app):
    page = browser.open("/?channel=g")
    socket = page.connect()
    socket.request("ping")
    socket.drop()  # the network goes away: no close frame
    backend = realtime._state(app).backend
    wait_for(lambda: backend.hub.channel_count() == 0)
    realtime.push("missed while away", "g")
    again = page.connect()
    again.request("ping")
    realtime.push("after reconnect", "g")
    assert again.receive() == {"channel": "g", "payload": "after reconnect"}


def test_clean_close_invalidates_the_id_at_once(browser, realtime, app):
    page = browser.open("/?channel=c")
    socket = page.connect()
    socket.request("ping")
    socket.close(1001)  # what a browser sends when the page unloads
    backend = realtime._state(app).backend
    wait_for(lambda: backend.socket_count() == 0)
    assert page.connect().receive_close().code == 4001


def test_refresh_gets_a_new_id_and_the_old_one_is_refused(browser):
    first = browser.open("/")
    socket = first.connect()
    socket.request("ping")
    socket.close()
    second = browser.open("/")
    assert second.connection_id != first.connection_id
    assert second.connect().request("ping")["body"] == "pong"
    assert first.connect().receive_close().code == 4001


def test_grace_period_ends():
    app = create_app(REALTIME_DISCONNECT_GRACE=0.2)
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        page = browser.open("/")
        socket = page.connect()
        socket.request("ping")
        socket.drop()
        backend = app.extensions["realtime"]._state(app).backend
        wait_for(lambda: backend.hub.channel_count() == 0)
        time.sleep(0.4)  # past the grace period
        assert backend.socket_count() == 0
        assert page.connect().receive_close().code == 4001
        browser.close_all()
    finally:
        server.stop()


def test_ids_that_never_connect_are_forgotten():
    app = create_app(REALTIME_CONNECT_TIMEOUT=0.2)
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        for _ in range(50):
            browser.open("/")  # pages for bots and curl: nobody connects
        backend = app.extensions["realtime"]._state(app).backend
        assert backend.socket_count() == 50
        time.sleep(0.4)
        assert backend.socket_count() == 0
    finally:
        server.stop()
