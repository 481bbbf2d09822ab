"""frames: what counts as one whole text frame of the server's."""

from __future__ import annotations

import pytest

from flask_realtime.frames import is_text_frame
from flask_realtime.frames import split
from flask_realtime.frames import text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536])
def test_the_servers_own_frames_pass(size):
    assert is_text_frame(text_frame(b"x" * size))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x81",
        b"\x81\x7e\x01\x2c" + b"x" * 7,  # longer than what follows
        b"\x81\x02abc",  # shorter than what follows
        b"\x81\x85hello",  # masked
        b"\x81\x02\xff\xfe",  # not UTF-8
        b"\x82\x01x",  # binary
        b"\x01\x01x",  # not final
        b"\x88\x02\x03\xe8",  # a close
        b"\x81\x7e\x00\x01x",  # 1 byte in the 16-bit form
        b"\x81\x7f" + (1 << 62).to_bytes(8, "big"),
        text_frame(b"a") + text_frame(b"b"),  # two frames
    ],
)
def test_anything_else_does_not(data):
    assert not is_text_frame(data)


def test_split_stops_at_a_frame_cut_short():
    assert split(text_frame(b"ab") + b"\x8a\x05abc") == [(1, text_frame(b"ab"))]
