"""Presence in every backend: memory and Redis behave the same."""

from __future__ import annotations

import json

import pytest

from flask_realtime.instance_listeners import InstanceListener
from flask_realtime.presence import listing

from ..support import wait_for
from .test_backend_contract import backend_maker
from .test_backend_contract import FakeConnection
from .test_backend_contract import frame


@pytest.fixture(params=["memory", "redis", "cluster"])
def make_backend(request):
    # Pings (and so presence's pruning on Redis) every 0.3 s.
    yield from backend_maker(request.param, ping_interval=0.3, request=request)


def track(backend, digest, channel, key, meta=None):
    backend.track(digest, channel, json.dumps(key), json.dumps(meta))


def watcher(backend, digest="watcher", channel="room"):
    """A connected socket on ``channel`` that records what it gets."""
    backend.issue(digest)
    backend.subscribe(digest, [channel])
    connection = FakeConnection(f"id-{digest}")
    backend.attach(digest, connection)
    return connection


def presence_frames(connection):
    """The presence frames received, as (kind, channel, body), but for a
    state that says nothing new: on a cluster each listener sends the state
    of channels that changed once per lease renewal, which heals changes
    that arrived out of order (see test_redis_cluster)."""
    found, lists = [], {}
    for m in connection.messages:
        if "presence_state" in m:
            state = _refs(m["presence_state"])
            if lists.get(m["channel"]) == state:
                continue
            lists[m["channel"]] = state
            found.append(("state", m["channel"], m["presence_state"]))
        elif "presence" in m:
            members = lists.setdefault(m["channel"], {})
            for key, left in m["presence"]["leaves"].items():
                members[key] = members.get(key, set()) - set(refs(left))
            for key, joined in m["presence"]["joins"].items():
                members[key] = members.get(key, set()) | set(refs(joined))
            lists[m["channel"]] = {k: v for k, v in members.items() if v}
            found.append(("diff", m["channel"], m["presence"]))
    return found


def _refs(state):
    return {key: set(refs(entries)) for key, entries in state.items() if entries}


def pushes(connection):
    return [m["payload"] for m in connection.messages if "payload" in m]


def refs(entries):
    return [e["ref"] for e in entries]


def metas(entries):
    return [e["meta"] for e in entries]


def test_a_join_reaches_subscribers_and_attaching_sockets_get_the_state(
    make_backend,
):
    backend = make_backend()
    other = watcher(backend)
    backend.issue("d1")
    backend.subscribe("d1", ["room", "quiet"])
    track(backend, "d1", "room", "ann", {"name": "Ann"})
    wait_for(lambda: presence_frames(other))
    [(kind, channel, diff)] = presence_frames(other)
    assert (kind, channel, diff["leaves"]) == ("diff", "room", {})
    assert metas(diff["joins"]["ann"]) == [{"name": "Ann"}]
    ref = diff["joins"]["ann"][0]["ref"]
    # The tracked page connects: it gets the state of "room", which has
    # members, and nothing for "quiet", which has none.
    mine = FakeConnection("id-d1")
    backend.attach("d1", mine)
    wait_for(lambda: presence_frames(mine))
    assert presence_frames(mine) == [
        ("state", "room", {"ann": [{"ref": ref, "meta": {"name": "Ann"}}]})
    ]
    assert listing(backend.presence("room")) == {"ann": [{"name": "Ann"}]}
    assert backend.presence("quiet") == []


def test_a_members_sockets_are_grouped_under_its_key(make_backend):
    backend = make_backend()
    other = watcher(backend)
    for digest, tab in (("t1", 1), ("t2", 2)):
        backend.issue(digest)
        backend.subscribe(digest, ["room"])
        track(backend, digest, "room", "ann", {"tab": tab})
    track(backend, "watcher", "room", "bob")
    wait_for(lambda: len(presence_frames(other)) == 3)
    found = listing(backend.presence("room"))
    assert sorted(found["ann"], key=lambda m: m["tab"]) == [{"tab": 1}, {"tab": 2}]
    assert found["bob"] == [None]
    # A socket attaching now gets one state, with both tabs under "ann".
    late = watcher(backend, "late")
    wait_for(lambda: presence_frames(late))
    [(_, _, state)] = presence_frames(late)
    assert sorted(state) == ["ann", "bob"]
    assert len(set(refs(state["ann"]))) == 2


def test_tracking_again_replaces_the_meta_and_another_key_moves(make_backend):
    backend = make_backend()
    other = watcher(backend)
    backend.issue("d1")
    backend.subscribe("d1", ["room"])
    track(backend, "d1", "room", "ann", {"typing": False})
    track(backend, "d1", "room", "ann", {"typing": False})  # no change: no frame
    track(backend, "d1", "room", "ann", {"typing": True})
    wait_for(lambda: len(presence_frames(other)) == 2)
    first, second = (body for _, _, body in presence_frames(other))
    # Same ref, new meta: a join that replaces the entry.
    ref = first["joins"]["ann"][0]["ref"]
    assert second == {
        "joins": {"ann": [{"ref": ref, "meta": {"typing": True}}]},
        "leaves": {},
    }
    track(backend, "d1", "room", "anna")
    wait_for(lambda: len(presence_frames(other)) == 3)
    third = presence_frames(other)[2][2]
    assert metas(third["leaves"]["ann"]) == [{"typing": True}]
    assert metas(third["joins"]["anna"]) == [None]
    assert refs(third["joins"]["anna"]) != refs(third["leaves"]["ann"])
    assert listing(backend.presence("room")) == {"anna": [None]}


def test_untrack_and_unsubscribe_leave(make_backend):
    backend = make_backend()
    other = watcher(backend)
    mine = watcher(backend, "d1")
    backend.subscribe("d1", ["lobby"])
    track(backend, "d1", "room", "ann")
    track(backend, "d1", "lobby", "ann")
    track(backend, "watcher", "room", "bob")
    backend.untrack("d1", "room")
    backend.untrack("d1", "room")  # twice: nothing more
    wait_for(lambda: len(presence_frames(other)) == 3)
    assert presence_frames(other)[2][2] == {
        "joins": {},
        "leaves": {"ann": presence_frames(other)[0][2]["joins"]["ann"]},
    }
    assert listing(backend.presence("room")) == {"bob": [None]}
    assert listing(backend.presence("lobby")) == {"ann": [None]}
    # Unsubscribing ends the presence too; the page that left gets an empty
    # state for the channel, where others remain, so that its list empties.
    backend.unsubscribe("d1", ["lobby", "room"])
    assert backend.presence("lobby") == []
    wait_for(lambda: ("state", "room", {}) in presence_frames(mine))
    backend.publish("room", frame(1, "room"))
    wait_for(lambda: pushes(other))
    assert pushes(mine) == []


def test_presence_ends_at_once_with_a_clean_close_and_after_the_grace(
    make_backend,
):
    backend = make_backend(disconnect_grace=0.5)
    other = watcher(backend)
    mine = {}
    for digest in ("clean", "dropped"):
        mine[digest] = watcher(backend, digest)
        track(backend, digest, "room", digest)
    wait_for(lambda: len(presence_frames(other)) == 2)
    backend.detach("clean", mine["clean"], forget=True)
    backend.detach("dropped", mine["dropped"], forget=False)
    wait_for(lambda: len(presence_frames(other)) == 3)
    assert list(presence_frames(other)[2][2]["leaves"]) == ["clean"]
    # The dropped one may come back within the grace period; after it, it
    # leaves without anyone asking.
    assert sorted(listing(backend.presence("room"))) == ["dropped"]
    wait_for(lambda: len(presence_frames(other)) == 4, timeout=10)
    assert list(presence_frames(other)[3][2]["leaves"]) == ["dropped"]
    assert backend.presence("room") == []


def test_a_reconnect_within_the_grace_keeps_the_presence(make_backend):
    backend = make_backend(disconnect_grace=30)
    other = watcher(backend)
    first = watcher(backend, "d1")
    track(backend, "d1", "room", "ann")
    wait_for(lambda: presence_frames(other))
    backend.detach("d1", first, forget=False)
    again = FakeConnection("id-d1")
    backend.attach("d1", again)
    wait_for(lambda: presence_frames(again))
    [(kind, _, state)] = presence_frames(again)
    assert kind == "state" and list(state) == ["ann"]
    assert len(presence_frames(other)) == 1  # no leave, no second join


def test_a_page_that_never_connects_leaves_at_its_connect_timeout(make_backend):
    backend = make_backend(connect_timeout=0.5)
    backend.issue("watcher")
    backend.subscribe("watcher", ["room"])
    other = FakeConnection()
    backend.attach("watcher", other)  # attached: its timeout no longer applies
    backend.issue("pending")
    backend.subscribe("pending", ["room"])
    track(backend, "pending", "room", "ann")
    wait_for(lambda: len(presence_frames(other)) == 2, timeout=10)
    assert list(presence_frames(other)[1][2]["leaves"]) == ["ann"]
    assert backend.presence("room") == []


@pytest.mark.parametrize("by", ["channel", "session"])
def test_disconnect_ends_the_presence(make_backend, by):
    backend = make_backend()
    other = watcher(backend)
    backend.issue("connected", session="s1")
    backend.subscribe("connected", ["room", "user:1"])
    mine = FakeConnection("id-connected")
    backend.attach("connected", mine)
    backend.issue("pending", session="s1")
    backend.subscribe("pending", ["room", "user:1"])
    track(backend, "connected", "room", "1", "tab 1")
    track(backend, "pending", "room", "1", "tab 2")
    wait_for(lambda: len(presence_frames(other)) == 2)
    if by == "channel":
        backend.disconnect(channels=["user:1"])
    else:
        backend.disconnect(sessions=["s1"])
    wait_for(lambda: len(presence_frames(other)) == 4)
    leaves = [diff["leaves"]["1"] for _, _, diff in presence_frames(other)[2:]]
    assert sorted(m for left in leaves for m in metas(left)) == ["tab 1", "tab 2"]
    assert backend.presence("room") == []


def test_tracking_needs_a_subscription(make_backend):
    backend = make_backend()
    backend.issue("d1")
    backend.subscribe("d1", ["room"])
    with pytest.raises(ValueError, match="not subscribed to channel 'other'"):
        track(backend, "d1", "other", "ann")
    track(backend, "never issued", "room", "ann")  # gone: nothing happens
    backend.untrack("never issued", "room")
    assert backend.presence("room") == backend.presence("other") == []


def test_a_live_subscription_gets_the_channels_state(make_backend):
    backend = make_backend()
    backend.issue("d1")
    backend.subscribe("d1", ["room"])
    track(backend, "d1", "room", "ann")
    late = watcher(backend, "late", "lobby")
    backend.subscribe("late", ["room"])
    wait_for(lambda: presence_frames(late))
    [(kind, channel, state)] = presence_frames(late)
    assert (kind, channel, list(state)) == ("state", "room", ["ann"])


def test_instance_listeners_get_pushes_only(make_backend):
    backend = make_backend()
    got = []

    class Dispatcher:
        def put(self, function, frame):
            got.append(frame)

    listener = InstanceListener(print, Dispatcher())
    backend.listen("room", listener)
    other = watcher(backend)
    track(backend, "watcher", "room", "ann")
    backend.publish("room", frame(1, "room"))
    wait_for(lambda: pushes(other) and got)
    assert len(got) == 1 and b'"payload":1' in got[0]
    backend.unlisten("room", listener)


@pytest.fixture
def redis_backends(redis_server):
    """Makes Redis backends on one server: each one a process of its own."""
    from flask_realtime.backends.redis import RedisBackend

    made = []

    def make():
        made.append(
            RedisBackend(
                redis_server.url,
                prefix="test:",
                connect_timeout=60,
                disconnect_grace=120,
                ping_interval=0.3,
            )
        )
        return made[-1]

    yield make
    for backend in made:
        for digest, local in list(backend._local.items()):
            backend.detach(digest, local.connection, forget=True)
        backend.close()


def test_an_expired_member_leaves_on_redis_when_a_listener_reads(redis_backends):
    # A process that dies leaves its sockets' keys to expire with their
    # lease; here the key goes at once. The listener of a process with
    # subscribers of the channel notices it at its next lease renewal.
    backend = redis_backends()
    other = watcher(backend)
    backend.issue("dead")
    backend.subscribe("dead", ["room"])
    track(backend, "dead", "room", "ann")
    wait_for(lambda: presence_frames(other))
    backend._redis.delete(backend._key("dead"))
    wait_for(lambda: len(presence_frames(other)) == 2, timeout=10)
    assert list(presence_frames(other)[1][2]["leaves"]) == ["ann"]
    assert backend.presence("room") == []


def test_presence_is_shared_by_processes_on_redis(redis_backends):
    here, there = redis_backends(), redis_backends()
    other = watcher(there)
    here.issue("d1")
    here.subscribe("d1", ["room"])
    track(here, "d1", "room", "ann", {"name": "Ann"})
    wait_for(lambda: presence_frames(other))
    assert listing(there.presence("room")) == {"ann": [{"name": "Ann"}]}
    mine = FakeConnection("id-d1")
    there.attach("d1", mine)  # the page connects to the other process
    wait_for(lambda: presence_frames(mine))
    there.detach("d1", mine, forget=True)
    wait_for(lambda: len(presence_frames(other)) == 2)
    assert here.presence("room") == []


def test_a_listener_that_reconnects_sends_the_presence_afresh(
    redis_backends, redis_server
):
    # Changes published while the listener is away are lost to its sockets;
    # once back, it sends them the whole presence of the channel instead.
    backend = redis_backends()
    backend.first_retry_delay = 0.5  # time for a change while it is away
    other = watcher(backend)
    track(backend, "watcher", "room", "bob")
    wait_for(lambda: presence_frames(other))
    redis_server.client().client_kill_filter(_type="pubsub")
    backend.issue("d1")
    backend.subscribe("d1", ["room"])
    track(backend, "d1", "room", "ann")
    wait_for(lambda: any(k == "state" for k, _, _ in presence_frames(other)))
    state = next(body for k, _, body in presence_frames(other) if k == "state")
    assert sorted(state) == ["ann", "bob"]


def test_a_subscription_made_by_another_process_gets_the_state(redis_backends):
    here, there = redis_backends(), redis_backends()
    there.issue("member")
    there.subscribe("member", ["room"])
    track(there, "member", "room", "ann")
    mine = watcher(here, "d1", "lobby")
    # A request on the other process subscribes the socket connected here:
    # this process's listener applies it, then sends the state.
    there.subscribe("d1", ["room"])
    wait_for(lambda: presence_frames(mine))
    [(kind, channel, state)] = presence_frames(mine)
    assert (kind, channel, list(state)) == ("state", "room", ["ann"])
    there.unsubscribe("d1", ["room"])
    wait_for(lambda: len(presence_frames(mine)) == 2)
    assert presence_frames(mine)[1] == ("state", "room", {})


def test_garbage_presence_messages_do_not_stop_the_listener(
    redis_backends, redis_server
):
    backend = redis_backends()
    other = watcher(backend)
    redis_server.client().publish(backend._channel("room"), b"p\n\xff\xfe")
    track(backend, "watcher", "room", "bob")
    wait_for(lambda: presence_frames(other))
    assert list(presence_frames(other)[0][2]["joins"]) == ["bob"]
