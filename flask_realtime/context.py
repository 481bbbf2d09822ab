"""The current request's socket, for application code."""

from __future__ import annotations

import typing as t

from flask import g
from flask import has_request_context
from flask import request
from werkzeug.local import LocalProxy

from .live_socket import LIVE_SOCKET_ENVIRON_KEY

if t.TYPE_CHECKING:
    from .page_socket import PageSocket


def _page_socket() -> PageSocket:
    try:
        return t.cast("PageSocket", g.socket)
    except AttributeError:
        raise RuntimeError(
            "There is no page socket here: 'current_socket' works in a request"
            " of an application that flask-realtime is registered on."
        ) from None


#: ``g.socket``, typed: the :class:`~flask_realtime.PageSocket` of the
#: current request, for code that type checkers read.
#:
#: .. versionadded:: 0.1
current_socket: PageSocket = t.cast("PageSocket", LocalProxy(_page_socket))


def is_socket_call() -> bool:
    """Whether the current request came over a socket: a route called with
    ``realtime.call()``, or a handler of a message. ``False`` outside a
    request.

    Such a request was sent by a page of the app's own origins (the
    handshake's ``Origin`` was checked) and carries the handshake's cookies,
    which no other site can make a socket send. CSRF protection may skip it:

    .. code-block:: python

        app.config["WTF_CSRF_CHECK_DEFAULT"] = False

        @app.before_request
        def check_csrf():
            if not is_socket_call():
                csrf.protect()

    .. versionadded:: 0.1
    """
    return has_request_context() and LIVE_SOCKET_ENVIRON_KEY in request.environ
