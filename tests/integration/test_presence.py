"""Presence over real sockets: who is on a channel, and when they leave."""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import quote

import pytest

from flask_realtime.client import Client

from ..conftest import create_app
from ..support import Browser
from ..support import LiveServer
from ..support import wait_for


def next_presence(socket):
    """The next presence frame a socket gets, skipping other frames."""
    while True:
        message = socket.receive()
        if "presence" in message or "presence_state" in message:
            return message


def call(socket, uri, data, form=False):
    """POST ``data`` to a route over the socket; returns the reply and the
    frames that came before it."""
    message = {"action": "call-route", "id": "c", "uri": uri, "method": "POST"}
    socket.send(json.dumps({**message, "input": data, "form": form}))
    seen = []
    while (frame := socket.receive()).get("id") != "c":
        seen.append(frame)
    return frame, seen


def metas(entries):
    return [entry["meta"] for entry in entries]


def enter(browser, key, meta=None, channel="room", *more):
    """Render a page present on ``channel`` and connect its socket."""
    query = f"key={quote(key)}&meta={quote(json.dumps(meta))}"
    for name in (channel, *more):
        query += f"&channel={quote(name)}"
    page = browser.open(f"/room?{query}")
    return page, page.connect()


@pytest.fixture
def bob(new_browser):
    """Bob's page on the room, connected, with the state he got."""
    page, socket = enter(new_browser(), "bob", {"name": "Bob"})
    state = next_presence(socket)
    return socket, state


def test_subscribers_get_joins_and_a_connecting_page_gets_the_state(
    bob, new_browser, realtime
):
    bob_socket, bob_state = bob
    bob_ref = bob_state["presence_state"]["bob"][0]["ref"]
    assert bob_state == {
        "channel": "room",
        "presence_state": {"bob": [{"ref": bob_ref, "meta": {"name": "Bob"}}]},
    }
    # Ann is present from her page's render, before her socket connects.
    ann = new_browser()
    ann_page = ann.open(f"/room?key=ann&meta={quote(json.dumps({'name': 'Ann'}))}")
    join = next_presence(bob_socket)
    ann_ref = join["presence"]["joins"]["ann"][0]["ref"]
    assert join == {
        "channel": "room",
        "presence": {
            "joins": {"ann": [{"ref": ann_ref, "meta": {"name": "Ann"}}]},
            "leaves": {},
        },
    }
    state = next_presence(ann_page.connect())
    assert state["presence_state"] == {
        "ann": [{"ref": ann_ref, "meta": {"name": "Ann"}}],
        "bob": [{"ref": bob_ref, "meta": {"name": "Bob"}}],
    }
    assert realtime.presence("room") == {
        "ann": [{"name": "Ann"}],
        "bob": [{"name": "Bob"}],
    }
    # A ref tells nothing of the socket: no id, no part of one.
    for secret in (ann_page.connection_id, ann.cookie_header()):
        assert ann_ref not in secret and secret not in json.dumps(join)


def test_a_members_tabs_are_grouped_under_its_key(bob, new_browser, realtime):
    bob_socket, _ = bob
    ann = new_browser()
    for tab in (1, 2):
        enter(ann, "ann", {"tab": tab})
        next_presence(bob_socket)
    assert sorted(realtime.presence("room")["ann"], key=str) == [
        {"tab": 1},
        {"tab": 2},
    ]
    _, third = enter(new_browser(), "cat")
    state = next_presence(third)["presence_state"]
    assert sorted(state) == ["ann", "bob", "cat"]
    assert len({entry["ref"] for entry in state["ann"]}) == 2


def test_a_clean_close_leaves_at_once(bob, new_browser, realtime):
    bob_socket, _ = bob
    _, ann_socket = enter(new_browser(), "ann")
    join = next_presence(bob_socket)
    ann_socket.close(1001)  # the page unloads
    leave = next_presence(bob_socket)
    assert leave["presence"] == {"joins": {}, "leaves": join["presence"]["joins"]}
    assert list(realtime.presence("room")) == ["bob"]


def test_tracking_over_the_socket_changes_the_meta_and_untracks(bob, new_browser):
    bob_socket, _ = bob
    _, ann_socket = enter(new_browser(), "ann", {"typing": False})
    join = next_presence(bob_socket)
    ref = join["presence"]["joins"]["ann"][0]["ref"]
    typing = {"channel": "room", "key": "ann", "meta": {"typing": True}}
    reply, seen = call(ann_socket, "/track", typing)
    assert reply["status"] == 204
    change = {"ann": [{"ref": ref, "meta": {"typing": True}}]}
    assert next_presence(bob_socket)["presence"] == {"joins": change, "leaves": {}}
    # The page that tracked hears its own changes too, after its state.
    assert [list(m) for m in seen] == [
        ["channel", "presence_state"],
        ["channel", "presence"],
    ]
    assert seen[1]["presence"]["joins"] == change
    untrack = {"channel": "room"}
    ann_socket.request("call-route", uri="/track", method="POST", input=untrack)
    assert next_presence(bob_socket)["presence"] == {"joins": {}, "leaves": change}


def test_leaving_the_channel_ends_the_presence_and_empties_the_list(bob, new_browser):
    bob_socket, _ = bob
    browser = new_browser()
    page, ann_socket = enter(browser, "ann")
    next_presence(ann_socket)  # the state
    next_presence(bob_socket)
    reply, seen = call(ann_socket, "/unsubscribe", {"channel": "room"}, form=True)
    assert reply["status"] == 200
    assert list(next_presence(bob_socket)["presence"]["leaves"]) == ["ann"]
    # Ann's page hears her own leave, then gets an empty state: Bob is still
    # there, but no longer hers to see.
    assert list(seen[0]["presence"]["leaves"]) == ["ann"]
    assert seen[1:] == [{"channel": "room", "presence_state": {}}]


@pytest.fixture
def short_lived():
    """A server whose dropped sockets are forgotten after a second, and ids
    that never connect after two."""
    app = create_app(REALTIME_DISCONNECT_GRACE=1, REALTIME_CONNECT_TIMEOUT=2)
    server = LiveServer(app)
    browsers = []

    def browser():
        browsers.append(Browser(server.url))
        return browsers[-1]

    yield app, browser
    for made in browsers:
        made.close_all()
    server.stop()


def test_a_drop_leaves_after_the_grace_unless_the_page_comes_back(short_lived):
    app, browser = short_lived
    _, bob_socket = enter(browser(), "bob")
    next_presence(bob_socket)
    ann_page, ann_socket = enter(browser(), "ann")
    join = next_presence(bob_socket)
    backend = app.extensions["test_realtime"]._state(app).backend
    ann_socket.drop()  # no close frame: the network went away
    wait_for(lambda: backend.hub.channel_count() == 1 and len(backend._sockets) == 2)
    # Back within the grace: still present, no leave and no second join.
    again = ann_page.reconnect(ann_socket)
    assert sorted(next_presence(again)["presence_state"]) == ["ann", "bob"]
    again.drop()
    leave = next_presence(bob_socket)
    assert leave["presence"] == {"joins": {}, "leaves": join["presence"]["joins"]}
    assert list(app.extensions["test_realtime"].presence("room", app=app)) == ["bob"]


def test_a_page_that_never_connects_leaves_at_its_connect_timeout(short_lived):
    _, browser = short_lived
    _, bob_socket = enter(browser(), "bob")
    next_presence(bob_socket)
    browser().open("/room?key=ann")  # rendered, never connected
    assert list(next_presence(bob_socket)["presence"]["joins"]) == ["ann"]
    assert list(next_presence(bob_socket)["presence"]["leaves"]) == ["ann"]


def test_disconnect_and_end_session_end_the_presence(bob, new_browser, realtime):
    bob_socket, _ = bob
    ann = new_browser()
    _, ann_socket = enter(ann, "ann", None, "room", "user:ann")
    next_presence(ann_socket)  # attached
    next_presence(bob_socket)
    realtime.disconnect("user:ann")
    assert list(next_presence(bob_socket)["presence"]["leaves"]) == ["ann"]
    assert ann_socket.receive_close().code == 4003
    cat = new_browser()
    for tab in (1, 2):  # one connected, one still loading
        page = cat.open(f"/room?key=cat&meta={tab}")
        next_presence(bob_socket)
        if tab == 1:
            next_presence(page.connect())
    assert cat.request("/end-session", method="POST")[0] == 204
    left = [next_presence(bob_socket)["presence"]["leaves"] for _ in range(2)]
    assert sorted(metas(leave["cat"])[0] for leave in left) == [1, 2]
    assert list(realtime.presence("room")) == ["bob"]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"key": ""}, "1 to 256 characters"),
        ({"key": "k" * 257}, "1 to 256 characters"),
        ({"key": 5}, "as a string"),
        ({"key": None}, "as a string"),
        ({"key": "ann", "meta": "x" * 5000}, "at most 4096 bytes"),
        ({"key": "ann", "meta": ["é" * 2100]}, "at most 4096 bytes"),
        ({"key": "ann", "channel": "elsewhere"}, "not subscribed"),
        ({"key": "ann", "channel": ""}, "1 to 256 characters"),
        ({"key": "ann", "channel": ["room"]}, "as strings"),
    ],
)
def test_bad_tracks_are_refused_and_change_nothing(
    bob, new_browser, realtime, fields, error
):
    bob_socket, _ = bob
    _, ann_socket = enter(new_browser(), "ann")
    next_presence(bob_socket)
    reply = ann_socket.request(
        "call-route", uri="/track", method="POST", input={"channel": "room", **fields}
    )
    assert reply["status"] == 400
    assert error in reply["body"]["error"]
    assert sorted(realtime.presence("room")) == ["ann", "bob"]
    assert realtime.presence("room")["ann"] == [None]


def test_a_client_cannot_forge_presence(bob, new_browser, realtime):
    bob_socket, _ = bob
    _, ann_socket = enter(new_browser(), "ann")
    next_presence(bob_socket)
    forged = {"joins": {"eve": [{"ref": "x", "meta": "admin"}]}, "leaves": {}}
    for message in (
        {"channel": "room", "presence": forged},
        {"channel": "room", "presence_state": {"eve": []}},
        {"action": "presence", "channel": "room", "presence": forged},
        {"action": "track", "channel": "room", "key": "eve"},
    ):
        ann_socket.send(json.dumps({"id": "r", **message}))
        while "id" not in (reply := ann_socket.receive()):
            pass  # her own state
        assert reply["error"]["code"] in ("invalid_message", "unknown_action")
    realtime.push("after", "room")
    assert bob_socket.receive() == {"channel": "room", "payload": "after"}
    assert sorted(realtime.presence("room")) == ["ann", "bob"]


def test_the_python_client_ignores_presence_frames(server, new_browser, caplog):
    caplog.set_level(logging.WARNING, logger="flask_realtime")
    got = threading.Event()
    # Its page is present, so it gets a state, then a join.
    with Client(server.url + "/room?key=bot") as client:
        client.on("room", lambda payload: got.set())
        enter(new_browser(), "ann")
        people = client.call("/presence?channel=room").body
        assert sorted(people) == ["ann", "bot"]
        Browser(server.url).request(
            "/push", method="POST", data={"text": "hi", "channel": "room"}
        )
        assert got.wait(10)
        assert client.state == "open"
    assert not [r for r in caplog.records if "Ignored" in r.getMessage()]


def test_the_test_client_keeps_presence_frames_apart(app, realtime):
    ann, bob = realtime.test_client(app), realtime.test_client(app)
    bob.get("/room?key=bob")
    bob.connect()
    ann.get("/room?key=ann")
    ann.connect()
    realtime.push("hi", "room")
    assert ann.get_received() == [{"channel": "room", "payload": "hi"}]
    [state] = ann.get_presence()
    assert sorted(state["presence_state"]) == ["ann", "bob"]
    [own_state, join] = bob.get_presence()
    assert list(join["presence"]["joins"]) == ["ann"]
    ann.disconnect()
    [leave] = bob.get_presence()
    assert list(leave["presence"]["leaves"]) == ["ann"]
