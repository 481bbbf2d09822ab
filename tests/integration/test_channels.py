"""Subscriptions and pushes, end to end over real sockets."""

from __future__ import annotations

import threading

from ..support import Closed


def test_subscribed_before_connect_then_receives(browser, realtime):
    socket = browser.open("/?channel=chat").connect()
    assert socket.request("ping")["body"] == "pong"  # attached by now
    realtime.push({"text": "hello"}, "chat")
    assert socket.receive() == {"channel": "chat", "payload": {"text": "hello"}}


def test_push_from_a_route_reaches_every_subscriber(browser, new_browser):
    sockets = [b.open("/?channel=room").connect() for b in (browser, new_browser())]
    for socket in sockets:
        socket.request("ping")
    status, _ = browser.request(
        "/push", method="POST", data={"text": "hi", "channel": "room"}
    )
    assert status == 204
    for socket in sockets:
        assert socket.receive() == {"channel": "room", "payload": {"text": "hi"}}


def test_only_subscribers_of_a_channel_receive_it(browser, realtime):
    a = browser.open("/?channel=a").connect()
    b = browser.open("/?channel=b").connect()
    both = browser.open("/?channel=a&channel=b").connect()
    for socket in (a, b, both):
        socket.request("ping")
    realtime.push(1, "a")
    realtime.push(2, "b")
    assert a.receive() == {"channel": "a", "payload": 1}
    assert b.receive() == {"channel": "b", "payload": 2}
    assert [both.receive(), both.receive()] == [
        {"channel": "a", "payload": 1},
        {"channel": "b", "payload": 2},
    ]
    # Nothing else is waiting for a or b: the next message is the pong.
    assert a.request("ping")["body"] == "pong"
    assert b.request("ping")["body"] == "pong"


def test_push_to_several_channels_at_once(browser, realtime):
    socket = browser.open("/?channel=x&channel=y").connect()
    socket.request("ping")
    realtime.push("m", "x", "y", "nobody")
    assert {socket.receive()["channel"], socket.receive()["channel"]} == {"x", "y"}


def test_unsubscribe_from_a_later_request_stops_delivery(browser, realtime):
    page = browser.open("/?channel=a&channel=b")
    socket = page.connect()
    socket.request("ping")
    status, body = browser.request(
        "/unsubscribe",
        method="POST",
        data={"channel": "a"},
        headers={"X-Socket-Connection-Id": page.connection_id},
    )
    assert status == 200 and page.connection_id in body
    realtime.push("first", "a")
    realtime.push("second", "b")
    assert socket.receive() == {"channel": "b", "payload": "second"}


def test_subscribe_from_a_later_request_takes_effect_at_once(browser, realtime):
    page = browser.open("/bare")
    socket = page.connect()
    socket.request("ping")
    browser.request(
        "/subscribe",
        method="POST",
        data={"channel": "late"},
        headers={"X-Socket-Connection-Id": page.connection_id},
    )
    realtime.push("now", "late")
    assert socket.receive() == {"channel": "late", "payload": "now"}


def test_another_sessions_request_cannot_act_on_a_page(browser, new_browser, realtime):
    page = browser.open("/?channel=a")
    socket = page.connect()
    socket.request("ping")
    status, body = new_browser().request(
        "/unsubscribe",
        method="POST",
        data={"channel": "a"},
        headers={"X-Socket-Connection-Id": page.connection_id},
    )
    assert status == 200 and page.connection_id not in body
    realtime.push("still here", "a")
    assert socket.receive() == {"channel": "a", "payload": "still here"}


def test_push_from_threads_outside_any_app_context(browser, realtime):
    socket = browser.open("/?channel=t").connect()
    socket.request("ping")
    threads = [
        threading.Thread(target=realtime.push, args=({"n": n}, "t")) for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    received = sorted(socket.receive()["payload"]["n"] for _ in range(20))
    assert received == list(range(20))


def test_order_is_kept_per_channel(browser, realtime):
    sockets = [browser.open("/?channel=o").connect() for _ in range(3)]
    for socket in sockets:
        socket.request("ping")
    for n in range(500):
        realtime.push(n, "o")
    for socket in sockets:
        assert [socket.receive()["payload"] for _ in range(500)] == list(range(500))


def test_push_to_a_channel_without_subscribers_is_fine(browser, realtime):
    realtime.push({"x": 1}, "empty")
    socket = browser.open("/").connect()
    assert socket.request("ping")["body"] == "pong"


def test_a_second_socket_with_the_same_id_replaces_the_first(browser, realtime):
    page = browser.open("/?channel=r")
    first = page.connect()
    first.request("ping")
    second = page.connect()
    closed = first.receive_close()
    assert closed.code == 4002
    second.request("ping")
    realtime.push("to the new one", "r")
    assert second.receive() == {"channel": "r", "payload": "to the new one"}


def test_closed_socket_stops_receiving_and_server_goes_on(browser, realtime):
    page = browser.open("/?channel=c")
    socket = page.connect()
    socket.request("ping")
    socket.close()
    realtime.push("after close", "c")
    other = browser.open("/?channel=c").connect()
    other.request("ping")
    realtime.push("next", "c")
    assert other.receive() == {"channel": "c", "payload": "next"}
    try:
        socket.receive(timeout=1)
    except Closed:
        pass
