"""Presence across gunicorn processes on one Redis, and a process that dies."""

from __future__ import annotations

import json

import pytest

from ..support import Browser
from .test_gunicorn import Gunicorn

pytestmark = [pytest.mark.servers, pytest.mark.redis]


@pytest.fixture
def processes(redis_server):
    # A dead process's sockets expire with their lease: the grace plus two
    # ping intervals, here 1 + 2 × 1 seconds.
    env = {
        "TEST_REALTIME_BACKEND": redis_server.url,
        "TEST_REALTIME_PING_INTERVAL": "1",
        "TEST_REALTIME_DISCONNECT_GRACE": "1",
    }
    servers = [Gunicorn("gthread", env), Gunicorn("gevent", env)]
    yield servers
    for server in servers:
        if server.process.poll() is None:
            log = server.stop()
            assert "Traceback" not in log, log


def next_presence(socket, timeout=10):
    while True:
        message = socket.receive(timeout)
        if "presence" in message or "presence_state" in message:
            return message


def test_presence_spans_processes_and_a_killed_process_leaves(processes):
    a, b = processes
    ann, bob = Browser(a.url), Browser(b.url)
    try:
        bob_socket = bob.open("/room?key=bob").connect()
        assert list(next_presence(bob_socket)["presence_state"]) == ["bob"]
        ann_socket = ann.open("/room?key=ann&meta=%7B%22tab%22%3A1%7D").connect()
        join = next_presence(bob_socket)
        assert join["presence"]["joins"]["ann"][0]["meta"] == {"tab": 1}
        assert sorted(next_presence(ann_socket)["presence_state"]) == ["ann", "bob"]
        # Any process tells who is there.
        for browser in (ann, bob):
            status, body = browser.request("/presence?channel=room")
            assert (status, sorted(json.loads(body))) == (200, ["ann", "bob"])
        a.kill()  # SIGKILL: Ann's process cannot say she left
        leave = next_presence(bob_socket, timeout=15)
        assert leave["presence"] == {"joins": {}, "leaves": join["presence"]["joins"]}
        status, body = bob.request("/presence?channel=room")
        assert json.loads(body) == {"bob": [None]}
    finally:
        ann.close_all()
        bob.close_all()
