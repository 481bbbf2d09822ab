"""The chat's own socket action, "typing": a message the page sends with
``realtime.send("typing", {room})``, not a route. It has no HTTP form and
needs none: nothing is lost if a "typing" never arrives.

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


@realtime.handler("typing")
def user_is_typing(message: dict[str, t.Any]) -> str:
    room = message.get("room")
    if not is_room(room):
        # An error reply to the sender; the socket stays open.
        raise HandlerError("invalid_room", "The room must be a room's name.")
    # The name comes from the session of the socket's handshake, never from
    # the message, so a page cannot type as someone else. Everyone in the
    # room is told but the page that types.
    g.socket.push({"typing": current_name()}, channel(room), exclude=g.socket)
    return "ok"
