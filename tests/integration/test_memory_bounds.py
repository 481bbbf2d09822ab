"""What a hostile client sends cannot make the server hold memory without
bound, nor outrun the rate limit (issue 10, item 3)."""

from __future__ import annotations

import threading
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


def test_the_message_limit_counts_bytes_not_characters(server, browser):
    socket = browser.open("/").connect()
    # 20,000 four-byte characters: 80,000 bytes, past the 64 KiB limit.
    socket.send('{"action":"ping","pad":"' + "\U0001f600" * 20_000 + '"}')
    assert socket.receive_close().code == 1009


def test_read_ahead_is_bounded_in_size_not_only_in_messages():
    # The handler of the first message waits; meanwhile the client sends 64
    # messages of 60,000 four-byte characters. Each is under the character
    # count simple-websocket checks, but together they are 15 MB as text.
    app = create_app()
    release = threading.Event()

    @app.extensions["test_realtime"].handler("wait")
    def wait(message):
        release.wait(30)
        return "done"

    server = LiveServer(app)
    browser = Browser(server.url)
    socket = browser.open("/").connect()
    big = '{"action":"ping","pad":"' + "\U0001f600" * 60_000 + '"}'

    def send_all():
        try:
            for _ in range(64):
                socket.send(big)
        except OSError:
            pass  # closed with 1009 once the first of them is handled

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        socket.send('{"action":"wait"}')
        sender = threading.Thread(target=send_all)
        sender.start()
        sender.join(5)  # done at once if the server reads everything
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        release.set()
        sender.join(10)
        browser.close_all()
        server.stop()
    assert held < 9_000_000, f"{held} bytes held while the handler waited"
