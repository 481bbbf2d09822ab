"""What flask-realtime keeps for each application."""

from __future__ import annotations

import typing as t

from . import identity
from .backends import create_backend
from .pushing import check_channels
from .pushing import encode_heads
from .ratelimit import RateLimits
from .settings import Settings
from .signals import message_pushed

if t.TYPE_CHECKING:
    from flask import Flask

    from .messages import Handler


class AppState:
    """The settings and backend of one application."""

    def __init__(self, settings: Settings, handlers: t.Mapping[str, Handler]) -> None:
        self.settings = settings
        #: The actions clients may send, shared by every app of an extension.
        self.handlers = handlers
        self.backend = create_backend(settings)
        #: Each connection id's message bucket, kept across reconnects.
        self.rate_limits = RateLimits(settings.message_rate, settings.message_burst)

    def push(self, app: Flask, message: t.Any, channels: tuple[t.Any, ...]) -> None:
        names = check_channels(channels, "push")
        for channel, head in encode_heads(app.json.dumps, message, names):
            self.backend.publish(channel, head)
        if message_pushed.receivers:
            message_pushed.send(app, message=message, channels=names)

    def disconnect(self, channels: tuple[t.Any, ...]) -> None:
        self.backend.disconnect(channels=check_channels(channels, "disconnect"))

    def end_session(self, socket_key: str) -> None:
        self.backend.disconnect(sessions=(identity.session_tag(socket_key),))
