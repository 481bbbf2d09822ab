"""What flask-realtime keeps for each application."""

from __future__ import annotations

import logging
import threading
import typing as t

from . import identity
from .backends import create_backend
from .flusher import Flusher
from .instance_listeners import Dispatcher
from .instance_listeners import InstanceListener
from .instance_listeners import ListenerFunction
from .presence import listing
from .protocol import CLOSE_SERVICE_RESTART
from .pushing import check_channels
from .pushing import check_exclude
from .pushing import encode_heads
from .ratelimit import RateLimits
from .settings import Settings
from .signals import message_pushed
from .stats import Stats

logger = logging.getLogger("flask_realtime")

if t.TYPE_CHECKING:
    from flask import Flask

    from .connection import Connection
    from .messages import Handler


class AppState:
    """The settings and backend of one application."""

    def __init__(self, settings: Settings, handlers: t.Mapping[str, Handler]) -> None:
        self.settings = settings
        #: The actions clients may send, shared by every app of an extension.
        self.handlers = handlers
        #: Holds the pushes of REALTIME_WRITE_DELAY; None without a delay.
        self.flusher = (
            Flusher(settings.write_delay, settings.max_backlog)
            if settings.write_delay
            else None
        )
        self.backend = create_backend(settings, self.flusher)
        #: Each connection id's message bucket, kept across reconnects.
        self.rate_limits = RateLimits(settings.message_rate, settings.message_burst)
        self.stats = Stats()
        #: Runs the functions of realtime.listen(), off the delivery path.
        self.listen_dispatcher = Dispatcher()
        #: Whether this process is draining: new sockets are closed at once.
        self.draining = False
        self._live: set[Connection] = set()
        self._live_changed = threading.Condition()
        self._drain_lock = threading.Lock()
        self._drained = False

    def push(
        self,
        app: Flask,
        message: t.Any,
        channels: tuple[t.Any, ...],
        exclude: t.Any = None,
    ) -> None:
        names = check_channels(channels, "push")
        excluded = check_exclude(exclude)
        for channel, head in encode_heads(app.json.dumps, message, names):
            self.backend.publish(channel, head, excluded)
            self.stats.pushes += 1
        if message_pushed.receivers:
            message_pushed.send(app, message=message, channels=names)

    def add_live(self, connection: Connection) -> bool:
        """Count a socket that starts; False if the process is draining."""
        with self._live_changed:
            if self.draining:
                return False
            self._live.add(connection)
            return True

    def live_connections(self) -> list[Connection]:
        """The sockets open in this process right now."""
        with self._live_changed:
            return list(self._live)

    def remove_live(self, connection: Connection) -> None:
        with self._live_changed:
            self._live.discard(connection)
            self._live_changed.notify_all()

    def drain(self, timeout: float = 10.0) -> None:
        """Close every socket of this process with 1012, after what is queued
        for it, wait up to ``timeout`` seconds for them to end, then release
        the backend. Once: a second call (the exit hook after a server's
        stop) waits for the first."""
        with self._drain_lock:
            if self._drained:
                return
            self._drained = True
            self._drain(timeout)

    def _drain(self, timeout: float) -> None:
        with self._live_changed:
            self.draining = True
            live = list(self._live)
        for connection in live:
            connection.close(CLOSE_SERVICE_RESTART, "service restart")
        with self._live_changed:
            if not self._live_changed.wait_for(lambda: not self._live, timeout):
                # Their threads still need the backend to detach.
                logger.warning(
                    "%d sockets were still open %s s after the drain began;"
                    " the backend is left open for them",
                    len(self._live),
                    timeout,
                )
                return
        self.backend.close()

    def listen(self, channel: str, function: ListenerFunction) -> t.Callable[[], None]:
        (name,) = check_channels((channel,), "listen")
        if not callable(function):
            raise TypeError(
                f"listen() takes a function to call, got {type(function).__name__}."
            )
        listener = InstanceListener(function, self.listen_dispatcher)
        self.backend.listen(name, listener)
        stopped = False

        def stop() -> None:
            nonlocal stopped
            if not stopped:
                stopped = True
                self.backend.unlisten(name, listener)

        return stop

    def presence(self, channel: str) -> dict[str, list[t.Any]]:
        (name,) = check_channels((channel,), "presence")
        return listing(self.backend.presence(name))

    def disconnect(self, channels: tuple[t.Any, ...]) -> None:
        self.backend.disconnect(channels=check_channels(channels, "disconnect"))

    def end_session(self, socket_key: str) -> None:
        self.backend.disconnect(sessions=(identity.session_tag(socket_key),))
