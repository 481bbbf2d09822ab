"""Presence: which pages are on a channel, under keys of the app's.

A page's socket is *tracked* on a channel it is subscribed to, under a key
(a user id, say) and with a meta (any JSON). The subscribers of the channel
get its changes as frames (see ``docs/protocol.rst``)::

    {"channel": c, "presence_state": {key: [{"ref": r, "meta": m}, ...]}}
    {"channel": c, "presence": {"joins": {key: [...]}, "leaves": {key: [...]}}}

``ref`` is a random token of the tracked socket on that channel, so that a
client tells a member's tabs apart without learning anything of theirs.

Both backends keep a member as two JSON texts: its key, and its *entry*
``{"ref": ..., "meta": ...}``. Frames are spliced from them, here and in the
Redis backend's Lua scripts, without decoding a meta again.
"""

from __future__ import annotations

import json
import secrets
import typing as t

from . import frames

#: Longest presence key, in characters.
MAX_KEY_LENGTH = 256
#: Largest meta, in bytes of JSON (UTF-8).
MAX_META_SIZE = 4096


class Member(t.NamedTuple):
    """A tracked socket on one channel, as JSON texts."""

    key: str
    entry: str


def check_key(key: t.Any) -> str:
    """The key as JSON text, or a clear error."""
    if not isinstance(key, str):
        raise TypeError(
            f"track() takes the key as a string, got {type(key).__name__}:"
            " use str(user.id)."
        )
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValueError(
            f"A presence key must have 1 to {MAX_KEY_LENGTH} characters,"
            f" got {len(key)}."
        )
    # ASCII only, so that the text never holds a raw newline (the Redis
    # backend stores key and entry on either side of one).
    return json.dumps(key)


def encode_meta(dumps: t.Callable[..., str], meta: t.Any) -> str:
    """The meta as JSON text, encoded by the app's JSON provider (as pushes
    are), or a clear error."""
    try:
        text = dumps(meta, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise type(e)(f"The presence meta cannot be sent as JSON: {e}") from e
    size = len(text.encode())
    if size > MAX_META_SIZE:
        raise ValueError(
            f"A presence meta may take at most {MAX_META_SIZE} bytes of JSON,"
            f" got {size}. Keep what every subscriber needs (a name, an"
            " avatar URL) and fetch the rest when it is needed."
        )
    return text


def new_ref() -> str:
    """A tracked socket's ref: random, so that it tells nothing of the
    socket, its id or its session."""
    return secrets.token_urlsafe(8)


def entry(ref: str, meta_json: str) -> str:
    return f'{{"ref":"{ref}","meta":{meta_json}}}'


def ref_of(entry_json: str) -> str:
    return entry_json[8:].partition('"')[0]  # see entry()


def not_subscribed(channel: str) -> ValueError:
    return ValueError(
        f"The socket is not subscribed to channel {channel!r:.80}; subscribe"
        " it before tracking it there."
    )


def _grouped(members: t.Iterable[Member]) -> str:
    """``{key: [entry, ...], ...}``: a member's sockets under one key."""
    groups: dict[str, list[str]] = {}
    for key, entry_json in members:
        groups.setdefault(key, []).append(entry_json)
    return "{" + ",".join(f"{k}:[{','.join(v)}]" for k, v in groups.items()) + "}"


def state_frame(channel: str, members: t.Iterable[Member]) -> bytes:
    """The whole presence of a channel, for a socket that needs it."""
    return frames.text_frame(
        f'{{"channel":{json.dumps(channel)},"presence_state":{_grouped(members)}}}'.encode()
    )


def diff_frame(
    channel: str, joins: t.Iterable[Member] = (), leaves: t.Iterable[Member] = ()
) -> bytes:
    """A change of a channel's presence: members that joined (or changed
    their meta) and members that left."""
    return frames.text_frame(
        f'{{"channel":{json.dumps(channel)},"presence":{{"joins":{_grouped(joins)},'
        f'"leaves":{_grouped(leaves)}}}}}'.encode()
    )


def listing(members: t.Iterable[Member]) -> dict[str, list[t.Any]]:
    """``{key: [meta, ...]}``, for :meth:`Realtime.presence
    <flask_realtime.Realtime.presence>`."""
    found: dict[str, list[t.Any]] = {}
    for key, entry_json in members:
        found.setdefault(json.loads(key), []).append(json.loads(entry_json)["meta"])
    return found


def parse_stored(value: bytes) -> Member:
    """A member as the Redis backend stores it: key, newline, entry."""
    key, _, entry_json = value.decode().partition("\n")
    return Member(key, entry_json)


class Roster:
    """The members of every channel, by socket digest: the memory backend's
    presence. Not thread-safe: its backend's lock guards it."""

    def __init__(self) -> None:
        self._channels: dict[str, dict[str, Member]] = {}

    def track(
        self, channel: str, digest: str, key_json: str, meta_json: str
    ) -> tuple[list[Member], list[Member]] | None:
        """Add or change a member; returns the joins and leaves to tell the
        subscribers, or None if nothing changed. Tracked again under the
        same key, a socket keeps its ref and only its meta changes; under
        another key it leaves the old one and joins with a new ref."""
        members = self._channels.setdefault(channel, {})
        old = members.get(digest)
        leaves = []
        if old is not None and old.key == key_json:
            ref = ref_of(old.entry)
        else:
            ref = new_ref()
            if old is not None:
                leaves.append(old)
        member = Member(key_json, entry(ref, meta_json))
        if member == old:
            return None
        members[digest] = member
        return [member], leaves

    def untrack(self, channel: str, digest: str) -> Member | None:
        members = self._channels.get(channel)
        if members is None:
            return None
        member = members.pop(digest, None)
        if not members:
            del self._channels[channel]
        return member

    def members(self, channel: str) -> list[Member]:
        return list(self._channels.get(channel, {}).values())

    def has(self, channel: str) -> bool:
        """Whether the channel has members."""
        return channel in self._channels
