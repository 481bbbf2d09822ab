"""Encoding of the few WebSocket frames the server writes itself.

Pushes are framed here rather than by wsproto so that one encoded frame can
be written to every subscriber of a channel. Such frames never set RSV1
(RFC 7692 lets a server send any message uncompressed), and the server does
not negotiate permessage-deflate at all, see ``endpoint.py``.
"""

from __future__ import annotations

import struct

_OPCODE_TEXT = 0x1
_OPCODE_CLOSE = 0x8
_OPCODE_PING = 0x9
_FIN = 0x80

#: Opcodes of the control frames simple-websocket's reader writes.
OPCODE_CLOSE = _OPCODE_CLOSE
OPCODE_PONG = 0xA


def _frame(opcode: int, payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", _FIN | opcode, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", _FIN | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", _FIN | opcode, 127, length)
    return header + payload


def text_frame(payload: bytes) -> bytes:
    """Frame UTF-8 encoded text as one unmasked server text frame."""
    return _frame(_OPCODE_TEXT, payload)


def ping_frame() -> bytes:
    """Frame an empty ping."""
    return _frame(_OPCODE_PING, b"")


def close_frame(code: int, reason: str = "") -> bytes:
    """Frame a close with a status code and a reason of at most 123 bytes."""
    encoded = reason.encode()[:123]
    return _frame(_OPCODE_CLOSE, struct.pack("!H", code) + encoded)


def unframe(frame: bytes) -> tuple[int, bytes]:
    """Split a frame built here into its opcode and payload (for the test
    client, which receives frames instead of a socket)."""
    opcode, length = frame[0] & 0x0F, frame[1] & 0x7F
    offset = 2
    if length == 126:
        (length,) = struct.unpack_from("!H", frame, 2)
        offset = 4
    elif length == 127:
        (length,) = struct.unpack_from("!Q", frame, 2)
        offset = 10
    return opcode, frame[offset : offset + length]


def is_text_frame(data: bytes) -> bool:
    """Whether ``data`` is exactly one whole text frame as the server writes
    them: final, unmasked, its length encoded in the fewest bytes and equal
    to what follows, its text valid UTF-8. Frames from Redis are checked so,
    since one malformed frame would desynchronise the client's stream."""
    if len(data) < 2 or data[0] != _FIN | _OPCODE_TEXT or data[1] & 0x80:
        return False
    length, start = data[1], 2
    if length == 126:
        (length,) = struct.unpack_from("!H", data, 2) if len(data) >= 4 else (0,)
        start, smallest = 4, 126
    elif length == 127:
        (length,) = struct.unpack_from("!Q", data, 2) if len(data) >= 10 else (0,)
        start, smallest = 10, 1 << 16
    else:
        smallest = 0
    if length < smallest or start + length != len(data):
        return False
    try:
        data[start:].decode()
    except UnicodeDecodeError:
        return False
    return True


def split(data: bytes) -> list[tuple[int, bytes]]:
    """Split unmasked server frames, written back to back, into ``(opcode,
    frame)`` pairs. simple-websocket's reader answers every ping of one read
    in a single write, a close reply possibly among them."""
    found = []
    offset = 0
    while offset + 2 <= len(data):
        length, start = data[offset + 1] & 0x7F, offset + 2
        if length == 126:
            (length,) = struct.unpack_from("!H", data, start)
            start += 2
        elif length == 127:
            (length,) = struct.unpack_from("!Q", data, start)
            start += 8
        end = start + length
        if end > len(data):
            break  # a frame cut short is not one
        found.append((data[offset] & 0x0F, data[offset:end]))
        offset = end
    return found
