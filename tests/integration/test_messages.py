"""What clients send: replies, errors, and hostile frames."""

from __future__ import annotations

import json

import pytest

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer


@pytest.fixture
def socket(browser):
    return browser.open("/").connect()


def test_ping_replies_pong_with_the_same_id(socket):
    socket.send(json.dumps({"action": "ping", "id": "abc"}))
    assert socket.receive() == {"id": "abc", "body": "pong"}
    socket.send(json.dumps({"action": "ping", "id": 7}))
    assert socket.receive() == {"id": 7, "body": "pong"}
    socket.send(json.dumps({"action": "ping"}))
    assert socket.receive() == {"id": None, "body": "pong"}


@pytest.mark.parametrize(
    ("frame", "code", "request_id"),
    [
        ("not json", "invalid_json", None),
        ("{", "invalid_json", None),
        ("", "invalid_json", None),
        ("[" * 60_000, "invalid_json", None),
        ("NaN", "invalid_message", None),
        ("[]", "invalid_message", None),
        ('"ping"', "invalid_message", None),
        ("null", "invalid_message", None),
        ("123", "invalid_message", None),
        ('{"id": "x"}', "invalid_message", "x"),
        ('{"id": "x", "action": 5}', "invalid_message", "x"),
        ('{"id": "x", "action": null}', "invalid_message", "x"),
        ('{"id": "x", "action": ["ping"]}', "invalid_message", "x"),
        ('{"id": "x", "action": "nope"}', "unknown_action", "x"),
        ('{"id": 3, "action": "__init__"}', "unknown_action", 3),
        ('{"id": {"a": 1}, "action": "ping"}', "invalid_message", None),
        ('{"id": true, "action": "ping"}', "invalid_message", None),
        ('{"id": 1.5, "action": "ping"}', "invalid_message", None),
        ('{"id": 1e300, "action": "ping"}', "invalid_message", None),
        ('{"id": 99999999999999999999, "action": "ping"}', "invalid_message", None),
        ('{"id": "' + "i" * 65 + '", "action": "ping"}', "invalid_message", None),
        ('{"action": "x' + "\\u0000" * 10 + '"}', "unknown_action", None),
    ],
)
def test_bad_messages_get_an_error_reply_and_the_socket_stays_open(
    socket, frame, code, request_id
):
    socket.send(frame)
    reply = socket.receive()
    assert reply["id"] == request_id
    assert reply["error"]["code"] == code
    assert isinstance(reply["error"]["message"], str) and reply["error"]["message"]
    assert len(json.dumps(reply)) < 500  # the input is not echoed back
    assert socket.request("ping")["body"] == "pong"


def test_binary_frame_gets_an_error_reply(socket):
    socket.send(b"\x00\x01binary")
    assert socket.receive()["error"]["code"] == "binary_frame"
    assert socket.request("ping")["body"] == "pong"


def test_invalid_utf8_text_frame_closes_only_that_socket(browser, socket):
    import websocket

    socket.ws.send(b"\xff\xfe", opcode=websocket.ABNF.OPCODE_TEXT)
    closed = socket.receive_close()
    assert closed.code in (1007, None)  # invalid payload data, or just dropped
    assert browser.open("/").connect().request("ping")["body"] == "pong"


def test_oversized_frame_closes_with_1009_and_others_go_on(browser, socket):
    other = browser.open("/").connect()
    socket.send(json.dumps({"action": "ping", "pad": "x" * (64 * 1024)}))
    assert socket.receive_close().code == 1009
    assert other.request("ping")["body"] == "pong"


def test_message_size_limit_is_configurable():
    app = create_app(REALTIME_MAX_MESSAGE_SIZE=100)
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        socket = browser.open("/").connect()
        assert socket.request("ping", pad="x" * 20)["body"] == "pong"
        socket.send(json.dumps({"action": "ping", "pad": "x" * 200}))
        assert socket.receive_close().code == 1009
        browser.close_all()
    finally:
        server.stop()


def test_fragmented_message_over_the_limit_closes_with_1009(socket):
    import websocket

    part = "x" * 40_000
    socket.ws.send_frame(
        websocket.ABNF(fin=0, opcode=websocket.ABNF.OPCODE_TEXT, data=part)
    )
    socket.ws.send_frame(
        websocket.ABNF(fin=0, opcode=websocket.ABNF.OPCODE_CONT, data=part)
    )
    assert socket.receive_close().code == 1009


def test_fragmented_message_under_the_limit_is_handled(socket):
    import websocket

    text = json.dumps({"action": "ping", "id": "frag"})
    half = len(text) // 2
    socket.ws.send_frame(
        websocket.ABNF(fin=0, opcode=websocket.ABNF.OPCODE_TEXT, data=text[:half])
    )
    socket.ws.send_frame(
        websocket.ABNF(fin=1, opcode=websocket.ABNF.OPCODE_CONT, data=text[half:])
    )
    assert socket.receive() == {"id": "frag", "body": "pong"}


def test_client_pings_are_answered_with_pongs(socket):
    import websocket

    socket.ws.ping(b"are you there")
    socket.ws.settimeout(10)
    opcode, frame = socket.ws.recv_data_frame(True)
    assert opcode == websocket.ABNF.OPCODE_PONG
    assert frame.data == b"are you there"


def test_a_flood_of_10000_messages_is_answered_in_order():
    # With the rate limit lifted; test_handlers.py floods within the limit.
    app = create_app(REALTIME_MESSAGE_RATE=1e9, REALTIME_MESSAGE_BURST=10**9)
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        socket = browser.open("/").connect()
        other = browser.open("/").connect()
        for n in range(10_000):
            socket.send(json.dumps({"action": "ping", "id": n}))
        assert [socket.receive()["id"] for _ in range(10_000)] == list(range(10_000))
        assert other.request("ping")["body"] == "pong"
        browser.close_all()
    finally:
        server.stop()
