"""The hub's presence delivery: held while a socket's states are read."""

from __future__ import annotations

from flask_realtime.hub import LocalHub


class Recorder:
    def __init__(self, connection_id: str = "page") -> None:
        self.connection_id = connection_id
        self.frames: list[bytes] = []

    def send_frame(self, frame: bytes) -> None:
        self.frames.append(frame)


def test_changes_during_a_read_come_after_the_state_in_their_order():
    hub = LocalHub()
    page = Recorder()
    hub.add(page, ["room"], hold_presence=True)
    hub.deliver_presence("room", b"change 1")
    hub.deliver_presence("room", b"change 2")
    assert page.frames == []
    hub.finish_presence(page, [b"state"])
    hub.deliver_presence("room", b"change 3")
    assert page.frames == [b"state", b"change 1", b"change 2", b"change 3"]


def test_overlapping_reads_release_once_the_last_ends():
    # Each state must be followed by every change since its read began: all
    # changes held since the first hold follow every state.
    hub = LocalHub()
    page = Recorder()
    hub.add(page, ["a"], hold_presence=True)
    hub.deliver_presence("a", b"a1")
    hub.add(page, ["b"], hold_presence=True)
    hub.deliver_presence("b", b"b1")
    hub.finish_presence(page, [b"state a"])
    hub.deliver_presence("a", b"a2")
    assert page.frames == []
    hub.finish_presence(page, [b"state b"])
    assert page.frames == [b"state b", b"state a", b"a1", b"b1", b"a2"]


def test_listen_functions_get_no_presence_frames():
    hub = LocalHub()
    page, listener = Recorder(), Recorder(connection_id="")
    hub.add(page, ["room"])
    hub.add(listener, ["room"])
    hub.deliver_presence("room", b"change")
    assert (page.frames, listener.frames) == ([b"change"], [])


def test_a_removed_socket_holds_nothing():
    hub = LocalHub()
    page = Recorder()
    hub.add(page, ["room"], hold_presence=True)
    hub.deliver_presence("room", b"change")
    hub.remove(page, ["room"])
    hub.deliver_presence("room", b"later")
    assert page.frames == []


def test_keys_and_metas_are_checked():
    import json

    import pytest

    from flask_realtime import presence

    assert presence.check_key("ann") == '"ann"'
    assert presence.check_key("\n") == '"\\n"'  # never a raw newline
    for bad, error in ((5, TypeError), ("", ValueError), ("k" * 257, ValueError)):
        with pytest.raises(error):
            presence.check_key(bad)
    assert presence.encode_meta(json.dumps, {"a": [1]}) == '{"a":[1]}'
    with pytest.raises(ValueError, match="cannot be sent as JSON"):
        presence.encode_meta(json.dumps, float("nan"))
    with pytest.raises(TypeError, match="cannot be sent as JSON"):
        presence.encode_meta(json.dumps, object())
    with pytest.raises(ValueError, match="at most 4096 bytes"):
        presence.encode_meta(json.dumps, "é" * 2047)  # 4096 bytes and quotes
