"""The chat's routes: a page per room, posting to a room, and leaving and
joining a room's channel over the socket."""

from __future__ import annotations

import typing as t
from datetime import datetime
from datetime import timezone

from flask import Blueprint
from flask import current_app
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import Response
from flask import url_for
from flask.typing import ResponseReturnValue

from flask_realtime import is_socket_call

from . import realtime
from .helpers import bad_request
from .helpers import channel
from .helpers import check_room
from .helpers import current_name
from .helpers import is_logged_in
from .helpers import ROOMS
from .store import MessageStore

bp = Blueprint("chat", __name__)

MAX_TEXT_LENGTH = 500


def _store() -> MessageStore:
    store: MessageStore = current_app.extensions["example_app.messages"]
    return store


@bp.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("chat.room", name="lobby"))


@bp.get("/rooms/<name>")
def room(name: str) -> str:
    room = check_room(name)
    # The page's socket receives this room's messages, from the moment it
    # connects.
    g.socket.subscribe(channel(room))
    # Not present in the room yet: a GET alone (a crawler, curl) would make
    # everyone see a join, and a leave a minute later. The page tracks
    # itself once its socket is open, with the "here" action (handlers.py).
    return render_template(
        "room.html",
        room=room,
        channel=channel(room),
        rooms=ROOMS,
        messages=_store().recent(room),
        user_name=current_name(),
        logged_in=is_logged_in(),
        # Who is here, for the first render (this page is not, yet); the
        # page script keeps the list current from the socket's presence
        # frames.
        present=realtime.presence(channel(room)),
    )


def _fields() -> t.Mapping[str, t.Any]:
    """The posted fields: a JSON object from the page script (over the
    socket with ``realtime.call()``, or its HTTP fallback), a form otherwise."""
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return request.form


@bp.post("/rooms/<name>/messages")
def post_message(name: str) -> ResponseReturnValue:
    room = check_room(name)
    text = _fields().get("text", "")
    if not isinstance(text, str):
        return bad_request("The message must be text.")
    text = text.strip()
    if not text:
        return bad_request("The message is empty.")
    if len(text) > MAX_TEXT_LENGTH:
        return bad_request(
            f"The message must have at most {MAX_TEXT_LENGTH} characters."
        )
    message = {
        "author": current_name(),
        "text": text,
        "room": room,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    _store().add(room, message)
    # Everyone in the room but the page that sent it: that page shows the
    # message from this route's reply, so it must not get it twice. A form
    # posted without JavaScript comes from no page socket (g.socket has no
    # id), so nobody is left out, and the room page it is sent back to
    # shows the message.
    g.socket.push(message, channel(room), exclude=g.socket)
    if request.is_json:
        response = jsonify(message)
        response.status_code = 201
        return response
    if request.headers.get("X-Requested-With") == "fetch":
        return Response(status=204)
    # Without JavaScript the form posts normally: back to the room page.
    return redirect(url_for("chat.room", name=room), 303)


def _page_socket_or_400() -> Response | None:
    # Leaving and joining act on a page's live subscriptions. A request from
    # no page (no socket, no X-Socket-Connection-Id header) would have
    # g.socket issue a new id, subscribed to nothing, for nothing.
    if is_socket_call() or "X-Socket-Connection-Id" in request.headers:
        return None
    return bad_request("Leave and join a room from its page, with realtime.call().")


@bp.post("/rooms/<name>/leave")
def leave(name: str) -> Response:
    room = check_room(name)
    if (refused := _page_socket_or_400()) is not None:
        return refused
    # Over the socket, g.socket is the live connection: pushes to the room
    # stop reaching this page at once, and it is no longer present there
    # (unsubscribing untracks). Its messages stay on the page.
    g.socket.unsubscribe(channel(room))
    return jsonify(room=room, listening=False)


@bp.post("/rooms/<name>/join")
def join(name: str) -> Response:
    room = check_room(name)
    if (refused := _page_socket_or_400()) is not None:
        return refused
    # New pushes only: what was pushed while the page was out is not sent
    # now (the page says so; a reload shows the room's last messages).
    g.socket.subscribe(channel(room))
    g.socket.track(channel(room), current_name())
    return jsonify(room=room, listening=True)
