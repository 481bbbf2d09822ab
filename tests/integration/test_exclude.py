"""push(exclude=...): everyone but the sender (Flask-SocketIO's
include_self=False, Phoenix's broadcast_from)."""

from __future__ import annotations

import pytest

from ..support import wait_for


@pytest.fixture
def room(browser, new_browser):
    """Three pages in the "chat" room, in two browsers."""
    pages = [browser.open("/"), browser.open("/"), new_browser().open("/")]
    sockets = [page.connect() for page in pages]
    for socket in sockets:
        socket.request("ping")
    return pages, sockets


def test_a_page_that_speaks_is_left_out_and_everyone_else_hears(room, realtime):
    pages, (sender, same_browser, other) = room
    reply = sender.request(
        "call-route", uri="/say-to-others", method="POST", input={"text": "hello"}
    )
    assert reply["status"] == 204
    realtime.push("after", "chat")
    for listener in (same_browser, other):
        assert listener.receive() == {"channel": "chat", "payload": {"said": "hello"}}
    assert sender.receive() == {"channel": "chat", "payload": "after"}


def test_exclude_takes_ids_and_lists_and_an_http_request_can_name_them(
    room, realtime, browser
):
    pages, sockets = room
    realtime.push("one", "chat", exclude=pages[0].connection_id)
    realtime.push(
        "two", "chat", exclude=[pages[1].connection_id, pages[2].connection_id]
    )
    status, _ = browser.request(
        "/push",
        method="POST",
        data={"text": "three", "channel": "chat", "exclude": pages[2].connection_id},
    )
    assert status == 204
    realtime.push("end", "chat")
    payloads = [
        [s.receive()["payload"] for _ in range(n)]
        for s, n in zip(sockets, (3, 3, 2), strict=True)
    ]
    assert payloads == [
        ["two", {"text": "three"}, "end"],
        ["one", {"text": "three"}, "end"],
        ["one", "end"],
    ]


def test_a_page_left_out_is_left_out_of_its_replay_too(browser, realtime, app):
    sender_page, other_page = browser.open("/"), browser.open("/")
    sender, other = sender_page.connect(), other_page.connect()
    realtime.push("before", "chat")
    assert sender.receive()["payload"] == other.receive()["payload"] == "before"
    sender.drop()
    other.drop()
    backend = realtime._state(app).backend
    wait_for(lambda: backend.hub.channel_count() == 0)
    realtime.push("not for the sender", "chat", exclude=sender_page.connection_id)
    realtime.push("for both", "chat")
    sender, other = sender_page.reconnect(sender), other_page.reconnect(other)
    assert sender.receive()["payload"] == "for both"
    assert [other.receive()["payload"] for _ in range(2)] == [
        "not for the sender",
        "for both",
    ]


@pytest.mark.parametrize(
    "exclude",
    [5, "not an id", [None], ["ok-looking-id-1234", b"bytes-id-1234567890"], {"a": 1}],
)
def test_exclude_that_names_something_else_is_a_clear_error(realtime, exclude):
    with pytest.raises(TypeError, match="exclude"):
        realtime.push("x", "chat", exclude=exclude)


def test_a_page_socket_without_an_id_excludes_nobody(app, realtime):
    with app.test_request_context():
        from flask import g

        app.preprocess_request()
        realtime.push("x", "chat", exclude=g.socket)  # issues no id
        assert g.socket._connection_id is None


def test_a_page_that_calls_over_http_is_left_out_too(room, browser, realtime):
    # While its socket is down the client calls over HTTP, naming its page
    # with a header; g.socket is then that page, and exclude leaves it out.
    pages, (sender, same_browser, other) = room
    status, _ = browser.request(
        "/say-to-others",
        method="POST",
        data={"text": "over http"},
        headers={"X-Socket-Connection-Id": pages[0].connection_id},
    )
    assert status == 204
    realtime.push("after", "chat")
    assert other.receive()["payload"] == {"said": "over http"}
    assert sender.receive()["payload"] == "after"
