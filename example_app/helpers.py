"""What the routes and the socket's handlers share: room names and their
channels, who the user is, and plain-text 400s."""

from __future__ import annotations

import re
import typing as t
import unicodedata

from flask import abort
from flask import current_app
from flask import Response
from flask import session

ROOMS = ("lobby", "python", "random")
#: What visitors who have not logged in are called, with a number.
GUEST_PREFIX = "anonymous-"

_ROOM_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")


def is_room(name: object) -> t.TypeGuard[str]:
    return isinstance(name, str) and _ROOM_NAME.match(name) is not None


def check_room(name: str) -> str:
    if not is_room(name):
        abort(404)
    return name


def channel(room: str) -> str:
    return f"room:{room}"


def normalise_name(name: str) -> str:
    """A name as it is kept and shown: NFKC (a fullwidth "ａ" is "a"),
    without format or control characters (zero-width spaces, direction
    overrides), which would let one name look like another."""
    name = unicodedata.normalize("NFKC", name)
    kept = (c for c in name if unicodedata.category(c) not in ("Cf", "Cc"))
    return "".join(kept).strip()


def is_guest_name(name: str) -> bool:
    """Whether a name looks like a guest's: case aside, and with any dash
    (a non-breaking hyphen, say) as "-". Run on a normalised name."""
    skeleton = "".join(
        "-" if unicodedata.category(c) == "Pd" else c for c in name.casefold()
    )
    return skeleton.startswith(GUEST_PREFIX)


def bad_request(message: str) -> Response:
    return Response(message, 400, mimetype="text/plain")


def current_name() -> str:
    """The logged-in name, or a guest name, ``anonymous-<n>``, that the
    session keeps, so that a visitor's messages and tabs go under one name.

    In a socket's handler this is the session of the socket's handshake,
    which is why logging in or out ends the session's sockets (see
    ``auth.py``).
    """
    name = session.get("name") or session.get("guest")
    if not isinstance(name, str):
        # itertools.count: next() is atomic, so two threads never get the
        # same number.
        guests: t.Iterator[int] = current_app.extensions["example_app.guests"]
        name = session["guest"] = f"{GUEST_PREFIX}{next(guests)}"
    return name


def is_logged_in() -> bool:
    return isinstance(session.get("name"), str)
