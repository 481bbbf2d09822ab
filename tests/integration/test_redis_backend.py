"""What only the Redis backend has: Redis going away, and its extra."""

from __future__ import annotations

import sys
import threading

import pytest
from flask import Flask

from flask_realtime import ConfigurationError
from flask_realtime import Realtime
from flask_realtime.errors import BackendUnavailable

from ..conftest import create_app
from ..conftest import start_redis_server
from ..redis_server import free_port
from ..support import Browser
from ..support import LiveServer
from ..support import wait_for
from .test_backend_contract import FakeConnection
from .test_backend_contract import frame

pytestmark = pytest.mark.redis


def new_backend(url, **options):
    """A Redis backend with the timings these tests use, unless overridden."""
    from flask_realtime.backends.redis import RedisBackend

    settings = {
        "prefix": "t:",
        "connect_timeout": 60,
        "disconnect_grace": 60,
        "ping_interval": 1,
        **options,
    }
    return RedisBackend(url, **settings)


@pytest.fixture
def backend(redis_server):
    backend = new_backend(redis_server.url)
    backend.first_retry_delay = 0.05
    backend.max_retry_delay = 0.2
    yield backend
    backend.close()


def listeners():
    return [t for t in threading.enumerate() if t.name == "flask-realtime-redis"]


def test_redis_going_away_and_coming_back(backend, redis_server):
    backend.issue("d")
    backend.subscribe("d", ["a"])
    connection = FakeConnection()
    backend.attach("d", connection)
    redis_server.stop()
    with pytest.raises(BackendUnavailable, match="Redis .* is unavailable"):
        backend.publish("a", frame(1))
    with pytest.raises(BackendUnavailable):
        backend.issue("e")
    assert connection.closed == []  # local sockets stay open
    redis_server.start()

    def delivered():
        backend.publish("a", frame(2))
        return wait_for_frames(connection)

    wait_for(delivered, timeout=20)
    assert len(listeners()) == 1
    backend.detach("d", connection, forget=True)
    wait_for(lambda: not listeners())  # no thread outlives the sockets
    clients = redis_server.client().client_list()
    assert len(clients) <= 3, clients  # the pool's few, plus this one


def wait_for_frames(connection, timeout=0.3):
    try:
        wait_for(lambda: connection.frames, timeout=timeout)
    except AssertionError:
        return False
    return True


def test_more_commands_at_once_than_connections_wait_their_turn(redis_server):

    # Two connections for twenty threads: a command that finds both in use
    # waits for one instead of failing with "Too many connections".
    backend = new_backend(redis_server.url + "?max_connections=2")
    start = threading.Barrier(20)
    errors: list[Exception] = []

    def render_pages(thread: int) -> None:
        start.wait()
        for page in range(20):
            digest = f"{thread}-{page}"
            try:
                backend.issue(digest)
                backend.subscribe(digest, ["c"])
                assert backend.is_known(digest)
            except Exception as e:
                errors.append(e)

    threads = [threading.Thread(target=render_pages, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    backend.close()
    assert errors == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("max_connections=many", "Invalid value for 'max_connections'"),
        ("timeout=soon", "Invalid value for 'timeout'"),
        ("max_connections=-3", "must be a positive integer"),
        ("max_connections=1", "at least 2"),
    ],
)
def test_a_bad_pool_in_the_url_is_a_configuration_error(query, message):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="s",
        REALTIME_BACKEND=f"redis://app:hunter2@127.0.0.1:6379/0?{query}",
    )
    with pytest.raises(ConfigurationError, match=message) as info:
        Realtime(app)
    assert "hunter2" not in str(info.value)
    assert "app:***@127.0.0.1" in str(info.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@127.0.0.1:{port}/0", "redis://:***@127.0.0.1"),
        ("redis://127.0.0.1:{port}/0?password=hunter2", "/0?password=***"),
        ("unix:///nonexistent/redis.sock?db=0&password=hunter2", "&password=***"),
    ],
)
def test_an_unreachable_redis_is_named_without_its_password(url, shown):
    backend = new_backend(url.format(port=free_port()))
    with pytest.raises(BackendUnavailable) as info:
        backend.issue("d")
    backend.close()
    assert "hunter2" not in str(info.value)
    assert shown in str(info.value)


def test_a_worker_pushes_without_starting_a_listener(redis_server):
    app = create_app(REALTIME_BACKEND=redis_server.url)
    app.extensions["realtime"].push({"x": 1}, "chat")
    assert not listeners()


@pytest.mark.parametrize("tls", [False, True], ids=["redis", "rediss"])
def test_pushes_reach_a_live_server_on_redis(tls, request):
    # With TLS: a redis-server that speaks only TLS, and a URL that trusts its
    # certificate, for pages, pushes from another process and the listener.
    certificate = request.getfixturevalue("certificate") if tls else None
    redis_server = start_redis_server(certificate)
    app = create_app(REALTIME_BACKEND=redis_server.url)
    worker = create_app(REALTIME_BACKEND=redis_server.url)
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        socket = browser.open("/?channel=chat").connect()
        socket.request("ping")
        worker.extensions["realtime"].push({"from": "worker"}, "chat")
        assert socket.receive() == {"channel": "chat", "payload": {"from": "worker"}}
        assert app.extensions["realtime"].stats()["listener"]["state"] == "connected"
        browser.close_all()
    finally:
        server.stop()
        app.extensions["realtime"]._state(app).backend.close()
        redis_server.stop()


def test_a_page_renders_without_realtime_while_redis_is_down(redis_server):
    app = create_app(REALTIME_BACKEND=redis_server.url)
    redis_server.stop()
    client = app.test_client()
    response = client.get("/bare")  # would get an id: it renders the client
    assert response.status_code == 200
    assert "data-socket" not in response.get_data(as_text=True)


def test_the_cli_pushes_and_refuses_the_memory_backend(redis_server):
    app = create_app(REALTIME_BACKEND=redis_server.url)
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["realtime", "push", "chat", '{"a": 1}', "--channel", "b"]
    )
    assert result.exit_code == 0 and "Pushed to chat, b" in result.output
    for bad in ["{not json", "NaN"]:
        result = runner.invoke(args=["realtime", "push", "chat", bad])
        assert result.exit_code != 0
    result = runner.invoke(args=["realtime", "push", "", "{}"])
    assert result.exit_code != 0 and "channel" in result.output
    memory = create_app().test_cli_runner()
    result = memory.invoke(args=["realtime", "push", "chat", "{}"])
    assert result.exit_code != 0 and "REALTIME_BACKEND" in result.output


def test_a_missing_redis_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.delitem(sys.modules, "flask_realtime.backends.redis", raising=False)
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", REALTIME_BACKEND="redis://localhost:1/0")
    with pytest.raises(
        ConfigurationError, match=r'pip install "flask-realtime\[redis\]"'
    ):
        Realtime(app)


def test_disconnect_reaches_a_socket_held_by_another_process(backend, redis_server):
    other = new_backend(redis_server.url)
    try:
        backend.issue("d", "session")
        backend.subscribe("d", ["user:a"])
        connection = FakeConnection()
        backend.attach("d", connection)
        other.disconnect(sessions=["session"])
        wait_for(lambda: connection.closed == [4003])
        assert not other.is_known("d")
        backend.detach("d", connection, forget=False)
    finally:
        other.close()


def attached(backend, digest="d", channel="a"):
    backend.issue(digest)
    backend.subscribe(digest, [channel])
    connection = FakeConnection()
    backend.attach(digest, connection)
    return connection


def test_the_listener_state_is_visible(backend, redis_server):
    assert backend.listener_state() == {
        "state": "stopped",
        "restarts": 0,
        "last_error": None,
    }
    connection = attached(backend)
    assert backend.listener_state()["state"] == "connected"
    redis_server.client().client_kill_filter(_type="pubsub")
    wait_for(lambda: backend.listener_state()["restarts"] == 1)
    assert "ConnectionError" in backend.listener_state()["last_error"]
    backend.detach("d", connection, forget=True)
    wait_for(lambda: backend.listener_state()["state"] == "stopped")


def test_a_malformed_message_does_not_stop_the_listener(backend, redis_server):
    connection = attached(backend)
    client = redis_server.client()
    # Garbage on this process's control channel and on a channel it serves.
    for channel, data in [
        (backend._control(backend._process), b"{not json"),
        (backend._control(backend._process), b'{"op": "end"}'),
        (backend._channel("a"), b"1:1\nnot a frame"),
        (backend._channel("a"), b"no newline"),
        # Frames that would desynchronise the client's stream: a length
        # longer than what follows, a mask, invalid UTF-8, not text.
        (backend._channel("a"), b"1:1\n\x81\x7e\x01\x2c" + b"x" * 7),
        (backend._channel("a"), b"1:1\n\x81\x85hello"),
        (backend._channel("a"), b"1:1\n\x81\x02\xff\xfe"),
        (backend._channel("a"), b"1:1\n\x88\x02\x03\xe8"),
    ]:
        client.publish(channel, data)
    backend.publish("a", frame(1))
    wait_for(lambda: connection.frames == [("a", 1)])
    assert client.pubsub_numsub(backend._channel("a")) == [
        (backend._channel("a").encode(), 1)
    ]
    assert len(listeners()) == 1
    backend.detach("d", connection, forget=True)


def test_an_error_in_the_listener_restarts_it(backend, monkeypatch):
    connection = attached(backend)
    renew = backend._renew_leases
    failures = []

    def fails_once():
        if not failures:
            failures.append(True)
            raise RuntimeError("a bug")
        renew()

    monkeypatch.setattr(backend, "_renew_leases", fails_once)
    backend.publish("a", frame(1))
    wait_for(lambda: failures and connection.frames == [("a", 1)])
    assert len(listeners()) == 1
    backend.detach("d", connection, forget=True)


def test_a_half_open_pubsub_connection_is_noticed(redis_server):
    from flask_realtime.frames import text_frame

    from ..freezing_proxy import FreezingProxy

    proxy = FreezingProxy(redis_server.port)
    backend = new_backend(proxy.url())
    backend.health_check_interval = 0.2
    backend.first_retry_delay = 0.05
    try:
        connection = attached(backend)
        proxy.freeze_pubsub()  # the listener's connection goes silent
        pusher = redis_server.client()

        def delivered():
            pusher.eval(
                "return redis.call('PUBLISH', KEYS[1], ARGV[1])",
                1,
                backend._channel("a"),
                b"9:9\n" + text_frame(b'{"channel":"a","payload":1,"position":"9:9"}'),
            )
            return wait_for_frames(connection)

        wait_for(delivered, timeout=20)
        backend.detach("d", connection, forget=True)
    finally:
        backend.close()
        proxy.stop()


def test_sockets_whose_records_redis_lost_are_closed_with_1012(backend, redis_server):
    first = attached(backend, "first")
    second = attached(backend, "second")
    redis_server.client().flushall()
    # A request that subscribes the socket notices at once...
    backend.subscribe("first", ["b"])
    assert first.closed == [1012]
    # ...and the lease renewal notices for every other one.
    wait_for(lambda: second.closed == [1012])
    for digest, connection in (("first", first), ("second", second)):
        backend.detach(digest, connection, forget=False)


def test_pushes_during_a_pubsub_reconnect_arrive_in_order(redis_server):
    # CLIENT KILL TYPE pubsub in the middle of 300 pushes: the listener
    # resubscribes and catches up from the history, so every push arrives
    # once, in order. (The history holds them all: pushes here come faster
    # than the listener reconnects.)
    backend = new_backend(redis_server.url, history_size=300)
    backend.first_retry_delay = 0.05
    try:
        connection = attached(backend)
        killer = redis_server.client()
        for n in range(300):
            backend.publish("a", frame(n))
            if n in (100, 200):
                killer.client_kill_filter(_type="pubsub")
        wait_for(lambda: len(connection.frames) >= 300, timeout=20)
        assert connection.frames == [("a", n) for n in range(300)]
        backend.detach("d", connection, forget=True)
    finally:
        backend.close()


def test_a_catch_up_that_history_cannot_cover_sends_a_gap(redis_server):
    backend = new_backend(redis_server.url, history_size=5)
    backend.first_retry_delay = 0.5  # time for pushes while it is away
    try:
        connection = attached(backend)
        backend.publish("a", frame(0))
        wait_for(lambda: connection.frames == [("a", 0)])
        redis_server.client().client_kill_filter(_type="pubsub")
        for n in range(1, 21):  # more than the history holds
            backend.publish("a", frame(n))
        wait_for(lambda: ("a", "gap") in connection.frames, timeout=20)
        backend.publish("a", frame(21))
        wait_for(lambda: connection.frames[-1] == ("a", 21))
        got = connection.frames
        assert got[:2] == [("a", 0), ("a", "gap")]
        assert [p for _, p in got[2:]] == sorted(p for _, p in got[2:])
        backend.detach("d", connection, forget=True)
    finally:
        backend.close()


def test_an_unreadable_history_is_a_gap_not_a_broken_socket(backend, redis_server):
    redis_server.client().rpush(backend._history_key("a"), b"garbage-without-spaces")
    backend.issue("d")
    backend.subscribe("d", ["a"])
    backend.publish("a", frame(1))
    connection = FakeConnection()
    backend.attach("d", connection)  # its replay reads the history
    backend.publish("a", frame(2))
    wait_for(lambda: connection.frames[-1:] == [("a", 2)])
    assert connection.frames == [("a", "gap"), ("a", 2)]
    backend.detach("d", connection, forget=True)
    wait_for(lambda: not listeners())  # nothing of the socket stayed behind


def test_a_catch_up_over_an_unreadable_history_sends_a_gap(backend, redis_server):
    backend.first_retry_delay = 0.5  # time to push while it is away
    connection = attached(backend)
    backend.publish("a", frame(1))
    wait_for(lambda: connection.frames == [("a", 1)])
    client = redis_server.client()
    client.rpush(backend._history_key("a"), b"garbage-without-spaces")
    client.client_kill_filter(_type="pubsub")
    backend.publish("a", frame(2))  # while the listener is away
    wait_for(lambda: ("a", "gap") in connection.frames, timeout=20)
    backend.publish("a", frame(3))
    wait_for(lambda: connection.frames[-1] == ("a", 3))
    assert connection.frames in (
        [("a", 1), ("a", "gap"), ("a", 3)],
        [("a", 1), ("a", 2), ("a", "gap"), ("a", 3)],
    )
    backend.detach("d", connection, forget=True)


def test_a_renewal_racing_a_detach_does_not_stretch_the_grace(redis_server):
    # The listener renews the leases of the sockets it saw a moment ago; one
    # of them detached meanwhile must keep its grace period, not get a lease.
    backend = new_backend(redis_server.url, disconnect_grace=2, ping_interval=20)
    try:
        connection = attached(backend)
        owner = backend._local["d"].owner
        backend.detach("d", connection, forget=False)
        renewed = backend._renew(
            keys=[backend._key("d")],
            args=["t:", "d", int(backend._lease * 1000), owner],
        )
        assert renewed == 2
        assert 0 < redis_server.client().pttl(backend._key("d")) <= 2000
    finally:
        backend.close()


def test_rediss_with_an_untrusted_certificate_is_unavailable(certificate):
    redis_server = start_redis_server(certificate)
    try:
        plain = redis_server.url.partition("?")[0]  # the system's CAs only
        backend = new_backend(plain)
        with pytest.raises(BackendUnavailable, match="rediss://127.0.0.1"):
            backend.issue("d")
        backend.close()
    finally:
        redis_server.stop()


@pytest.mark.parametrize("pushed_again", [False, True], ids=["behind", "reused"])
def test_a_history_that_went_back_on_delivered_pushes_is_a_gap(
    backend, redis_server, pushed_again
):
    # As after a failover to a replica that lacked the master's last pushes,
    # whose frames were delivered: the channel's sequence numbers are behind
    # ("behind"), or other pushes got them ("reused"), which a replay from
    # the old positions would silently skip.
    other = new_backend(redis_server.url)
    try:
        connection = attached(backend)
        for n in range(1, 6):
            other.publish("a", frame(n))
        wait_for(lambda: len(connection.frames) == 5)
        old_epoch = connection.positions()["a"].partition(":")[0]
        client = redis_server.client()
        with backend._lock:  # the listener cannot resubscribe meanwhile
            assert client.client_kill_filter(_type="pubsub") == 1
            client.hset(backend._position_key("a"), "seq", 3)
            client.ltrim(backend._history_key("a"), 0, 2)
            if pushed_again:
                other.publish("a", frame(14))
                other.publish("a", frame(15))
        wait_for(lambda: len(connection.frames) == 6)
        other.publish("a", frame(6))
        wait_for(lambda: len(connection.frames) == 7)
        assert connection.frames == [("a", n) for n in range(1, 6)] + [
            ("a", "gap"),
            ("a", 6),
        ]
        # A new epoch: a page that reconnects from an old position gets a
        # gap too, not a replay that skips what was pushed again.
        assert connection.positions()["a"].partition(":")[0] != old_epoch
        returning = FakeConnection("returning")
        other.issue("r")
        other.subscribe("r", ["a"])
        other.attach("r", returning, {"a": f"{old_epoch}:4"})
        assert returning.frames == [("a", "gap")]
        other.detach("r", returning, forget=True)
        backend.detach("d", connection, forget=True)
    finally:
        other.close()


def test_a_listener_that_fails_after_subscribing_backs_off(backend, redis_server):
    # A key Redis cannot renew (not ours: WRONGTYPE) fails every renewal,
    # which follows the subscription: the listener waits longer before each
    # attempt rather than retrying at once, and is back once Redis answers.
    backend.first_retry_delay = 0.01
    backend.max_retry_delay = 0.2
    connection = attached(backend)
    client = redis_server.client()
    client.delete(backend._key("d"))
    client.set(backend._key("d"), "not a hash")
    wait_for(lambda: backend.listener_state()["restarts"] >= 4)
    assert backend._retry_delay > 4 * backend.first_retry_delay
    client.delete(backend._key("d"))  # now just gone: the socket is closed
    wait_for(lambda: connection.closed == [1012])
    wait_for(lambda: backend._retry_delay == backend.first_retry_delay)
    backend.detach("d", connection, forget=True)
