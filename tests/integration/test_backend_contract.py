"""One contract for every backend: memory and Redis behave the same."""

from __future__ import annotations

import json
import threading
import time

import pytest

from flask_realtime.errors import ConnectionIdRefused
from flask_realtime.frames import unframe

from ..conftest import start_redis_server
from ..support import wait_for


class FakeConnection:
    def __init__(self, connection_id: str = "fake-connection-id") -> None:
        self.connection_id = connection_id
        self.messages: list[dict] = []
        self.closed: list[int] = []

    def send_frame(self, frame: bytes) -> None:
        self.messages.append(json.loads(unframe(frame)[1]))

    def close(self, code: int, reason: str = "") -> None:
        self.closed.append(code)

    @property
    def frames(self) -> list:
        """What was received, as (channel, payload) or (channel, "gap")."""
        return [
            (m["channel"], "gap" if m.get("gap") else m["payload"])
            for m in self.messages
        ]

    def positions(self) -> dict[str, str]:
        return {m["channel"]: m["position"] for m in self.messages}


def backend_maker(kind: str, ping_interval: float = 1.0, request=None):
    """Yields ``make(**settings)``, which makes backends of ``kind``:
    memory, Redis on one redis-server of its own, or the session's Redis
    Cluster (``redis_cluster``, from ``request``), emptied first; each
    backend a process of its own as far as Redis knows. Closes them all
    afterwards."""
    made = []
    if kind == "cluster":
        server = request.getfixturevalue("redis_cluster")
        server.flush()
    else:
        server = start_redis_server() if kind == "redis" else None

    def make(connect_timeout=60.0, disconnect_grace=120.0, **options):
        if server is None:
            from flask_realtime.backends.memory import MemoryBackend

            backend = MemoryBackend(
                connect_timeout=connect_timeout,
                disconnect_grace=disconnect_grace,
                **options,
            )
        else:
            from flask_realtime.backends.redis import RedisBackend

            backend = RedisBackend(
                server.url,
                prefix="test:",
                connect_timeout=connect_timeout,
                disconnect_grace=disconnect_grace,
                ping_interval=ping_interval,
                **options,
            )
        made.append(backend)
        return backend

    make.server = server
    yield make
    for backend in made:
        if server is not None:  # the sockets a test left keep its listener
            for digest, local in list(backend._local.items()):
                backend.detach(digest, local.connection, forget=True)
        backend.close()
    if kind == "redis":
        server.stop()


@pytest.fixture(params=["memory", "redis", "cluster"])
def make_backend(request):
    yield from backend_maker(request.param, request=request)


def frame(n, channel="a"):
    """The head of a push envelope, as pushing.encode_heads makes it."""
    return f'{{"channel":"{channel}","payload":{n}'.encode()


def dropped_after(backend, n, digest="d"):
    """A socket of ``digest`` on channel "a" gets push ``n``, then its network
    drops; returns the positions its client has."""
    backend.issue(digest)
    backend.subscribe(digest, ["a"])
    first = FakeConnection()
    backend.attach(digest, first)
    backend.publish("a", frame(n))
    wait_for(lambda: first.frames)
    backend.detach(digest, first, forget=False)
    return first.positions()


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
    backend.publish("c", frame(2, "c"))
    backend.publish("b", frame(3, "b"))
    wait_for(lambda: len(connection.frames) == 2)
    assert connection.frames == [("a", 1), ("b", 3)]
    backend.detach("d1", connection, forget=True)


def test_subscribe_and_unsubscribe_while_attached(make_backend):
    backend = make_backend()
    backend.issue("d1")
    connection = FakeConnection()
    backend.attach("d1", connection)
    backend.subscribe("d1", ["a", "b"])
    backend.unsubscribe("d1", ["a"])
    backend.publish("a", frame(1))
    backend.publish("b", frame(2, "b"))
    wait_for(lambda: connection.frames)
    assert connection.frames == [("b", 2)]
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
        backend.publish("o", frame(n, "o"))
    for connection in connections:
        wait_for(lambda c=connection: len(c.frames) == 200)
        assert connection.frames == [("o", n) for n in range(200)]
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
    first.publish("b", frame(2, "b"))
    wait_for(lambda: len(connection.frames) == 2)
    assert connection.frames == [("a", 1), ("b", 2)]
    # Taking the socket over from the other process closes the old connection.
    taker = FakeConnection()
    first.attach("d1", taker)
    if first is not second:
        wait_for(lambda: connection.closed == [4002])
    second.detach("d1", connection, forget=False)
    first.publish("a", frame(3))
    wait_for(lambda: taker.frames)
    first.detach("d1", taker, forget=True)


def test_pushes_between_render_and_connect_are_delivered(make_backend):
    backend = make_backend()
    backend.publish("a", frame(0))  # before the subscription: not for it
    backend.issue("d")
    backend.subscribe("d", ["a", "b"])
    backend.publish("a", frame(1))
    backend.publish("b", frame(2, "b"))
    connection = FakeConnection()
    backend.attach("d", connection)
    backend.publish("a", frame(3))
    wait_for(lambda: len(connection.frames) == 3)
    assert connection.frames == [("a", 1), ("b", 2), ("a", 3)]
    backend.detach("d", connection, forget=True)


def test_a_reconnect_with_positions_gets_what_it_missed_in_order(make_backend):
    backend = make_backend()
    backend.issue("d")
    backend.subscribe("d", ["a", "b"])
    first = FakeConnection()
    backend.attach("d", first)
    backend.publish("a", frame(1))
    wait_for(lambda: len(first.frames) == 1)
    positions = first.positions()
    backend.detach("d", first, forget=False)  # the network drops
    for n in range(2, 5):
        backend.publish("a", frame(n))
    backend.publish("b", frame(10, "b"))
    again = FakeConnection()
    backend.attach("d", again, positions)
    backend.publish("a", frame(5))
    wait_for(lambda: len(again.frames) == 5)
    assert again.frames == [("a", 2), ("a", 3), ("a", 4), ("b", 10), ("a", 5)]
    backend.detach("d", again, forget=True)


def test_a_reconnect_without_positions_gets_live_pushes_only(make_backend):
    backend = make_backend()
    backend.issue("d")
    backend.subscribe("d", ["a"])
    first = FakeConnection()
    backend.attach("d", first)
    backend.detach("d", first, forget=False)
    backend.publish("a", frame(1))
    again = FakeConnection()
    backend.attach("d", again)
    backend.publish("a", frame(2))
    wait_for(lambda: again.frames)
    assert again.frames == [("a", 2)]
    backend.detach("d", again, forget=True)


def test_history_that_no_longer_reaches_back_is_reported_as_a_gap(make_backend):
    backend = make_backend(history_size=2)
    positions = dropped_after(backend, 1)
    for n in range(2, 6):  # four missed, two kept
        backend.publish("a", frame(n))
    again = FakeConnection()
    backend.attach("d", again, positions)
    backend.publish("a", frame(6))
    wait_for(lambda: len(again.frames) == 2)
    assert again.frames == [("a", "gap"), ("a", 6)]
    gap = again.messages[0]
    assert gap["position"].endswith(":5")  # the client moves on from there
    backend.detach("d", again, forget=True)


@pytest.mark.parametrize("position", ["other-epoch:1", "x:999999", "garbage"])
def test_a_foreign_position_is_a_gap_never_a_partial_replay(make_backend, position):
    backend = make_backend()
    dropped_after(backend, 1)
    again = FakeConnection()
    backend.attach("d", again, {"a": position})
    wait_for(lambda: again.frames)
    assert again.frames == [("a", "gap")]
    backend.detach("d", again, forget=True)


def test_history_expires(make_backend):
    backend = make_backend(history_ttl=0.2)
    positions = dropped_after(backend, 1)
    backend.publish("a", frame(2))
    time.sleep(0.4)
    again = FakeConnection()
    backend.attach("d", again, positions)
    wait_for(lambda: again.frames)
    assert again.frames == [("a", "gap")]
    backend.detach("d", again, forget=True)


def test_pushes_racing_a_reconnect_arrive_once_and_in_order(make_backend):
    backend = make_backend(history_size=10_000)
    positions = dropped_after(backend, 0)
    stop = threading.Event()
    pushed = [0]

    def pusher():
        while not stop.is_set() and pushed[0] < 3000:
            pushed[0] += 1
            backend.publish("a", frame(pushed[0]))

    thread = threading.Thread(target=pusher)
    thread.start()
    time.sleep(0.01)
    again = FakeConnection()
    backend.attach("d", again, positions)
    time.sleep(0.05)
    stop.set()
    thread.join()
    wait_for(lambda: len(again.frames) == pushed[0])
    assert again.frames == [("a", n) for n in range(1, pushed[0] + 1)]
    backend.detach("d", again, forget=True)


def test_a_socket_has_at_most_max_channels(make_backend):
    from flask_realtime.errors import TooManyChannels

    backend = make_backend(max_channels=3)
    backend.issue("d")
    backend.subscribe("d", ["a", "b"])
    with pytest.raises(TooManyChannels, match="at most 3 channels"):
        backend.subscribe("d", ["c", "d"])
    backend.subscribe("d", ["a", "b", "c"])  # two it has, one new: allowed
    with pytest.raises(TooManyChannels):
        backend.subscribe("d", ["e"])
    connection = FakeConnection()
    backend.attach("d", connection)
    for channel in "abcde":
        backend.publish(channel, frame(1, channel))
    wait_for(lambda: len(connection.frames) == 3)
    backend.publish("a", frame(2))
    wait_for(lambda: len(connection.frames) == 4)
    # Each channel's order (across channels, a cluster's shards need not
    # keep it).
    assert sorted(connection.frames) == [("a", 1), ("a", 2), ("b", 1), ("c", 1)]
    backend.detach("d", connection, forget=True)


def sockets_in_every_state(backend, session="", channel="user:a"):
    """A connected socket, a pending one and one waiting to reconnect, each
    on ``channel`` and issued in ``session``."""
    made = {}
    for state in ("live", "pending", "grace"):
        digest = f"{state}-{session}-{channel}"
        backend.issue(digest, session)
        backend.subscribe(digest, [channel])
        made[state] = (digest, FakeConnection())
    backend.attach(*made["live"])
    backend.attach(*made["grace"])
    backend.detach(*made["grace"], forget=False)
    return made


def assert_ended(backend, made):
    digest, live = made["live"]
    wait_for(lambda: live.closed == [4003])
    backend.detach(digest, live, forget=False)  # as its endpoint then does
    for digest, _ in made.values():
        assert not backend.is_known(digest)
        with pytest.raises(ConnectionIdRefused):
            backend.attach(digest, FakeConnection())


def test_disconnect_ends_every_socket_on_a_channel(make_backend):
    backend = make_backend()
    ended = sockets_in_every_state(backend, channel="user:a")
    kept = sockets_in_every_state(backend, channel="user:b")
    backend.disconnect(channels=["user:a"])
    assert_ended(backend, ended)
    digest, live = kept["live"]
    backend.publish("user:b", frame(1, "user:b"))
    wait_for(lambda: live.frames == [("user:b", 1)])
    assert live.closed == []
    assert backend.is_known(kept["pending"][0]) and backend.is_known(kept["grace"][0])
    # The channel itself lives on: a new subscriber gets its pushes.
    backend.issue("later")
    backend.subscribe("later", ["user:a"])
    later = FakeConnection()
    backend.attach("later", later)
    backend.publish("user:a", frame(2, "user:a"))
    wait_for(lambda: later.frames == [("user:a", 2)])
    for digest, connection in (kept["live"], ("later", later)):
        backend.detach(digest, connection, forget=True)


def test_disconnect_ends_every_socket_of_a_session(make_backend):
    backend = make_backend()
    ended = sockets_in_every_state(backend, session="s1", channel="x")
    kept = sockets_in_every_state(backend, session="s2", channel="x")
    backend.disconnect(sessions=["s1"])
    assert_ended(backend, ended)
    digest, live = kept["live"]
    backend.publish("x", frame(1, "x"))
    wait_for(lambda: live.frames == [("x", 1)])
    backend.detach(digest, live, forget=True)


def test_disconnect_of_nothing_known_is_fine(make_backend):
    make_backend().disconnect(channels=["nobody"], sessions=["no session"])


def test_positions_cannot_reach_back_past_the_subscription(make_backend):
    # A client that names an early position of its channel's epoch must not
    # read what was pushed before it was subscribed (a room it was just
    # invited to, say).
    backend = make_backend()
    for n in range(1, 4):
        backend.publish("a", frame(n))
    backend.issue("d")
    backend.subscribe("d", ["a"])
    first = FakeConnection()
    backend.attach("d", first)
    backend.publish("a", frame(4))
    wait_for(lambda: len(first.frames) == 1)
    epoch = first.positions()["a"].rpartition(":")[0]
    backend.detach("d", first, forget=False)
    again = FakeConnection()
    backend.attach("d", again, {"a": f"{epoch}:0"})
    backend.publish("a", frame(5))
    wait_for(lambda: len(again.frames) == 2)
    assert again.frames == [("a", 4), ("a", 5)]
    backend.detach("d", again, forget=True)


def test_a_push_with_exclude_skips_those_sockets_live_and_in_replays(make_backend):
    # Two backends: on Redis, the pushing process is not the one holding the
    # sockets, and exclusions must travel with the push.
    backend = make_backend()
    pusher = make_backend() if make_backend.server is not None else backend
    sender = FakeConnection("sender-page-id-1")
    other = FakeConnection("other-page-id-2")
    for digest, connection in (("s", sender), ("o", other)):
        backend.issue(digest)
        backend.subscribe(digest, ["a"])
        backend.attach(digest, connection)
    pusher.publish("a", frame(1), frozenset({"sender-page-id-1"}))
    pusher.publish("a", frame(2))
    wait_for(lambda: len(other.frames) == 2 and sender.frames)
    assert other.frames == [("a", 1), ("a", 2)]
    assert sender.frames == [("a", 2)]
    # Both drop before push 3, which excludes the sender, and reconnect: the
    # sender's replay holds push 4 but not push 3; the other's holds both.
    positions = sender.positions()
    backend.detach("s", sender, forget=False)
    backend.detach("o", other, forget=False)
    pusher.publish("a", frame(3), frozenset({"sender-page-id-1", "some-other-id"}))
    pusher.publish("a", frame(4))
    sender_again = FakeConnection("sender-page-id-1")
    other_again = FakeConnection("other-page-id-2")
    backend.attach("s", sender_again, positions)
    backend.attach("o", other_again, positions)
    pusher.publish("a", frame(5))
    wait_for(lambda: len(sender_again.frames) == 2 and len(other_again.frames) == 3)
    assert sender_again.frames == [("a", 4), ("a", 5)]
    assert other_again.frames == [("a", 3), ("a", 4), ("a", 5)]
    backend.detach("s", sender_again, forget=True)
    backend.detach("o", other_again, forget=True)
