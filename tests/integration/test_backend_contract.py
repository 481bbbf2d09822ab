"""One contract for every backend: memory and Redis behave the same."""

from __future__ import annotations

import time

import pytest

from flask_realtime.errors import ConnectionIdRefused
from flask_realtime.frames import text_frame

from ..redis_server import RedisServer
from ..support import wait_for


class FakeConnection:
    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.closed: list[int] = []

    def send_frame(self, frame: bytes) -> None:
        self.frames.append(frame)

    def close(self, code: int, reason: str = "") -> None:
        self.closed.append(code)


@pytest.fixture(params=["memory", "redis"])
def make_backend(request):
    made = []
    server = RedisServer() if request.param == "redis" else None

    def make(connect_timeout=60.0, disconnect_grace=120.0):
        if server is None:
            from flask_realtime.backends.memory import MemoryBackend

            backend = MemoryBackend(
                connect_timeout=connect_timeout, disconnect_grace=disconnect_grace
            )
        else:
            from flask_realtime.backends.redis import RedisBackend

            backend = RedisBackend(
                server.url,
                prefix="test:",
                connect_timeout=connect_timeout,
                disconnect_grace=disconnect_grace,
                ping_interval=1,
            )
        made.append(backend)
        return backend

    make.server = server
    yield make
    for backend in made:
        backend.close()
    if server is not None:
        server.stop()


def frame(n):
    return text_frame(f'{{"n":{n}}}'.encode())


def test_issued_ids_are_known(make_backend):
    backend = make_backend()
    backend.issue("d1")
    assert backend.is_known("d1")
    assert not backend.is_known("never issued")


def test_subscribe_before_attach_then_receive(make_backend):
    backend = make_backend()
    backend.issue("d1")
    backend.subscribe("d1", ["a", "b"])
    connection = FakeConnection()
    assert backend.attach("d1", connection) is None
    backend.publish("a", frame(1))
    backend.publish("c", frame(2))
    backend.publish("b", frame(3))
    wait_for(lambda: len(connection.frames) == 2)
    assert connection.frames == [frame(1), frame(3)]
    backend.detach("d1", connection, forget=True)


def test_subscribe_and_unsubscribe_while_attached(make_backend):
    backend = make_backend()
    backend.issue("d1")
    connection = FakeConnection()
    backend.attach("d1", connection)
    backend.subscribe("d1", ["a", "b"])
    backend.unsubscribe("d1", ["a"])
    backend.publish("a", frame(1))
    backend.publish("b", frame(2))
    wait_for(lambda: connection.frames)
    assert connection.frames == [frame(2)]
    backend.detach("d1", connection, forget=True)


def test_order_is_kept_per_channel(make_backend):
    backend = make_backend()
    connections = []
    for n in range(3):
        backend.issue(f"d{n}")
        backend.subscribe(f"d{n}", ["o"])
        connections.append(FakeConnection())
        backend.attach(f"d{n}", connections[-1])
    for n in range(200):
        backend.publish("o", frame(n))
    for connection in connections:
        wait_for(lambda c=connection: len(c.frames) == 200)
        assert connection.frames == [frame(n) for n in range(200)]
    for n, connection in enumerate(connections):
        backend.detach(f"d{n}", connection, forget=True)


def test_unknown_ids_are_refused(make_backend):
    backend = make_backend()
    with pytest.raises(ConnectionIdRefused):
        backend.attach("nope", FakeConnection())
    backend.subscribe("nope", ["a"])  # nothing to subscribe, no error
    assert not backend.is_known("nope")


def test_a_second_attach_replaces_the_first(make_backend):
    backend = make_backend()
    backend.issue("d1")
    backend.subscribe("d1", ["a"])
    first, second = FakeConnection(), FakeConnection()
    backend.attach("d1", first)
    assert backend.attach("d1", second) is first
    backend.detach("d1", first, forget=True)  # the replaced one ends: no effect
    backend.publish("a", frame(1))
    wait_for(lambda: second.frames)
    assert first.frames == []
    backend.detach("d1", second, forget=True)


def test_a_clean_detach_forgets_and_an_abnormal_one_keeps(make_backend):
    backend = make_backend()
    for digest in ("clean", "dropped"):
        backend.issue(digest)
        backend.subscribe(digest, ["a"])
    clean, dropped = FakeConnection(), FakeConnection()
    backend.attach("clean", clean)
    backend.attach("dropped", dropped)
    backend.detach("clean", clean, forget=True)
    backend.detach("dropped", dropped, forget=False)
    assert not backend.is_known("clean")
    with pytest.raises(ConnectionIdRefused):
        backend.attach("clean", FakeConnection())
    again = FakeConnection()
    backend.attach("dropped", again)  # resumes its subscriptions
    backend.publish("a", frame(1))
    wait_for(lambda: again.frames)
    backend.detach("dropped", again, forget=True)


def test_ids_expire_after_their_timeouts(make_backend):
    backend = make_backend(connect_timeout=0.2, disconnect_grace=0.2)
    backend.issue("never connects")
    backend.issue("never returns")
    connection = FakeConnection()
    backend.attach("never returns", connection)
    backend.detach("never returns", connection, forget=False)
    time.sleep(0.4)
    assert not backend.is_known("never connects")
    assert not backend.is_known("never returns")
    with pytest.raises(ConnectionIdRefused):
        backend.attach("never returns", FakeConnection())
    if make_backend.server is not None:
        assert make_backend.server.client().keys("*") == []


def test_pushing_to_a_channel_without_subscribers_is_fine(make_backend):
    make_backend().publish("nobody", frame(1))


def test_two_backends_share_one_channel_space(make_backend):
    # With Redis, two processes; with memory, the same object twice.
    first = make_backend()
    second = make_backend() if make_backend.server is not None else first
    first.issue("d1")
    first.subscribe("d1", ["a"])
    connection = FakeConnection()
    second.attach("d1", connection)
    first.publish("a", frame(1))
    wait_for(lambda: connection.frames)
    # A request on the first process changes the subscriptions of a socket
    # that the second process holds.
    first.subscribe("d1", ["b"])
    first.publish("b", frame(2))
    wait_for(lambda: len(connection.frames) == 2)
    assert connection.frames == [frame(1), frame(2)]
    # Taking the socket over from the other process closes the old connection.
    taker = FakeConnection()
    first.attach("d1", taker)
    if first is not second:
        wait_for(lambda: connection.closed == [4002])
    second.detach("d1", connection, forget=False)
    first.publish("a", frame(3))
    wait_for(lambda: taker.frames)
    first.detach("d1", taker, forget=True)
