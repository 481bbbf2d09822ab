"""Turning a message and channel names into frames, once per channel."""

from __future__ import annotations

import json
import typing as t

#: Longest channel name accepted, in characters.
MAX_CHANNEL_LENGTH = 256


def check_channels(channels: tuple[t.Any, ...], caller: str) -> tuple[str, ...]:
    """Return the channel names, or raise a clear error for bad ones."""
    if not channels:
        raise TypeError(f"{caller}() needs at least one channel name.")
    for channel in channels:
        if not isinstance(channel, str):
            raise TypeError(
                f"{caller}() takes channel names as strings, got"
                f" {type(channel).__name__} {channel!r}. Pass several channels as"
                f" separate arguments: {caller}('a', 'b')."
            )
        if not channel or len(channel) > MAX_CHANNEL_LENGTH:
            raise ValueError(
                f"A channel name must have 1 to {MAX_CHANNEL_LENGTH} characters,"
                f" got {len(channel)}."
            )
        if not channel.isascii():  # free for ASCII: CPython knows it already
            try:
                channel.encode()
            except UnicodeEncodeError:
                raise ValueError(
                    f"A channel name must be text that UTF-8 can encode, got"
                    f" {channel!r} (a lone surrogate?)."
                ) from None
    return channels


#: Connection ids left out of a push; empty for most pushes.
Excluded = frozenset[str]
NOBODY: Excluded = frozenset()


def check_exclude(exclude: t.Any) -> Excluded:
    """The connection ids ``exclude`` names: a page socket (``g.socket``), a
    connection id, or a list, tuple or set of either. A page socket without
    an id (none issued, none named by the request) names nobody."""
    if exclude is None:  # every push but a few: nothing more to pay
        return NOBODY
    # Here, as page_socket imports this module.
    from .identity import is_valid_connection_id
    from .page_socket import PageSocket

    items = (
        exclude if isinstance(exclude, (list, tuple, set, frozenset)) else (exclude,)
    )
    ids = set()
    for item in items:
        if isinstance(item, PageSocket):
            page_id = item._existing_id()
            if page_id is not None:
                ids.add(page_id)
        elif is_valid_connection_id(item):
            ids.add(item)
        else:
            raise TypeError(
                "push(exclude=...) takes a page socket (g.socket), a connection"
                f" id, or a list of them, got {type(item).__name__} {item!r:.80}."
            )
    return frozenset(ids)


def encode_heads(
    dumps: t.Callable[..., str], message: t.Any, channels: tuple[str, ...]
) -> list[tuple[str, bytes]]:
    """Begin a ``{"channel", "payload", ...`` envelope for each channel.

    The message is serialized once, with the application's JSON provider
    (``dumps``) so that it accepts what :func:`flask.jsonify` accepts. NaN and
    infinities are refused: browsers cannot parse them. The backend closes
    each envelope with the channel's next position, see
    :func:`~flask_realtime.history.frame_with_position`.
    """
    try:
        payload = dumps(message, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise type(e)(f"The message cannot be sent as JSON: {e}") from e
    return [
        (channel, f'{{"channel":{json.dumps(channel)},"payload":{payload}'.encode())
        for channel in channels
    ]
