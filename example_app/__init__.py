"""A small chat: the example application of Flask-Realtime.

Run it with ``flask --app example_app run`` (or ``scripts/run-example.sh``).
"""

from __future__ import annotations

import itertools
import os
import typing as t

from flask import Flask

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

    app.register_blueprint(views.bp)
    app.register_blueprint(auth.bp)
    return app
