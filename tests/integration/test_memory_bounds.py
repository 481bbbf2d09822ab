"""What a hostile client sends cannot make the server hold memory without
bound, nor outrun the rate limit (issue 10, item 3)."""

from __future__ import annotations

import tracemalloc

import websocket

from flask_realtime.connection import Connection

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer


def limited_server(**config):
    return LiveServer(create_app(REALTIME_MESSAGE_RATE=1, **config))


def test_a_ping_flood_gets_few_pongs_and_is_closed_as_rate_limited():
    server = limited_server(REALTIME_MESSAGE_BURST=5)
    browser = Browser(server.url)
    try:
        socket = browser.open("/").connect()
        for _ in range(50):
            socket.ws.ping(b"p" * 100)
        pongs = 0
        socket.ws.settimeout(10)
        while True:
            opcode, frame = socket.ws.recv_data_frame(True)
            if opcode == websocket.ABNF.OPCODE_PONG:
                pongs += 1
            elif opcode == websocket.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(frame.data[:2], "big")
                break
        assert code == 4029
        # Pings take tokens like messages: the burst, and no more.
        assert 1 <= pongs <= 6
    finally:
        browser.close_all()
        server.stop()


def test_input_sent_after_a_close_is_dropped_not_held(monkeypatch):
    # The server closes for flooding; the client ignores the close and sends
    # 30 MB more. None of it is held: input is no longer handled.
    monkeypatch.setattr(Connection, "close_timeout", 30.0)
    server = limited_server(REALTIME_MESSAGE_BURST=2)
    browser = Browser(server.url)
    try:
        socket = browser.open("/").connect()
        for _ in range(6):
            socket.send('{"action":"ping"}')
        # Read the close without answering it (recv_frame does not reply).
        socket.ws.settimeout(10)
        while (frame := socket.ws.recv_frame()).opcode != websocket.ABNF.OPCODE_CLOSE:
            pass
        assert int.from_bytes(frame.data[:2], "big") == 4029
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            big = '{"action":"ping","pad":"' + "x" * 60_000 + '"}'
            for _ in range(500):
                socket.send(big)
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert held < 8_000_000, f"{held} bytes held after the close"
    finally:
        browser.close_all()
        server.stop()


def test_reconnecting_does_not_refill_the_rate_limit():
    server = LiveServer(
        create_app(REALTIME_MESSAGE_RATE=0.05, REALTIME_MESSAGE_BURST=3)
    )
    browser = Browser(server.url)
    try:
        page = browser.open("/")
        socket = page.connect()
        replies = [socket.request("ping") for _ in range(4)]
        assert replies[-1]["error"]["code"] == "rate_limited"
        socket.drop()
        again = page.connect()
        assert again.request("ping")["error"]["code"] == "rate_limited"
    finally:
        browser.close_all()
        server.stop()
