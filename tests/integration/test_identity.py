"""The upgrade check: who may connect with which id."""

from __future__ import annotations

import json
import socket
import time

import pytest
import websocket

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer


def refused_status(browser, **kwargs):
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        browser.connect(**kwargs)
    return info.value.status_code


def test_forged_id_is_refused(browser, realtime):
    browser.open("/?channel=chat")  # a session with a key, but not this id
    socket = browser.connect("A" * 43)
    realtime.push("secret", "chat")
    assert socket.receive_close().code == 4001


def test_stolen_id_with_the_thiefs_own_cookie_is_refused(
    browser, new_browser, realtime
):
    victim_page = browser.open("/?channel=private")
    thief = new_browser()
    thief.open("/?channel=other")
    stolen = thief.connect(victim_page.connection_id)
    realtime.push("for the victim only", "private")
    assert stolen.receive_close().code == 4001
    # The victim's own socket still works with that id.
    victim = victim_page.connect()
    victim.request("ping")
    realtime.push("hello", "private")
    assert victim.receive() == {"channel": "private", "payload": "hello"}


def test_no_cookie_is_refused(browser):
    page = browser.open("/")
    socket = page.connect(cookie="")
    assert socket.receive_close().code == 4001


def test_tampered_session_cookie_is_refused(browser):
    page = browser.open("/")
    cookie = browser.cookie_header()
    name, value = cookie.split("=", 1)
    socket = page.connect(cookie=f"{name}={value[:-4]}AAAA")
    assert socket.receive_close().code == 4001


@pytest.mark.parametrize(
    "query",
    [
        "",
        "socket_connection_id=",
        "socket_connection_id=short",
        "socket_connection_id=" + "a" * 500,
        "socket_connection_id=%00%01%02aaaaaaaaaaaaaaaaaaaaaaa",
        "socket_connection_id=%E2%98%83" * 10,
        "socket_connection_id=' OR 1=1 --aaaaaaaaaaaaaaaaaa",
        "socket_connection_id=../../../../etc/passwd%00aaaa",
    ],
)
def test_missing_or_malformed_id_is_refused_before_the_handshake(browser, query):
    browser.open("/")
    assert refused_status(browser, connection_id=None, query=query) == 400


def test_expired_id_is_refused():
    app = create_app(REALTIME_CONNECT_TIMEOUT=0.2)
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        page = browser.open("/")
        time.sleep(0.4)  # past the connect timeout
        socket = page.connect()
        assert socket.receive_close().code == 4001
        # A page rendered now connects fine.
        assert browser.open("/").connect().request("ping")["body"] == "pong"
        browser.close_all()
    finally:
        server.stop()


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://127.0.0.1.evil.example",
        "null",
        "http://127.0.0.1:1",
        "not a url at all",
        "",
    ],
)
def test_cross_origin_handshake_is_refused(browser, origin):
    page = browser.open("/")
    assert (
        refused_status(browser, connection_id=page.connection_id, origin=origin) == 403
    )


def test_same_host_origin_with_another_scheme_is_allowed(browser, server):
    # Behind a TLS-terminating proxy the app sees http while the page is https.
    page = browser.open("/")
    socket = page.connect(origin=f"https://127.0.0.1:{server.port}")
    assert socket.request("ping")["body"] == "pong"


def test_no_origin_is_judged_by_key_and_id_alone(browser):
    page = browser.open("/")
    assert page.connect(origin=None).request("ping")["body"] == "pong"


def test_allowed_origins_admit_another_site():
    app = create_app(REALTIME_ALLOWED_ORIGINS=["https://app.example"])
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        page = browser.open("/")
        socket = page.connect(origin="https://app.example")
        assert socket.request("ping")["body"] == "pong"
        assert (
            refused_status(
                browser,
                connection_id=page.connection_id,
                origin="https://other.example",
            )
            == 403
        )
        browser.close_all()
    finally:
        server.stop()


def test_plain_http_get_of_the_endpoint_is_refused(browser):
    status, _ = browser.request("/_realtime?socket_connection_id=" + "a" * 43)
    assert status == 400


def test_client_presented_key_works_without_cookies(server, realtime):
    key = "k" * 40
    connection_id = Browser(server.url).issue_with_key(key, "api")
    socket = Browser(server.url).connect(
        connection_id, cookie="", origin=None, header=[f"X-Realtime-Socket-Key: {key}"]
    )
    socket.request("ping")
    realtime.push("to the api client", "api")
    assert socket.receive() == {"channel": "api", "payload": "to the api client"}
    # Without the key the same id is refused.
    other = Browser(server.url).connect(connection_id, cookie="", origin=None)
    assert other.receive_close().code == 4001
    # A key in the query string works too (browsers cannot set headers).
    again = Browser(server.url).connect(
        None,
        cookie="",
        origin=None,
        query=f"socket_connection_id={connection_id}&socket_key={key}",
    )
    assert again.request("ping")["body"] == "pong"
    for s in (socket, other, again):
        s.close()


@pytest.mark.parametrize("key", ["short", "x" * 300, "has space" + "x" * 40])
def test_malformed_presented_key_is_refused(server, key):
    api = Browser(server.url)
    status, _ = api.request(
        "/subscribe",
        method="POST",
        data={"channel": "api"},
        headers={"X-Realtime-Socket-Key": key},
    )
    assert status == 400


def attackers_socket(new_browser, key):
    """An id issued under a key of the attacker's choosing, subscribed to
    "bait", and its open socket."""
    attacker = new_browser()
    attacker_id = attacker.issue_with_key(key, "bait")
    socket = attacker.connect(
        attacker_id, cookie="", origin=None, header=[f"X-Realtime-Socket-Key: {key}"]
    )
    socket.request("ping")
    return attacker_id, socket


def test_a_link_cannot_plant_a_key_in_a_logged_in_users_page(
    browser, new_browser, realtime
):
    key = "a" * 40
    attacker_id, attacker_socket = attackers_socket(new_browser, key)
    # The victim already has a session that holds a key...
    victim_page = browser.open("/?channel=lobby")
    # ...and is made to load a link carrying the attacker's key and id. Its
    # route subscribes "the page's socket" to the victim's private channel.
    browser.open(
        f"/?channel=user:victim&socket_key={key}&socket_connection_id={attacker_id}"
    )
    realtime.push("victim's secret", "user:victim")
    realtime.push("marker", "bait")
    # The attacker's socket gets its own channel's message and nothing else.
    assert attacker_socket.receive() == {"channel": "bait", "payload": "marker"}
    victim = victim_page.connect()
    assert victim.request("ping")["body"] == "pong"


def test_a_link_cannot_plant_a_key_in_a_session_without_one(new_browser, realtime):
    key = "b" * 40
    attacker_id, attacker_socket = attackers_socket(new_browser, key)
    victim = new_browser()  # no session yet
    page = victim.open(
        f"/?channel=user:victim&socket_key={key}&socket_connection_id={attacker_id}"
    )
    # The victim's page got an id of its own, under a key of its own session.
    assert page.connection_id != attacker_id
    realtime.push("victim's secret", "user:victim")
    realtime.push("marker", "bait")
    assert attacker_socket.receive() == {"channel": "bait", "payload": "marker"}
    own = page.connect()
    assert own.receive()["payload"] == "victim's secret"


def test_a_session_with_a_key_never_adopts_a_presented_one(browser, new_browser):
    browser.open("/")  # the session now holds a key
    key = "c" * 40
    api = new_browser()
    api_id = api.issue_with_key(key, "api")
    # The header, with the session's cookie: the session's key wins, so the
    # id issued under the presented key is not this session's.
    status, body = browser.request(
        "/subscribe",
        method="POST",
        data={"channel": "api", "socket_connection_id": api_id},
        headers={"X-Realtime-Socket-Key": key},
    )
    assert status == 200
    assert json.loads(body)["connection_id"] != api_id
    # On the upgrade, too: the session's key decides, and the id is refused.
    socket = browser.connect(
        None, query=f"socket_connection_id={api_id}&socket_key={key}"
    )
    assert socket.receive_close().code == 4001


@pytest.mark.parametrize(
    ("request_line", "headers"),
    [
        ("GET {path} HTTP/1.1", "Sec-WebSocket-Key: {key}\r\n"),  # no version
        (
            "GET {path} HTTP/1.1",
            "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: {key}\r\n",
        ),
        ("GET {path} HTTP/1.1", "Sec-WebSocket-Version: 13\r\n"),  # no key
        (
            "GET {path} HTTP/1.0",
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n",
        ),
    ],
)
def test_a_malformed_handshake_with_a_good_id_is_a_400_not_a_500(
    server, browser, caplog, request_line, headers
):
    # simple-websocket failed on these with a 500 and a traceback in the log,
    # which any client could fill the error log with.
    page = browser.open("/")
    path = f"/_realtime?socket_connection_id={page.connection_id}"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(
            (
                request_line.format(path=path) + "\r\n"
                f"Host: 127.0.0.1:{server.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                + headers.format(key="dGhlIHNhbXBsZSBub25jZQ==")
                + f"Cookie: {browser.cookie_header()}\r\n\r\n"
            ).encode()
        )
        answer = raw.recv(4096)
    assert answer.split(b"\r\n", 1)[0].split(b" ")[1] == b"400", answer
    assert not [r for r in caplog.records if r.exc_info]
    assert browser.open("/").connect().request("ping")["body"] == "pong"
