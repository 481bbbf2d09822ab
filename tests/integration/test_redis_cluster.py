"""Redis Cluster: a session's cluster of three masters that the tests start
(``redis_cluster``), sharded pub/sub, and channels on every shard. The
backend contract and the presence suite also run on it."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from flask_realtime import ConfigurationError
from flask_realtime import Realtime
from flask_realtime.errors import BackendUnavailable

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer
from ..support import wait_for
from .test_backend_contract import FakeConnection
from .test_backend_contract import frame
from .test_redis_backend import new_backend as redis_backend

pytestmark = pytest.mark.redis


@pytest.fixture
def cluster(redis_cluster):
    redis_cluster.flush()
    return redis_cluster


def new_backend(url, **options):
    backend = redis_backend(url, **options)
    backend.first_retry_delay = 0.05
    return backend


def channels_on_every_node(backend, client, count=3):
    """Channel names whose slots are on ``count`` different nodes, one each."""
    found: dict[str, str] = {}
    n = 0
    while len(found) < count:
        name = f"room-{n}"
        node = client.get_node_from_key(backend._channel(name)).name
        found.setdefault(node, name)
        n += 1
    return list(found.values())


def attached_on_every_node(backend, client):
    """A socket on a channel of each master; returns (channels, its
    connection)."""
    channels = channels_on_every_node(backend, client)
    backend.issue("d")
    backend.subscribe("d", channels)
    connection = FakeConnection()
    backend.attach("d", connection)
    return channels, connection


def test_a_socket_on_channels_of_every_shard_gets_their_pushes(cluster):
    backend, pusher = new_backend(cluster.url), new_backend(cluster.url)
    client = cluster.client()
    try:
        channels, connection = attached_on_every_node(backend, client)
        for n in range(30):
            pusher.publish(channels[n % 3], frame(n, channels[n % 3]))
        wait_for(lambda: len(connection.frames) == 30)
        for i, channel in enumerate(channels):
            got = [p for c, p in connection.frames if c == channel]
            assert got == list(range(i, 30, 3))
        # Each push travels within its shard: every node holds the sharded
        # subscriptions of its own slots only.
        for node in client.get_primaries():
            held = {
                c.decode()
                for c in client.get_redis_connection(node).pubsub_shardchannels()
            }
            mine = {
                backend._channel(c)
                for c in channels
                if client.get_node_from_key(backend._channel(c)).name == node.name
            }
            assert held - {backend._control(backend._process)} == mine
        backend.detach("d", connection, forget=True)
    finally:
        backend.close()
        pusher.close()


def test_pushes_during_a_pubsub_reconnect_arrive_in_order(cluster):
    # The pub/sub connections of every node are killed twice in the middle
    # of 300 pushes to channels on every shard: the listener starts again
    # and catches each channel up from its history.
    backend = new_backend(cluster.url, history_size=300)
    client = cluster.client()
    try:
        channels, connection = attached_on_every_node(backend, client)
        for n in range(300):
            backend.publish(channels[n % 3], frame(n, channels[n % 3]))
            if n in (100, 200):
                for node in client.get_primaries():
                    client.get_redis_connection(node).client_kill_filter(_type="pubsub")
        wait_for(lambda: len(connection.frames) >= 300, timeout=30)
        for i, channel in enumerate(channels):
            got = [p for c, p in connection.frames if c == channel]
            assert got == list(range(i, 300, 3))
        assert backend.listener_state()["restarts"] >= 1
        backend.detach("d", connection, forget=True)
    finally:
        backend.close()


def test_pages_and_pushes_from_another_process_on_a_cluster(cluster):
    app = create_app(REALTIME_BACKEND=cluster.url)
    worker = create_app(REALTIME_BACKEND=cluster.url)
    server = LiveServer(app)
    try:
        browser = Browser(server.url)
        socket = browser.open("/?channel=chat&channel=news").connect()
        socket.request("ping")
        realtime = worker.extensions["realtime"]
        realtime.push({"from": "worker"}, "chat", "news")
        got = [socket.receive(), socket.receive()]
        assert sorted(m["channel"] for m in got) == ["chat", "news"]
        stats = app.extensions["realtime"].stats()
        assert stats["listener"]["state"] == "connected"
        browser.close_all()
    finally:
        server.stop()
        app.extensions["realtime"]._state(app).backend.close()
        worker.extensions["realtime"]._state(worker).backend.close()


@pytest.mark.parametrize(
    ("url", "prefix", "message"),
    [
        ("redis+cluster://127.0.0.1:7000/3", "realtime:", "one database"),
        (
            "redis+cluster://127.0.0.1:7000?wait_for_replicas=1",
            "realtime:",
            "not supported on a cluster",
        ),
        ("redis+cluster://127.0.0.1:port", "realtime:", "malformed address"),
        ("redis+cluster://127.0.0.1:7000", "app{1}:", "brace"),
        ("redis+cluster://:hunter2@127.0.0.1:7000?max_connections=1", "r:", "2"),
        ("redis+cluster://:hunter2@[::1:7000", "realtime:", "IPv6"),
        # TLS to sentinels is not supported: an unknown scheme.
        ("rediss+sentinel://:hunter2@h1/mymaster", "realtime:", "unknown backend"),
    ],
)
def test_a_bad_cluster_configuration_says_what_is_wrong(url, prefix, message):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="s", REALTIME_BACKEND=url, REALTIME_REDIS_PREFIX=prefix
    )
    with pytest.raises(ConfigurationError, match=message) as info:
        Realtime(app)
    assert "hunter2" not in str(info.value)


def test_a_master_left_without_channels_does_not_stop_the_listener(cluster):
    # The last channel of one master goes: its connection, which would keep
    # an unread answer to a ping, goes with it, and nothing restarts.
    backend = new_backend(cluster.url)
    backend.health_check_interval = 0.2
    client = cluster.client()
    try:
        channels, connection = attached_on_every_node(backend, client)
        for _ in range(5):
            backend.unsubscribe("d", channels[1:])
            backend.subscribe("d", channels[1:])  # at once: a late confirmation
        backend.unsubscribe("d", channels[1:])
        for n in range(3):
            time.sleep(0.3)  # pings go out, and must be answered
            backend.publish(channels[0], frame(n, channels[0]))
        wait_for(lambda: len(connection.frames) == 3)
        assert backend.listener_state()["restarts"] == 0
        backend.detach("d", connection, forget=True)
    finally:
        backend.close()


def presence_view(connection, channel):
    """The members a page lists, as the browser client keeps them: a state
    replaces the list, a change takes leaves out by ref and adds joins."""
    members: dict[str, list] = {}
    for message in connection.messages:
        if message.get("channel") != channel:
            continue
        if "presence_state" in message:
            members = {k: list(v) for k, v in message["presence_state"].items()}
        elif "presence" in message:
            change = message["presence"]
            for key, left in change["leaves"].items():
                gone = {entry["ref"] for entry in left}
                kept = [e for e in members.get(key, []) if e["ref"] not in gone]
                members[key] = kept
            for key, joined in change["joins"].items():
                members.setdefault(key, []).extend(joined)
    return {key: sorted(e["ref"] for e in v) for key, v in members.items() if v}


def test_presence_changes_made_at_once_end_in_the_same_list(cluster):
    # A page that tracks and untracks at the same moment, on two threads: the
    # changes are published after their scripts and may overtake each other;
    # the watching page's list still ends as Redis holds it.
    import json
    import threading

    backend = new_backend(cluster.url, ping_interval=0.3)
    try:
        backend.issue("watcher")
        backend.subscribe("watcher", ["room"])
        watching = FakeConnection("id-watcher")
        backend.attach("watcher", watching)
        backend.issue("d")
        backend.subscribe("d", ["room"])
        for n in range(20):
            start = threading.Barrier(2)

            def track(n=n, start=start):
                start.wait()
                backend.track("d", "room", json.dumps("ann"), json.dumps(n))

            def untrack(start=start):
                start.wait()
                backend.untrack("d", "room")

            threads = [threading.Thread(target=track), threading.Thread(target=untrack)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)

        def agrees():
            held: dict[str, list] = {}
            for member in backend.presence("room"):
                ref = json.loads(member.entry)["ref"]
                held.setdefault(json.loads(member.key), []).append(ref)
            held = {key: sorted(refs) for key, refs in held.items()}
            return presence_view(watching, "room") == held

        wait_for(agrees, timeout=10)
        backend.detach("watcher", watching, forget=True)
    finally:
        backend.close()


def test_a_dead_master_costs_only_its_own_channels(tmp_path):
    # One master of three dies (the others go on serving their slots): pushes
    # to the others' channels go on arriving live; once it is back, its
    # channels are subscribed to again.
    from ..redis_server import ClusterDeployment

    deployment = ClusterDeployment(str(tmp_path), full_coverage=False)
    backend = new_backend(deployment.url)
    pusher = new_backend(deployment.url)
    client = deployment.client()
    try:
        channels, connection = attached_on_every_node(backend, client)
        state = client.get_node_from_key(backend._key("d")).port
        victim = next(
            c
            for c in channels
            if client.get_node_from_key(backend._channel(c)).port != state
        )
        port = client.get_node_from_key(backend._channel(victim)).port
        deployment.kill(port)
        others = [c for c in channels if c != victim]
        wait_for(lambda: backend.listener_state()["restarts"] >= 1)  # noticed
        for n, channel in enumerate(others):
            pusher.publish(channel, frame(n, channel))
        wait_for(lambda: len(connection.frames) == len(others))
        assert sorted(c for c, _ in connection.frames) == sorted(others)
        deployment.restart(port)

        def delivered():
            try:
                pusher.publish(victim, frame(9, victim))
            except BackendUnavailable:
                return False
            return (victim, 9) in connection.frames

        wait_for(delivered, timeout=30)
        backend.detach("d", connection, forget=True)
    finally:
        backend.close()
        pusher.close()
        deployment.stop()
