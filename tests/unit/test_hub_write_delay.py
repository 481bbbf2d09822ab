"""The hub under a write delay: which pushes wait in the Flusher's window,
and for whom (fakes that record what they are handed)."""

from __future__ import annotations

import pytest

from flask_realtime.flusher import Flusher
from flask_realtime.history import Replay
from flask_realtime.hub import LocalHub


class Page:
    """Stands in for a socket's Connection: frames one by one, or a window's
    in one piece."""

    takes_windows = True

    def __init__(self, connection_id: str) -> None:
        self.connection_id = connection_id
        self.received: list[bytes] = []

    def send_frame(self, frame: bytes, *, window: bool = False) -> None:
        self.received.append(frame)


class Listener:
    """Stands in for a realtime.listen() function: frames one by one."""

    connection_id = ""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    def send_frame(self, frame: bytes) -> None:
        self.received.append(frame)


@pytest.fixture
def flusher():
    flusher = Flusher(60.0, 1 << 20)  # no window ends by itself
    yield flusher
    flusher.settle()


def test_pushes_that_follow_one_another_wait_for_sockets_not_for_listeners(flusher):
    hub = LocalHub(flusher)
    a, b, listener = Page("a"), Page("b"), Listener()
    for subscriber in (a, b, listener):
        hub.add(subscriber, ["room"])
    for n in range(4):
        hub.deliver("room", f"e:{n}", b"%d" % n)
    # The first came after a quiet moment and went at once.
    assert a.received == b.received == [b"0"]
    assert listener.received == [b"0", b"1", b"2", b"3"]
    flusher.settle()
    assert a.received == b.received == [b"0", b"123"]
    assert hub.delivered == 12


def test_a_socket_that_subscribes_during_a_window_gets_only_what_follows(flusher):
    hub = LocalHub(flusher)
    a, b = Page("a"), Page("b")
    hub.add(a, ["room"])
    hub.deliver("room", "e:0", b"0")  # at once
    hub.deliver("room", "e:1", b"1")
    hub.add(b, ["room"])
    hub.deliver("room", "e:2", b"2")
    hub.remove(a, ["room"])
    hub.deliver("room", "e:3", b"3")
    flusher.settle()
    assert a.received == [b"0", b"12"]
    assert b.received == [b"23"]


def test_excluded_pages_get_nothing_and_the_others_keep_their_order(flusher):
    hub = LocalHub(flusher)
    a, b = Page("a"), Page("b")
    hub.add(a, ["room"])
    hub.add(b, ["room"])
    hub.deliver("room", "e:0", b"0")
    hub.deliver("room", "e:1", b"1", frozenset({"a"}))
    hub.deliver("room", "e:2", b"2")
    flusher.settle()
    assert a.received == [b"0", b"2"]
    assert b.received == [b"0", b"12"]


def test_a_socket_catching_up_holds_pushes_and_gets_only_newer_ones_after(flusher):
    hub = LocalHub(flusher)
    a, late = Page("a"), Page("late")
    hub.add(a, ["room"])
    hub.deliver("room", "e:0", b"0")
    hub.add(late, ["room"], catch_up=True)
    hub.deliver("room", "e:1", b"1")
    hub.deliver("room", "e:2", b"2")
    assert late.received == []
    # The replay read during the catch-up already holds the push at e:1.
    hub.finish_catch_up(late, {"room": Replay([b"r0", b"r1"], False, "e:1")})
    hub.deliver("room", "e:1", b"1 again")  # from an earlier subscription
    hub.deliver("room", "e:3", b"3")
    flusher.settle()
    assert late.received == [b"r0", b"r1", b"2", b"3"]
    assert a.received == [b"0", b"121 again3"]


def test_a_socket_catching_up_on_another_channel_leaves_this_one_joined(flusher):
    # Pushes to a channel share one tuple of sockets, and so one join,
    # unless something in that very channel needs them one by one.
    hub = LocalHub(flusher)
    a, b, late = Page("a"), Page("b"), Page("late")
    hub.add(a, ["room"])
    hub.add(b, ["room"])
    hub.add(late, ["other"], catch_up=True)
    for n in range(4):
        hub.deliver("room", f"e:{n}", b"%d" % n)
    flusher.settle()
    assert a.received == b.received == [b"0", b"123"]
    assert a.received[1] is b.received[1]
