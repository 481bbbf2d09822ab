"""The chat's routes: a page per room, and posting to a room."""

from __future__ import annotations

import re
import typing as t
from datetime import datetime
from datetime import timezone

from flask import abort
from flask import Blueprint
from flask import current_app
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import Response
from flask import url_for

from .store import MessageStore

bp = Blueprint("chat", __name__)

ROOMS = ("lobby", "python", "random")
MAX_AUTHOR_LENGTH = 40
MAX_TEXT_LENGTH = 500

_ROOM_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")


def _store() -> MessageStore:
    store: MessageStore = current_app.extensions["example_app.messages"]
    return store


def _check_room(name: str) -> str:
    if not _ROOM_NAME.match(name):
        abort(404)
    return name


def _channel(room: str) -> str:
    return f"room:{room}"


def _bad_request(message: str) -> Response:
    return Response(message, 400, mimetype="text/plain")


@bp.get("/")
def index() -> Response:
    return redirect(url_for("chat.room", name="lobby"))


@bp.get("/rooms/<name>")
def room(name: str) -> str:
    room = _check_room(name)
    # The page's socket receives this room's messages, from the moment it
    # connects.
    g.socket.subscribe(_channel(room))
    return render_template(
        "room.html",
        room=room,
        channel=_channel(room),
        rooms=ROOMS,
        messages=_store().recent(room),
    )


def _fields() -> t.Mapping[str, t.Any]:
    """The posted fields: a JSON object from the page script (over the
    socket with ``realtime.call()``, or its HTTP fallback), a form otherwise."""
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return request.form


@bp.post("/rooms/<name>/messages")
def post_message(name: str) -> Response:
    room = _check_room(name)
    fields = _fields()
    author, text = fields.get("author", ""), fields.get("text", "")
    if not isinstance(author, str) or not isinstance(text, str):
        return _bad_request("The name and the message must be text.")
    author = author.strip() or "anonymous"
    text = text.strip()
    if len(author) > MAX_AUTHOR_LENGTH:
        return _bad_request(
            f"The name must have at most {MAX_AUTHOR_LENGTH} characters."
        )
    if not text:
        return _bad_request("The message is empty.")
    if len(text) > MAX_TEXT_LENGTH:
        return _bad_request(
            f"The message must have at most {MAX_TEXT_LENGTH} characters."
        )
    message = {
        "author": author,
        "text": text,
        "room": room,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    _store().add(room, message)
    g.socket.push(message, _channel(room))
    if request.is_json:
        response = jsonify(message)
        response.status_code = 201
        return response
    if request.headers.get("X-Requested-With") == "fetch":
        return Response(status=204)
    # Without JavaScript the form posts normally: back to the room page.
    return redirect(url_for("chat.room", name=room), 303)
