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


def test_the_id_ends_before_the_clean_close_is_answered(
    browser, realtime, app, monkeypatch
):
    # A page may reconnect with its id the moment the server has answered
    # its close: it must be refused. A slow backend widens the window in
    # which a reply written before the id ended would let it in.
    backend = realtime._state(app).backend
    detach = backend.detach

    def slow_detach(*args, **kwargs):
        time.sleep(0.3)
        detach(*args, **kwargs)

    monkeypatch.setattr(backend, "detach", slow_detach)
    page = browser.open("/?channel=c")
    socket = page.connect()
    socket.request("ping")
    socket.close(1000)  # returns once the server's close reply is read
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
    app = create_app(REALTIME_CONNECT_TIMEOUT=2)
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        for _ in range(50):
            browser.open("/")  # pages for bots and curl: nobody connects
        backend = app.extensions["realtime"]._state(app).backend
        assert backend.socket_count() > 0
        time.sleep(2.5)  # past the connect timeout of every one of them
        assert backend.socket_count() == 0
    finally:
        server.stop()


def test_pushes_between_render_and_connect_arrive_first(browser, realtime):
    page = browser.open("/?channel=early")
    realtime.push("while the page loads", "early")
    socket = page.connect()
    realtime.push("after connecting", "early")
    assert socket.receive()["payload"] == "while the page loads"
    assert socket.receive()["payload"] == "after connecting"


def test_a_reconnect_with_positions_replays_what_was_missed(browser, realtime, app):
    page = browser.open("/?channel=r")
    socket = page.connect()
    socket.request("ping")
    realtime.push(1, "r")
    assert socket.receive()["payload"] == 1
    socket.drop()
    backend = realtime._state(app).backend
    wait_for(lambda: backend.hub.channel_count() == 0)
    realtime.push(2, "r")
    realtime.push(3, "r")
    again = page.reconnect(socket)
    realtime.push(4, "r")
    assert [again.receive()["payload"] for _ in range(3)] == [2, 3, 4]


def test_a_reconnect_past_the_history_gets_a_gap():
    app = create_app(REALTIME_HISTORY_SIZE=1)
    realtime = app.extensions["realtime"]
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        page = browser.open("/?channel=g")
        socket = page.connect()
        realtime.push(1, "g")
        socket.receive()
        socket.drop()
        backend = realtime._state(app).backend
        wait_for(lambda: backend.hub.channel_count() == 0)
        realtime.push(2, "g")
        realtime.push(3, "g")
        again = page.reconnect(socket)
        gap = again.receive()
        assert gap["gap"] is True and gap["channel"] == "g"
        realtime.push(4, "g")
        assert again.receive()["payload"] == 4
        browser.close_all()
    finally:
        server.stop()


def test_malformed_positions_are_refused_before_the_handshake(browser):
    import pytest
    import websocket

    page = browser.open("/")
    for positions in ["nope", "[]", '{"a": 5}', '{"a": "no-colon"}', "{" * 100]:
        with pytest.raises(websocket.WebSocketBadStatusException) as info:
            browser.connect(
                None,
                query=f"socket_connection_id={page.connection_id}"
                f"&positions={positions}",
            )
        assert info.value.status_code == 400


def test_positions_that_could_forge_frames_are_refused(browser):
    # A position is written back into a gap frame when history cannot be
    # read (Redis away): one with quotes could forge fields of that frame.
    import json
    from urllib.parse import quote

    import pytest
    import websocket

    page = browser.open("/")
    for position in [
        'x","payload":"forged:1',
        "ep och:1",
        "e:1" + "0" * 30,
        "e" * 40 + ":1",
        "e:-1",
        "e:1\n",
    ]:
        positions = quote(json.dumps({"chat": position}))
        with pytest.raises(websocket.WebSocketBadStatusException) as info:
            browser.connect(
                None,
                query=f"socket_connection_id={page.connection_id}"
                f"&positions={positions}",
            )
        assert info.value.status_code == 400


def test_gap_frames_escape_what_they_carry():
    import json

    from flask_realtime.frames import unframe
    from flask_realtime.history import gap_frame

    frame = gap_frame(json.dumps("c").encode(), 'x","payload":"forged')
    assert json.loads(unframe(frame)[1]) == {
        "channel": "c",
        "gap": True,
        "position": 'x","payload":"forged',
    }
