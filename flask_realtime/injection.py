"""Writing the page's connection id into the ``<body>`` tag of HTML responses."""

from __future__ import annotations

import re
import typing as t

from flask import g
from flask import Response
from markupsafe import escape

from .protocol import BODY_CONNECTION_ID_ATTRIBUTE
from .protocol import BODY_PATH_ATTRIBUTE

_BODY_TAG = re.compile(rb"<body(?=[\s>/])", re.IGNORECASE)


def wants_injection(response: Response) -> bool:
    """Whether the response is a page a browser shows, held whole in memory.

    Streamed responses are left alone (their body cannot be rewritten without
    consuming it) and so are redirects, whose bodies nobody sees.
    """
    return (
        response.mimetype == "text/html"
        and not response.is_streamed
        and not response.direct_passthrough
        and not 300 <= response.status_code < 400
    )


def mark_page_as_realtime() -> None:
    """Have the current page's response carry a connection id, in the
    ``"auto"`` mode of ``REALTIME_INJECT``; ``realtime_script()`` calls it."""
    g._realtime_page = True


def page_uses_realtime() -> bool:
    """Whether the current request used the page's socket: it issued or named
    a connection id (``g.socket.subscribe()``, ``socket_connection_id`` in a
    template), or rendered ``realtime_script()``. Other pages stay plain: no
    id, no session cookie, no write to the backend."""
    socket = g.get("socket")
    issued = socket is not None and socket._connection_id is not None
    return issued or g.get("_realtime_page", False)


def inject(
    response: Response, connection_id: t.Callable[[], str], socket_path: str
) -> None:
    """Add the id and socket path to the first ``<body>`` tag, if any and if
    the page does not carry them already. ``connection_id`` is called only
    then, so that a fragment without a ``<body>`` issues no id."""
    data = response.get_data()
    match = _BODY_TAG.search(data)
    if match is None:
        return
    tag_end = data.find(b">", match.end())
    if BODY_CONNECTION_ID_ATTRIBUTE.encode() in data[match.end() : tag_end]:
        return
    attributes = (
        f' {BODY_CONNECTION_ID_ATTRIBUTE}="{escape(connection_id())}"'
        f' {BODY_PATH_ATTRIBUTE}="{escape(socket_path)}"'
    ).encode()
    response.set_data(data[: match.end()] + attributes + data[match.end() :])
