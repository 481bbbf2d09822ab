"""The chat's own socket actions, "here" and "typing": messages the page
sends with ``realtime.send("here", {room})``, not routes. They have no HTTP
form and need none: a page without its socket is in no one's list, and
nothing is lost if a "typing" never arrives.

Handlers belong to the ``Realtime`` instance, so this module registers on
``realtime`` when it is imported, once, whatever the number of apps.
"""

from __future__ import annotations

import typing as t

from flask import g

from flask_realtime import HandlerError

from . import realtime
from .helpers import channel
from .helpers import current_name
from .helpers import is_room


def _room_of(message: dict[str, t.Any]) -> str:
    room = message.get("room")
    if not is_room(room):
        # An error reply to the sender; the socket stays open.
        raise HandlerError("invalid_room", "The room must be a room's name.")
    return room


@realtime.handler("here")
def page_is_here(message: dict[str, t.Any]) -> str:
    """The page's socket is open: it is present in its room, under the
    user's name (a user's tabs go under one key), until it closes or
    leaves. The room route does not track: a GET that never connects (a
    crawler, curl) would make every page in the room see a join."""
    room = _room_of(message)
    try:
        g.socket.track(channel(room), current_name())
    except ValueError:
        # Not subscribed: the page is of another room, or has left this one.
        raise HandlerError("not_in_room", "This page is not in the room.") from None
    return "ok"


@realtime.handler("typing")
def user_is_typing(message: dict[str, t.Any]) -> str:
    room = _room_of(message)
    # Only for a room where the user is present, so that a page cannot
    # tell a room it is not in. The check is by name, not by page (the
    # library lists who is present, not which socket is subscribed): a
    # user with a tab in the room may type there from another tab, which
    # says nothing false.
    if current_name() not in realtime.presence(channel(room)):
        raise HandlerError("not_in_room", "This page is not in the room.")
    # The name comes from the session of the socket's handshake, never from
    # the message, so a page cannot type as someone else. Everyone in the
    # room is told but the page that types.
    g.socket.push({"typing": current_name()}, channel(room), exclude=g.socket)
    return "ok"
