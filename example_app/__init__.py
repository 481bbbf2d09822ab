"""A small chat: the example application of Flask-Realtime.

Run it with ``flask --app example_app run`` (or ``scripts/run-example.sh``).
"""

from __future__ import annotations

import itertools
import os
import typing as t
from urllib.parse import urlsplit

from flask import abort
from flask import Flask
from flask import request

from flask_realtime import Realtime

from .store import MessageStore

realtime = Realtime()


def create_app(test_config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """Create and configure the chat application."""
    app = Flask(__name__)
    app.config.from_mapping(
        # Signs the session cookie, which holds each browser's socket key.
        # The default is for development only: set SECRET_KEY in production.
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev - change me"),
        # Browsers leave the cookie off cross-site form posts: a first line
        # against cross-site request forgery (see refuse_other_sites).
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if test_config is not None:
        app.config.from_mapping(test_config)

    realtime.init_app(app)
    app.extensions["example_app.messages"] = MessageStore()
    # Numbers for the guests' names, anonymous-1, anonymous-2...
    app.extensions["example_app.guests"] = itertools.count(1)

    # handlers registers the "typing" action on `realtime` when imported.
    from . import auth
    from . import handlers  # noqa: F401
    from . import views

    app.before_request(refuse_other_sites)
    app.register_blueprint(views.bp)
    app.register_blueprint(auth.bp)
    return app


def refuse_other_sites() -> None:
    """Refuse a POST that another site's page sent: a form there could post
    a message, or log the user out, with the user's cookie. The socket is
    protected already, by Flask-Realtime's Origin check at the handshake;
    plain form posts are not. Browsers send Origin with every cross-site
    POST; a request without one (curl, an old browser) comes from no page.
    """
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin is not None:
        if urlsplit(origin).netloc != request.host:
            abort(403)
