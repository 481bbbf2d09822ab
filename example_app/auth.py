"""A login by name, kept in Flask's session, and logout.

There is no password: this shows how a session and its sockets belong
together, not how to authenticate anyone. Anyone may log in as ``ann``.

Both are plain form posts, with or without JavaScript, and never
``realtime.call()``: only an HTTP response can set the browser's session
cookie.
"""

from __future__ import annotations

from flask import Blueprint
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue

from .helpers import bad_request
from .helpers import check_room
from .helpers import GUEST_PREFIX
from .helpers import is_guest_name
from .helpers import normalise_name

bp = Blueprint("auth", __name__)

MAX_NAME_LENGTH = 40


def _room_to_return_to() -> str:
    # A room name, not a URL, so that the form cannot send anyone to
    # another site. Checked before the session changes.
    return check_room(request.form.get("room", "lobby"))


@bp.post("/login")
def login() -> ResponseReturnValue:
    room = _room_to_return_to()
    # Normalised before any check, and kept so: "anonymous\u20111" or
    # "\u200banonymous-1" must not pass for a guest, nor "ann\u200b" for ann.
    name = normalise_name(request.form.get("name", ""))
    if not name:
        return bad_request("The name is empty.")
    if len(name) > MAX_NAME_LENGTH:
        return bad_request(f"The name must have at most {MAX_NAME_LENGTH} characters.")
    if is_guest_name(name):
        return bad_request(f"Names beginning with {GUEST_PREFIX!r} are for guests.")
    # A new session for a new name. Clearing the old one ends its sockets
    # (close code 4003), in every tab: their handshakes carried the guest's
    # session, and they would go on posting under the guest's name.
    session.clear()
    session["name"] = name
    return redirect(url_for("chat.room", name=room), 303)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    room = _room_to_return_to()
    # Ends this browser's sockets in every tab, with close code 4003: a
    # socket runs with the session of its handshake, so it must not outlive
    # it. The pages notice (the client's "ended" event, in room.html).
    session.clear()
    return redirect(url_for("chat.room", name=room), 303)
