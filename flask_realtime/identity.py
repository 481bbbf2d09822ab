"""Socket keys, connection ids and their digests.

The *socket key* is a random secret per browser session, kept in Flask's
signed session. The *connection id* is a random id per rendered page,
written into the page. Subscriptions are stored under the *digest*, an
HMAC-SHA256 of the id under the key, so an id seen by someone else is
worthless to them: with their own session they compute another digest.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import typing as t

from flask import current_app
from flask import request
from flask import session
from flask.globals import request_ctx

from .protocol import CONNECTION_ID_HEADER
from .protocol import CONNECTION_ID_PARAM
from .protocol import SOCKET_KEY_HEADER
from .protocol import SOCKET_KEY_PARAM

#: Session field that holds the socket key.
SESSION_KEY_FIELD = "_realtime_socket_key"

# Ids and keys we issue are 43 URL-safe characters. Keys a client presents
# itself must be as hard to guess, so at least 32 characters.
_CONNECTION_ID = re.compile(r"[A-Za-z0-9_-]{16,128}\Z")
_PRESENTED_KEY = re.compile(r"[\x21-\x7e]{32,256}\Z")


def new_connection_id() -> str:
    """A fresh random connection id (256 bits)."""
    return secrets.token_urlsafe(32)


def is_valid_connection_id(value: object) -> bool:
    """Whether ``value`` has the shape of a connection id."""
    return isinstance(value, str) and _CONNECTION_ID.match(value) is not None


def digest(socket_key: str, connection_id: str) -> str:
    """The name a socket's subscriptions are kept under."""
    return hmac.new(
        socket_key.encode(), connection_id.encode(), hashlib.sha256
    ).hexdigest()


def session_tag(socket_key: str) -> str:
    """The name a browser session's sockets are ended by. Not a connection
    id (those are 16 characters or more), so never the digest of one."""
    return digest(socket_key, "session")


def ended_socket_key() -> str | None:
    """The socket key the current request's session held when the request
    came, if the request removed or replaced it (a logout that clears the
    session, say): the sockets opened under it must end.

    Only a modified session is looked at, and its state as it came is read
    again from the request, once.
    """
    current = _session_unmarked()
    if current is None or not getattr(current, "modified", False):
        return None
    now = current.get(SESSION_KEY_FIELD)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    came = app.session_interface.open_session(app, request)
    before = came.get(SESSION_KEY_FIELD) if came is not None else None
    if isinstance(before, str) and before != now:
        return before
    return None


def _session_unmarked() -> t.Any:
    """The request's session, without marking it accessed.

    Since Flask 3.1, every read through ``session`` marks the session
    accessed, which adds ``Vary: Cookie`` to the response and makes a page
    that never used the session uncacheable. Flask 3.0 keeps it in
    ``session``, 3.1 in ``_session``.
    """
    attributes = vars(request_ctx._get_current_object())  # type: ignore[attr-defined]
    return attributes.get("_session", attributes.get("session"))


def presented_connection_id() -> str | None:
    """The connection id the current request names, if it names a valid one.

    The upgrade request carries it in the query string; an HTTP request that
    acts on an existing page's socket carries it in a header or a form field.
    """
    value = request.headers.get(CONNECTION_ID_HEADER) or request.values.get(
        CONNECTION_ID_PARAM
    )
    return value if is_valid_connection_id(value) else None


def socket_key(*, create: bool, upgrade: bool = False) -> str | None:
    """The socket key of the current request.

    The session's key, if it holds one: a session never adopts a key the
    client presents, or a link could plant a key of an attacker's choosing
    in a logged-in user's page. Otherwise a key the client presents itself
    (clients that keep no cookies): in the ``X-Realtime-Socket-Key`` header,
    which a cross-site request cannot set, or, on the upgrade request alone
    (``upgrade``), whose Origin is checked, in the ``socket_key`` query
    parameter. With ``create``, a session without either gets a new key.
    """
    key = session.get(SESSION_KEY_FIELD)
    if isinstance(key, str):
        return key
    presented = request.headers.get(SOCKET_KEY_HEADER)
    if presented is None and upgrade:
        presented = request.args.get(SOCKET_KEY_PARAM)
    if presented is not None:
        return presented if _PRESENTED_KEY.match(presented) else None
    if not create:
        return None
    key = secrets.token_urlsafe(32)
    try:
        session[SESSION_KEY_FIELD] = key
    except RuntimeError as e:
        raise RuntimeError(
            "flask-realtime keeps each browser's socket key in the session,"
            " which needs a secret key. Set 'app.secret_key' or 'SECRET_KEY'."
        ) from e
    return key
