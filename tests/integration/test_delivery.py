"""Delivery under pressure: slow readers, many readers, dead peers."""

from __future__ import annotations

import json
import socket as socket_module
import threading
import time

import pytest

from flask_realtime import frames
from flask_realtime.signals import socket_disconnected

from ..conftest import create_app
from ..support import Browser
from ..support import Closed
from ..support import LiveServer
from ..support import wait_for

BACKLOG = 256 * 1024
PADDING = "x" * 10_000


def pushes_to_overflow() -> int:
    """Enough 10 KB pushes to fill the kernel's largest send buffer, then
    the backlog."""
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        largest_send_buffer = int(f.read().split()[2])
    return (largest_send_buffer + BACKLOG) // len(PADDING) + 50


@pytest.fixture
def app():
    # A small backlog, so that a stuck client overflows after a few pushes,
    # and a history that holds every push, so that it can catch up after.
    return create_app(
        REALTIME_MAX_BACKLOG=BACKLOG, REALTIME_HISTORY_SIZE=pushes_to_overflow()
    )


def test_a_client_that_never_reads_is_closed_100_others_get_everything_and_it_recovers(
    browser, new_browser, realtime, disconnects
):
    stuck_page = browser.open("/?channel=news")
    stuck = stuck_page.connect(
        sockopt=((socket_module.SOL_SOCKET, socket_module.SO_RCVBUF, 4096),)
    )
    stuck.request("ping")
    readers = [new_browser().open("/?channel=news").connect() for _ in range(100)]
    for reader in readers:
        reader.request("ping")

    received: list[list[int]] = [[] for _ in readers]

    def read_all(index: int, count: int) -> None:
        for _ in range(count):
            received[index].append(readers[index].receive(timeout=60)["payload"]["n"])

    pushes = pushes_to_overflow()
    threads = [
        threading.Thread(target=read_all, args=(i, pushes)) for i in range(len(readers))
    ]
    for thread in threads:
        thread.start()
    for n in range(pushes):
        realtime.push({"n": n, "padding": PADDING}, "news")
    for thread in threads:
        thread.join(120)

    assert all(r == list(range(pushes)) for r in received)
    wait_for(lambda: stuck_page.connection_id in disconnects)
    assert disconnects[stuck_page.connection_id] == 4008
    # The stuck client, reading at last, finds its stream cut short (its
    # close frame too, if it read nothing for longer than the close timeout)...
    got: list[int] = []
    with pytest.raises(Closed):
        for _ in range(pushes + 1):
            got.append(stuck.receive(timeout=10)["payload"]["n"])
    assert got == list(range(len(got))) and len(got) < pushes
    # ...and reconnecting with its positions, as the browser client does, it
    # gets the rest, in order, before what is pushed next.
    again = stuck_page.reconnect(stuck)
    realtime.push({"n": pushes}, "news")
    rest = [again.receive()["payload"]["n"] for _ in range(pushes + 1 - len(got))]
    assert got + rest == list(range(pushes + 1))
    # The server goes on serving new clients.
    fresh = new_browser().open("/?channel=news").connect()
    fresh.request("ping")
    realtime.push({"n": -1}, "news")
    assert fresh.receive()["payload"] == {"n": -1}


def test_a_peer_that_stops_answering_pings_is_dropped():
    app = create_app(REALTIME_PING_INTERVAL=0.2)
    codes = []
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        with socket_disconnected.connected_to(
            lambda sender, code, **kw: codes.append(code), app
        ):
            silent = browser.open("/").connect()  # never reads, never answers
            wait_for(lambda: codes)
        assert codes == [1006]
        silent.close()
    finally:
        server.stop()


def test_a_client_that_reads_slowly_but_steadily_is_not_dropped_mid_push():
    # No pings go out while the connection's thread writes a long backlog:
    # what the client takes shows it is there. It was dropped after twice
    # the ping interval, in the middle of a frame.
    app = create_app(REALTIME_PING_INTERVAL=0.25, REALTIME_MAX_BACKLOG=8 << 20)
    realtime = app.extensions["test_realtime"]
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        slow = browser.open("/?channel=news").connect(
            sockopt=((socket_module.SOL_SOCKET, socket_module.SO_RCVBUF, 16384),)
        )
        slow.request("ping")
        # A small send buffer on the server's side, as over a slow network:
        # the connection's thread, not the kernel, holds what waits.
        (connection,) = realtime._states[app]._live
        connection._sock.setsockopt(
            socket_module.SOL_SOCKET, socket_module.SO_SNDBUF, 16384
        )
        big = [f"{n}" + "x" * 1_000_000 for n in range(2)]
        for text in big:
            realtime.push(text, "news")
        raw, texts = b"", []
        slow.ws.sock.settimeout(10)
        while len(texts) < len(big):
            chunk = slow.ws.sock.recv(16384)
            assert chunk, f"dropped after {len(raw)} bytes"
            raw += chunk
            found = frames.split(raw)
            texts = [f for opcode, f in found if opcode == 0x1]
            time.sleep(0.02)  # about 800 KB/s
        assert [json.loads(frames.unframe(f)[1])["payload"] for f in texts] == big
    finally:
        browser.close_all()
        server.stop()


def test_server_pings_and_a_healthy_client_stays_connected():
    import websocket

    app = create_app(REALTIME_PING_INTERVAL=0.1)
    server = LiveServer(app)
    try:
        socket = Browser(server.url).open("/").connect()
        pings = 0
        socket.ws.settimeout(10)
        while pings < 5:  # five intervals: twice the drop threshold and more
            opcode, frame = socket.ws.recv_data_frame(True)
            if opcode == websocket.ABNF.OPCODE_PING:
                socket.ws.pong(frame.data)
                pings += 1
        assert socket.request("ping")["body"] == "pong"
        socket.close()
    finally:
        server.stop()


def test_many_sockets_in_one_session_each_get_their_own_channels(browser, realtime):
    pages = [browser.open(f"/?channel=user{n}") for n in range(30)]
    sockets = [page.connect() for page in pages]
    for s in sockets:
        s.request("ping")
    for n in range(30):
        realtime.push(n, f"user{n}")
    for n, s in enumerate(sockets):
        assert s.receive() == {"channel": f"user{n}", "payload": n}
