"""Positions and bounded per-channel history, for replay after reconnects.

Every push to a channel gets the next *position* of that channel, written
``"<epoch>:<seq>"``: ``seq`` counts the channel's pushes, and ``epoch`` names
the life of its counter, which ends when its history expires or its backend
forgets it (a restart). A client keeps the last position of each channel; on
reconnect, what came after it is replayed from the history, or the client is
told plainly that it cannot be (a *gap*).
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import typing as t

from . import frames

if t.TYPE_CHECKING:
    from .pushing import Excluded


def new_epoch() -> str:
    return secrets.token_urlsafe(6)


# What positions look like: epochs are new_epoch()'s, sequence numbers fit
# in 64 bits. Positions a client sends back must look the same, since they
# may be written back into frames.
_POSITION = re.compile(r"[A-Za-z0-9_-]{1,32}:[0-9]{1,18}\Z")


def parse_position(position: str) -> tuple[str, int] | None:
    epoch, sep, seq = position.rpartition(":")
    if not sep or not epoch or not seq.isdigit():
        return None
    return epoch, int(seq)


def frame_with_position(head: bytes, position: str) -> bytes:
    """Close a push envelope begun by :func:`~flask_realtime.pushing.encode_heads`
    with its position, and frame it."""
    return frames.text_frame(b'%s,"position":"%s"}' % (head, position.encode()))


def gap_frame(channel_json: bytes, position: str) -> bytes:
    """Tells a client that messages of a channel were missed and cannot be
    replayed; its position moves on to ``position``."""
    return frames.text_frame(
        b'{"channel":%s,"gap":true,"position":%s}'
        % (channel_json, json.dumps(position).encode())
    )


@dataclasses.dataclass
class Replay:
    """What a reconnecting socket gets for one channel before live pushes."""

    #: Frames to send, oldest first.
    frames: list[bytes]
    #: Whether messages were missed that history no longer holds.
    gap: bool
    #: The position the client has once the replay is sent.
    position: str
    #: The connection ids each frame was pushed without, by index; only for
    #: frames pushed with ``exclude``.
    excluded: dict[int, Excluded] = dataclasses.field(default_factory=dict)
    #: Whether the history went back on what was delivered (see :func:`replay`).
    rolled_back: bool = False

    def frames_for(self, connection_id: str) -> list[bytes]:
        """The frames for one connection: a push that excluded it stays
        excluded in its replay."""
        if not self.excluded:
            return self.frames
        return [
            frame
            for i, frame in enumerate(self.frames)
            if connection_id not in self.excluded.get(i, ())
        ]


def replay(
    since: str,
    epoch: str,
    seq: int,
    entries: t.Sequence[tuple[int, bytes, Excluded]],
    delivered: bytes | None = None,
) -> Replay:
    """Work out the replay after ``since`` from a channel's state: its epoch,
    its last seq and the entries ``(seq, frame, excluded)`` its history still
    holds, oldest first.

    ``delivered``, the frame delivered at ``since`` if known, tells whether
    the history went back on it: a Redis replica promoted by a failover may
    lack the last pushes its master made (replication is asynchronous),
    while their frames were delivered. Its sequence numbers are then behind,
    or given again to other pushes, and the replay is a gap
    (``rolled_back``) rather than a silent hole.
    """
    current = f"{epoch}:{seq}"
    parsed = parse_position(since)
    if parsed is None or parsed[0] != epoch:
        return Replay([], gap=True, position=current)
    after = parsed[1]
    if after > seq or (
        delivered is not None
        and any(s == after and frame != delivered for s, frame, _ in entries)
    ):
        rolled_back = delivered is not None
        return Replay([], gap=True, position=current, rolled_back=rolled_back)
    if after == seq:
        return Replay([], gap=False, position=current)
    oldest = entries[0][0] if entries else seq + 1
    if after + 1 < oldest:
        return Replay([], gap=True, position=current)
    newer = [(frame, excluded) for s, frame, excluded in entries if s > after]
    return Replay(
        [frame for frame, _ in newer],
        gap=False,
        position=current,
        excluded={i: excluded for i, (_, excluded) in enumerate(newer) if excluded},
    )


def not_before(position: str, floor: str) -> str:
    """``position``, or ``floor`` if that is later in the same epoch."""
    wanted, lowest = parse_position(position), parse_position(floor)
    if wanted and lowest and wanted[0] == lowest[0] and wanted[1] < lowest[1]:
        return floor
    return position


def is_after(position: str, resume: str) -> bool:
    """Whether a live frame at ``position`` is new to a client resumed at
    ``resume`` (not already in its replay)."""
    live, resumed = parse_position(position), parse_position(resume)
    if live is None or resumed is None or live[0] != resumed[0]:
        return True
    return live[1] > resumed[1]


#: Most channels, and most characters, a client may send positions for.
MAX_POSITIONS = 1000
MAX_POSITIONS_LENGTH = 64 * 1024


def parse_positions(text: str) -> dict[str, str]:
    """Read the ``positions`` query parameter of a reconnecting socket: a
    JSON object from channel names to positions.

    :raises ValueError: with a message for the client, if it is malformed.
    """
    if len(text) > MAX_POSITIONS_LENGTH:
        raise ValueError("'positions' is too long.")
    try:
        positions = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ValueError("'positions' is not valid JSON.") from e
    if not isinstance(positions, dict) or len(positions) > MAX_POSITIONS:
        raise ValueError(
            f"'positions' must be an object of at most {MAX_POSITIONS} channels."
        )
    for channel, position in positions.items():
        if not isinstance(position, str) or not _POSITION.match(position):
            raise ValueError(f"The position of channel {channel!r:.40} is malformed.")
    return positions
