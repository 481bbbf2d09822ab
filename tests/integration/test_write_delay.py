"""REALTIME_WRITE_DELAY: a socket's frames wait a few milliseconds and go out
together. Real server, real WebSocket clients; what is checked is what the
clients receive, and in how many reads of the TCP socket."""

from __future__ import annotations

import json
import socket as socket_module
import threading
import time

import pytest
from flask import request

from flask_realtime.signals import socket_disconnected

from ..conftest import create_app
from ..support import Browser
from ..support import Closed
from ..support import LiveServer
from ..support import wait_for

#: Long enough that a burst pushed in a loop falls in one window, even on a
#: busy machine.
DELAY_MS = 200


def create_delayed_app(**config):
    app = create_app(**{"REALTIME_WRITE_DELAY": DELAY_MS, **config})
    realtime = app.extensions["test_realtime"]

    @app.post("/burst")
    def burst() -> tuple[str, int]:
        # A route that pushes many messages in one request, called over the
        # socket or over HTTP.
        fields = request.get_json(silent=True) or request.form
        start = int(fields.get("start", 0))
        for n in range(start, start + int(fields["n"])):
            realtime.push({"n": n}, fields.get("channel", "chat"))
        return "", 204

    return app


@pytest.fixture
def app():
    return create_delayed_app()


def test_pushes_made_while_a_message_is_handled_go_out_with_its_reply(browser):
    # The socket's own thread runs the route, and under a write delay only
    # that thread writes: nothing goes out until the reply is ready (but the
    # first push, if it came after a quiet moment), and then everything at
    # once, the reply last. (Whether frames written one by one would arrive
    # in more reads depends on timing, see tests/servers for that.)
    socket = browser.open("/?channel=chat").connect()
    socket.request("ping")
    burst = 200
    socket.send(
        json.dumps(
            {
                "action": "call-route",
                "id": "burst",
                "uri": "/burst",
                "method": "POST",
                "input": {"n": burst},
            }
        )
    )
    messages, reads = socket.read_raw(burst + 1)
    assert [m["payload"]["n"] for m in messages[:burst]] == list(range(burst))
    assert messages[-1]["id"] == "burst" and messages[-1]["status"] == 204
    assert reads <= burst // 10, reads


def test_a_push_after_a_quiet_moment_goes_at_once_and_the_next_ones_wait():
    # The longest delay: the pushes that follow the first still wait when
    # the client has read it, however busy the machine. Another client
    # sends pings all along: replies are not pushes, the process is quiet.
    app = create_delayed_app(REALTIME_WRITE_DELAY=1000)
    realtime = app.extensions["test_realtime"]
    server = LiveServer(app)
    browser, chatty_browser = Browser(server.url), Browser(server.url)
    chatting = threading.Event()
    try:
        socket = browser.open("/?channel=news").connect()
        socket.request("ping")
        chatty = chatty_browser.open("/").connect()

        def chat() -> None:
            while not chatting.wait(0.1):
                assert chatty.request("ping")["body"] == "pong"

        chatter = threading.Thread(target=chat)
        chatter.start()
        time.sleep(1.2)  # quiet: no push for longer than the delay
        for n in range(20):
            realtime.push({"n": n}, "news")
        first, _ = socket.read_raw(1)
        assert [m["payload"]["n"] for m in first] == [0]  # alone in its read
        rest, reads = socket.read_raw(19)
        assert [m["payload"]["n"] for m in rest] == list(range(1, 20))
        assert reads <= 2, reads
        chatting.set()
        chatter.join(10)
    finally:
        chatting.set()
        browser.close_all()
        chatty_browser.close_all()
        server.stop()


def test_every_push_arrives_in_order_to_every_subscriber():
    # A short delay, as in production: bursts span many windows, and the
    # sockets' windows end while pushes go on.
    app = create_delayed_app(REALTIME_WRITE_DELAY=5)
    realtime = app.extensions["test_realtime"]
    server = LiveServer(app)
    browsers = [Browser(server.url) for _ in range(4)]
    try:
        sockets = [b.open("/?channel=news").connect() for b in browsers]
        for s in sockets:
            s.request("ping")
        bursts, burst = 3, 150
        received: list[list[int]] = [[] for _ in sockets]

        def read_all(index: int) -> None:
            for _ in range(bursts * burst):
                message = sockets[index].receive(timeout=30)
                received[index].append(message["payload"]["n"])

        readers = [threading.Thread(target=read_all, args=(i,)) for i in range(4)]
        for reader in readers:
            reader.start()
        # From a thread of the test, from a request thread of the server,
        # and from the test again.
        for n in range(burst):
            realtime.push({"n": n}, "news")
        status, _ = browsers[0].request(
            "/burst",
            method="POST",
            data={"start": str(burst), "n": str(burst), "channel": "news"},
        )
        assert status == 204
        for n in range(2 * burst, 3 * burst):
            realtime.push({"n": n}, "news")
        for reader in readers:
            reader.join(60)
        for r in received:
            assert r == list(range(bursts * burst))
    finally:
        for b in browsers:
            b.close_all()
        server.stop()


def test_replies_route_calls_and_pings_work_under_the_longest_delay():
    import websocket

    app = create_delayed_app(REALTIME_WRITE_DELAY=1000, REALTIME_PING_INTERVAL=0.2)
    server = LiveServer(app)
    browser = Browser(server.url)
    try:
        socket = browser.open("/?channel=chat").connect()
        assert socket.request("ping")["body"] == "pong"
        reply = socket.request("call-route", uri="/?channel=more")
        assert reply["status"] == 200 and "data-socket-connection-id" in reply["body"]
        # The client's pings get pongs; the server's pings come at their
        # interval, and an answering client stays connected.
        socket.ws.ping(b"hello")
        pongs = pings = 0
        socket.ws.settimeout(10)
        while pongs < 1 or pings < 5:
            opcode, frame = socket.ws.recv_data_frame(True)
            if opcode == websocket.ABNF.OPCODE_PONG:
                assert frame.data == b"hello"
                pongs += 1
            elif opcode == websocket.ABNF.OPCODE_PING:
                socket.ws.pong(frame.data)
                pings += 1
        assert socket.request("ping")["body"] == "pong"
    finally:
        browser.close_all()
        server.stop()


def test_a_close_comes_after_the_pushes_waiting_before_it(
    browser, realtime, disconnects
):
    page = browser.open("/?channel=user:1")
    socket = page.connect()
    socket.request("ping")
    for n in range(50):
        realtime.push({"n": n}, "user:1")
    realtime.disconnect("user:1")
    assert [socket.receive()["payload"]["n"] for _ in range(50)] == list(range(50))
    assert socket.receive_close().code == 4003
    wait_for(lambda: page.connection_id in disconnects)


def test_a_client_that_never_reads_is_closed_as_a_slow_consumer_and_recovers(
    new_browser, disconnects
):
    # Its backlog fills while the connection's thread waits to write a
    # window the client does not read.
    backlog = 64 * 1024
    app = create_delayed_app(
        REALTIME_WRITE_DELAY=5, REALTIME_MAX_BACKLOG=backlog, REALTIME_HISTORY_SIZE=1000
    )
    realtime = app.extensions["test_realtime"]
    server = LiveServer(app)
    codes = []
    browser, reader_browser = Browser(server.url), Browser(server.url)
    try:
        with socket_disconnected.connected_to(
            lambda sender, code, **kw: codes.append(code), app
        ):
            page = browser.open("/?channel=news")
            stuck = page.connect(
                sockopt=((socket_module.SOL_SOCKET, socket_module.SO_RCVBUF, 4096),)
            )
            stuck.request("ping")
            reader = reader_browser.open("/?channel=news").connect()
            reader.request("ping")
            with open("/proc/sys/net/ipv4/tcp_wmem") as f:
                send_buffer = int(f.read().split()[2])
            padding = "x" * 10_000
            pushes = (send_buffer + backlog) // len(padding) + 50
            got_all: list[int] = []

            def read_all() -> None:
                for _ in range(pushes):
                    got_all.append(reader.receive(timeout=60)["payload"]["n"])

            reading = threading.Thread(target=read_all)
            reading.start()
            for n in range(pushes):
                realtime.push({"n": n, "padding": padding}, "news")
                # The reader, in this process, keeps up: a few pushes behind
                # at most, less than its backlog holds. (A pusher that does
                # not wait outruns it, and it is rightly closed too.)
                wait_for(lambda n=n: len(got_all) >= n - 2)
            reading.join(120)
            assert got_all == list(range(pushes))
            wait_for(lambda: 4008 in codes)
        # What the stuck client reads: the first pushes in order, then the
        # end of the stream (the close frame, if it came in time).
        got: list[int] = []
        with pytest.raises(Closed):
            for _ in range(pushes + 1):
                got.append(stuck.receive(timeout=10)["payload"]["n"])
        assert got == list(range(len(got))) and len(got) < pushes
        again = page.reconnect(stuck)
        rest = [again.receive()["payload"]["n"] for _ in range(pushes - len(got))]
        assert got + rest == list(range(pushes))
    finally:
        browser.close_all()
        reader_browser.close_all()
        server.stop()
