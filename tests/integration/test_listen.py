"""realtime.listen(): this process's functions receive a channel's pushes,
from every process on Redis."""

from __future__ import annotations

import logging
import queue
import threading

import pytest

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer


def received_into() -> tuple[queue.Queue, object]:
    got: queue.Queue = queue.Queue()
    return got, got.put


def test_a_listener_gets_pushes_until_it_stops(browser, realtime):
    got, listener = received_into()
    stop = realtime.listen("jobs", listener)
    realtime.push({"n": 1}, "jobs")
    threading.Thread(target=realtime.push, args=({"n": 2}, "jobs", "other")).start()
    browser.request("/push", method="POST", data={"text": "3", "channel": "jobs"})
    assert [got.get(timeout=10) for _ in range(3)] == [
        {"n": 1},
        {"n": 2},
        {"text": "3"},
    ]
    stop()
    stop()  # twice is fine
    realtime.push({"n": 4}, "jobs")
    realtime.push({"n": 5}, "elsewhere")
    with pytest.raises(queue.Empty):
        got.get(timeout=0.5)


def test_a_failing_listener_is_logged_and_breaks_nothing(browser, realtime, caplog):
    def fails(payload):
        raise RuntimeError(f"listener bug on {payload}")

    got, listener = received_into()
    realtime.listen("chat", fails)
    realtime.listen("chat", listener)
    page = browser.open("/?channel=chat")
    socket = page.connect()
    socket.request("ping")
    realtime.push("one", "chat", exclude=page.connection_id)  # not a listener
    realtime.push("two", "chat")
    assert socket.receive()["payload"] == "two"
    assert [got.get(timeout=10) for _ in range(2)] == ["one", "two"]
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 2
    assert "A listener of channel 'chat' failed" in failures[0].getMessage()


@pytest.mark.parametrize(
    ("channel", "function"),
    [(5, print), ("", print), ("a" * 300, print), ("a", "not callable")],
)
def test_bad_arguments_are_clear_errors(realtime, channel, function):
    with pytest.raises((TypeError, ValueError)):
        realtime.listen(channel, function)


@pytest.mark.redis
def test_on_redis_every_listening_process_gets_every_process_pushes(redis_server):
    # Two apps with their own backends: two processes as far as Redis knows.
    listening = create_app(REALTIME_BACKEND=redis_server.url)
    serving = create_app(REALTIME_BACKEND=redis_server.url)
    server = LiveServer(serving)
    got, listener = received_into()
    stop = listening.extensions["realtime"].listen("jobs", listener)
    try:
        serving.extensions["realtime"].push({"from": "the other process"}, "jobs")
        Browser(server.url).request(
            "/push", method="POST", data={"text": "a request", "channel": "jobs"}
        )
        listening.extensions["realtime"].push({"from": "itself"}, "jobs")
        received = [got.get(timeout=10) for _ in range(3)]
        assert received == [
            {"from": "the other process"},
            {"text": "a request"},
            {"from": "itself"},
        ]
        stats = listening.extensions["realtime"].stats()
        assert stats["listener"]["state"] == "connected"  # for listen() alone
        stop()
        serving.extensions["realtime"].push({"after": "stop"}, "jobs")
        with pytest.raises(queue.Empty):
            got.get(timeout=0.5)
    finally:
        server.stop()
        for app in (listening, serving):
            app.extensions["realtime"]._state(app).backend.close()


def test_a_listener_that_raises_system_exit_stops_no_other(realtime, caplog):
    # SystemExit (or gevent's Timeout) is no Exception: it ended the thread
    # that runs every listener, for good.
    def exits(payload):
        raise SystemExit(1)

    got, listener = received_into()
    realtime.listen("a", exits)
    realtime.listen("b", listener)
    for n in range(3):
        realtime.push(n, "a")
        realtime.push(n, "b")
    assert [got.get(timeout=10) for _ in range(3)] == [0, 1, 2]
    assert any(
        "A listener of channel 'a' failed" in r.getMessage() for r in caplog.records
    )
