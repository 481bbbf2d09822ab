"""Several application processes on one Redis, and pushes from workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ..support import Browser
from ..support import Closed
from ..support import Page
from .test_gunicorn import Gunicorn
from .test_gunicorn import ROOT

pytestmark = [pytest.mark.servers, pytest.mark.redis]


@pytest.fixture
def processes(redis_server):
    # Pings far apart: these tests leave sockets unread for a while.
    env = {
        "TEST_REALTIME_BACKEND": redis_server.url,
        "TEST_REALTIME_PING_INTERVAL": "20",
    }
    servers = [Gunicorn("gthread", env), Gunicorn("gevent", env)]
    yield servers
    for server in servers:
        if server.process.poll() is None:
            log = server.stop()
            assert "Traceback" not in log, log


def worker_push(
    redis_url: str, channel: str, message: object
) -> subprocess.CompletedProcess:
    """Push from a separate process with no web server: the CLI command."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "tests.servers.app",
            "realtime",
            "push",
            channel,
            json.dumps(message),
        ],
        cwd=ROOT,
        env={**os.environ, "TEST_REALTIME_BACKEND": redis_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def on(server, browser: Browser) -> Browser:
    """The same browser session (cookies), talking to another process."""
    other = Browser(server.url)
    other.cookies = browser.cookies
    return other


def test_pages_sockets_and_pushes_span_processes(processes, redis_server):
    a, b = processes
    alice, bob = Browser(a.url), Browser(b.url)
    sockets = []
    try:
        # Alice's page is rendered by A and her socket connects to B; Bob's
        # stays on B.
        alice_page = alice.open("/?channel=chat")
        sockets.append(on(b, alice).connect(alice_page.connection_id))
        sockets.append(bob.open("/?channel=chat").connect())
        for s in sockets:
            assert s.request("ping")["body"] == "pong"
        alice.request(
            "/push", method="POST", data={"text": "from A", "channel": "chat"}
        )
        bob.request("/push", method="POST", data={"text": "from B", "channel": "chat"})
        result = worker_push(redis_server.url, "chat", {"text": "from a worker"})
        assert result.returncode == 0, result.stderr
        for s in sockets:
            texts = [s.receive()["payload"]["text"] for _ in range(3)]
            assert texts == ["from A", "from B", "from a worker"]
    finally:
        for s in sockets:
            s.close()


def test_a_page_that_speaks_is_left_out_on_every_process(processes):
    # Alice's socket is on B, Bob's on A; Alice's page calls a route over her
    # socket (on B) that pushes to the room without her, and a request on A
    # pushes without Bob.
    a, b = processes
    alice, bob = Browser(a.url), Browser(b.url)
    sockets = []
    try:
        alice_page = alice.open("/?channel=chat")
        alice_socket = on(b, alice).connect(alice_page.connection_id)
        bob_page = bob.open("/?channel=chat")
        bob_socket = on(a, bob).connect(bob_page.connection_id)
        sockets = [alice_socket, bob_socket]
        for s in sockets:
            s.request("ping")
        said = alice_socket.request(
            "call-route", uri="/say-to-others", method="POST", input={"text": "hi"}
        )
        assert said["status"] == 204
        alice.request(
            "/push",
            method="POST",
            data={
                "text": "not Bob",
                "channel": "chat",
                "exclude": bob_page.connection_id,
            },
        )
        alice.request("/push", method="POST", data={"text": "all", "channel": "chat"})
        assert [bob_socket.receive()["payload"] for _ in range(2)] == [
            {"said": "hi"},
            {"text": "all"},
        ]
        assert [alice_socket.receive()["payload"] for _ in range(2)] == [
            {"text": "not Bob"},
            {"text": "all"},
        ]
    finally:
        for s in sockets:
            s.close()


def test_a_request_on_one_process_subscribes_a_socket_on_another(processes):
    a, b = processes
    browser = Browser(a.url)
    page = browser.open("/bare")
    socket_ = on(b, browser).connect(page.connection_id)
    try:
        socket_.request("ping")
        status, _ = browser.request(
            "/subscribe",
            method="POST",
            data={"channel": "late"},
            headers={"X-Socket-Connection-Id": page.connection_id},
        )
        assert status == 200
        browser.request("/push", method="POST", data={"text": "now", "channel": "late"})
        assert socket_.receive() == {"channel": "late", "payload": {"text": "now"}}
    finally:
        socket_.close()


def test_clients_of_a_killed_process_resume_on_another(processes):
    a, b = processes
    browser = Browser(a.url)
    page = browser.open("/?channel=chat")
    socket_ = page.connect()
    socket_.request("ping")

    def push(server: Browser, text: str) -> None:
        server.request("/push", method="POST", data={"text": text, "channel": "chat"})

    push(browser, "before")
    assert socket_.receive()["payload"] == {"text": "before"}
    a.kill()  # SIGKILL: no clean-up at all
    with pytest.raises(Closed):
        socket_.receive(timeout=10)
    socket_.close()
    on_b = on(b, browser)
    push(on_b, "while away")
    # Reconnecting to B with the positions it had, the page gets what it
    # missed, then what comes next.
    again = Page(on_b, page.html).reconnect(socket_)
    try:
        push(on_b, "still here")
        assert [again.receive()["payload"]["text"] for _ in range(2)] == [
            "while away",
            "still here",
        ]
    finally:
        again.close()


def test_a_redis_that_restarts_empty_sends_its_pages_back_for_new_ids(
    processes, redis_server
):
    # A redis-server without persistence restarts empty: it forgot every
    # socket. Their sockets are closed with 1012, a reconnect with the old
    # id gets 4001 (the browser client then reloads), and a new page works.
    a, _ = processes
    browser = Browser(a.url)
    page = browser.open("/?channel=chat")
    socket_ = page.connect()
    try:
        socket_.request("ping")
        redis_server.stop()
        # The caller of a push learns that Redis is away...
        result = worker_push(redis_server.url, "chat", {"text": "lost"})
        assert result.returncode != 0
        assert "Redis" in result.stderr and "unavailable" in result.stderr
        # ...while sockets stay open.
        assert socket_.request("ping")["body"] == "pong"
        redis_server.start()
        assert socket_.receive_close(timeout=30).code == 1012
        assert page.connect().receive_close().code == 4001
        fresh = browser.open("/?channel=chat").connect()
        fresh.request("ping")
        browser.request(
            "/push", method="POST", data={"text": "back", "channel": "chat"}
        )
        assert fresh.receive() == {"channel": "chat", "payload": {"text": "back"}}
    finally:
        browser.close_all()


def test_a_stalled_peer_does_not_turn_a_subscription_into_an_error(processes):
    # The process holding the socket is stopped (SIGSTOP): a request on the
    # other process that subscribes the socket waits for its confirmation a
    # bounded time, then answers anyway. Once the peer runs again, it
    # applies the change.
    a, b = processes
    browser = Browser(a.url)
    page = browser.open("/bare")
    socket_ = on(b, browser).connect(page.connection_id)
    try:
        socket_.request("ping")
        os.killpg(b.process.pid, signal.SIGSTOP)
        try:
            status, _ = browser.request(
                "/subscribe",
                method="POST",
                data={"channel": "late"},
                headers={"X-Socket-Connection-Id": page.connection_id},
            )
        finally:
            os.killpg(b.process.pid, signal.SIGCONT)
        assert status == 200
        deadline = time.monotonic() + 20
        while True:  # B reads its control channel once it runs again
            browser.request(
                "/push", method="POST", data={"text": "now", "channel": "late"}
            )
            try:
                message = socket_.receive(timeout=0.5)
                break
            except Exception:
                assert time.monotonic() < deadline, "the subscription never applied"
        assert message == {"channel": "late", "payload": {"text": "now"}}
    finally:
        socket_.close()


@pytest.mark.parametrize("worker", ["gthread", "gevent"])
def test_a_graceful_restart_drains_and_the_page_loses_nothing(redis_server, worker):
    # A page's socket on A, pushes streaming through B. A restarts as in a
    # deploy: SIGTERM, then a new A on the same port. The socket is closed
    # with 1012 rather than dropped, reconnects with its positions, and gets
    # every push, in order.
    env = {
        "TEST_REALTIME_BACKEND": redis_server.url,
        "TEST_REALTIME_PING_INTERVAL": "20",
        "TEST_REALTIME_HISTORY_SIZE": "5000",
    }
    a, b = Gunicorn(worker, env), Gunicorn("gthread", env)
    browser = Browser(a.url)
    pusher = Browser(b.url)
    sent: list[int] = []
    stop = threading.Event()

    def stream() -> None:
        for n in range(2000):
            if stop.is_set():
                return
            status, _ = pusher.request(
                "/push", method="POST", data={"text": str(n), "channel": "chat"}
            )
            assert status == 204
            sent.append(n)

    streamer = threading.Thread(target=stream)
    try:
        page = browser.open("/?channel=chat")
        socket_ = page.connect()
        socket_.request("ping")
        streamer.start()
        received = [int(socket_.receive()["payload"]["text"]) for _ in range(20)]
        a = a.restart()
        while True:
            try:
                received.append(int(socket_.receive()["payload"]["text"]))
            except Closed as closed:
                assert closed.code == 1012
                break
        again = Page(browser, page.html).reconnect(socket_)
        for _ in range(50):  # what was missed, and more after it
            received.append(int(again.receive()["payload"]["text"]))
        stop.set()
        streamer.join(30)
        while len(received) < len(sent):
            received.append(int(again.receive()["payload"]["text"]))
        assert received == sent
    finally:
        stop.set()
        if streamer.is_alive():
            streamer.join(30)
        browser.close_all()
        for server in (a, b):
            if server.process.poll() is None:
                server.stop()
