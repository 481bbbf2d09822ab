"""The :class:`Realtime` extension."""

from __future__ import annotations

import logging
import select
import socket
import typing as t
from weakref import WeakKeyDictionary

from flask import current_app
from flask import Flask
from flask import g
from flask import has_app_context
from flask import request
from flask import Response
from flask import session
from flask_sock import Sock
from werkzeug.local import LocalProxy

from . import endpoint
from . import identity
from . import injection
from . import messages
from . import routes
from . import shutdown
from .assets import AssetsBlueprint
from .assets import realtime_script
from .assets import STATIC_FOLDER
from .cli import realtime_cli
from .errors import BackendUnavailable
from .live_socket import LIVE_SOCKET_ENVIRON_KEY
from .messages import check_action_name
from .page_socket import PageSocket
from .settings import DEFAULTS
from .settings import load_settings
from .state import AppState

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient

    from .live_socket import LiveSocket
    from .messages import Handler
    from .testing import RealtimeTestClient

_EXTENSION_KEY = "realtime"
logger = logging.getLogger("flask_realtime")


def _check_platform() -> None:
    # Every write to a socket relies on both; Windows has neither.
    if not hasattr(socket, "MSG_DONTWAIT") or not hasattr(select, "poll"):
        raise RuntimeError(
            "flask-realtime runs on Linux, macOS and other POSIX systems, not"
            " on Windows. Use WSL (Windows Subsystem for Linux) or a container"
            " to develop on Windows."
        )


class Realtime:
    """Realtime channels over WebSockets for a Flask application.

    :param app: the application to register on; or call :meth:`init_app`
        later, once for each application.

    The extension keeps no reference to an application: its state for each
    application is held per application, so one instance can serve several.

    .. versionadded:: 0.1
    """

    def __init__(self, app: Flask | None = None) -> None:
        self._states: WeakKeyDictionary[Flask, AppState] = WeakKeyDictionary()
        self._handlers: dict[str, Handler] = {
            "ping": messages.ping,
            "call-route": routes.call_route,
        }
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register the extension on an application.

        Sets a default for every ``REALTIME_`` key the application's config
        lacks, then reads and checks them all, once: changing them afterwards
        has no effect. Adds the WebSocket endpoint at ``REALTIME_PATH``,
        ``g.socket`` in every request, ``socket_connection_id`` in templates
        and, as ``REALTIME_INJECT`` says, the id in HTML pages.

        :raises RuntimeError: if a ``Realtime`` instance is already registered
            on the application, or on Windows, which is not supported.
        :raises ~flask_realtime.ConfigurationError: for an invalid setting.
        """
        _check_platform()
        if _EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "A 'Realtime' instance is already registered on this app."
                " Import and use that instance instead of creating another."
            )
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        state = AppState(load_settings(app.config), self._handlers)
        self._states[app] = state
        shutdown.register(state)
        app.extensions[_EXTENSION_KEY] = self

        blueprint = AssetsBlueprint(
            "realtime",
            __name__,
            static_folder=STATIC_FOLDER,
            static_url_path=state.settings.path.rstrip("/") + "/static",
        )

        def socket(ws: t.Any) -> None:
            endpoint.serve(state, ws)

        Sock().route(state.settings.path, bp=blueprint, endpoint="socket")(socket)

        @blueprint.before_request
        def check_upgrade() -> None:
            if request.endpoint == "realtime.socket":
                endpoint.check_upgrade(state)

        app.register_blueprint(blueprint)

        def bind_page_socket() -> None:
            live = request.environ.get(LIVE_SOCKET_ENVIRON_KEY)
            if live is not None:  # a route called over the socket
                routes.refuse_if_not_callable(app, state.settings.call_endpoints)
                g.socket = live.page_socket()
            else:
                g.socket = PageSocket(current_app._get_current_object(), state)  # type: ignore[attr-defined]

        # First, so that the application's own before_request functions,
        # registered earlier, can use g.socket too.
        app.before_request_funcs.setdefault(None, []).insert(0, bind_page_socket)

        if state.settings.inject != "never":
            inject_always = state.settings.inject == "always"

            @app.after_request
            def inject_connection_id(response: Response) -> Response:
                if injection.wants_injection(response) and (
                    inject_always or injection.page_uses_realtime()
                ):
                    try:
                        injection.inject(
                            response,
                            lambda: g.socket.connection_id,
                            request.script_root + state.settings.path,
                        )
                    except BackendUnavailable:
                        # The page still works, only not in realtime.
                        logger.exception("No connection id for this page")
                return response

        @app.after_request
        def end_sockets_of_ended_session(response: Response) -> Response:
            key = identity.ended_socket_key()
            if key is not None and key != g.get("_realtime_ended_key"):
                try:
                    state.end_session(key)
                except BackendUnavailable:
                    # The logout itself must go through; the sockets' own
                    # leases end them later on Redis.
                    logger.exception("Could not end the sockets of an ended session")
            return response

        app.add_template_global(realtime_script, "realtime_script")
        app.cli.add_command(realtime_cli)

        @app.context_processor
        def template_context() -> dict[str, t.Any]:
            # Lazy, so that a template that does not use the id issues none.
            return {"socket_connection_id": LocalProxy(lambda: g.socket.connection_id)}

    def handler(
        self, action: str
    ) -> t.Callable[[messages.HandlerFunctionT], messages.HandlerFunctionT]:
        """Register a function that handles the messages of an action.

        .. code-block:: python

            @realtime.handler("typing")
            def typing(message):
                g.socket.push({"user": session["name"]}, f"room:{message['room']}")
                return "ok"

        The function gets the decoded message (a dict with ``action``, ``id``
        and whatever the client sent). It runs in a fresh application and
        request context built from the socket's handshake: ``session`` is the
        handshake's session and ``g.socket`` the live socket, so subscribing
        there takes effect at once. What it returns, which must be JSON
        serializable, is sent back as the reply's ``body``.

        If it raises, the client gets an error reply and the connection stays
        open. :exc:`~flask_realtime.HandlerError` replies with the app's own
        code and message; an HTTP exception (``abort(403)``) with the code
        ``http_error`` and its ``status``; neither is logged. Any other
        exception gives ``handler_failed`` (with details only in debug mode),
        is logged, and is sent with Flask's ``got_request_exception`` signal,
        as a failed request is, for error trackers.

        The decorator returns the function unchanged, type and all.

        :param action: the action name, 1 to 64 characters.
        :raises ValueError: if the action already has a handler, ``ping`` and
            ``call-route`` included.
        """
        check_action_name(action)
        if action in self._handlers:
            raise ValueError(
                f"The action {action!r} already has a handler; each action has"
                " exactly one."
            )

        def decorator(f: messages.HandlerFunctionT) -> messages.HandlerFunctionT:
            def handle(live: LiveSocket, message: dict[str, t.Any]) -> dict[str, t.Any]:
                return {"body": f(message)}

            self._handlers[action] = handle
            return f

        return decorator

    def http_only(self, view: routes.ViewT) -> routes.ViewT:
        """Mark a view as not callable over the socket, whatever
        :data:`REALTIME_CALL_ENDPOINTS` says. A ``call-route`` message for it
        gets the error ``route_not_callable`` and the route does not run;
        HTTP requests reach it as before.

        .. code-block:: python

            @app.post("/account/delete")
            @realtime.http_only
            def delete_account():
                ...

        Use it for routes the proxy guards (``deny``, ``auth_request``, body
        limits): calls over the socket never pass through the proxy. It may
        go above or below ``@app.route``. It marks the function it is given,
        and :func:`functools.wraps` carries the mark to outer decorators; one
        between it and ``@app.route`` that does not use ``wraps`` loses it.
        On a class-based view, mark the class, or the methods (``post``,
        ``delete``) that must not be called over the socket.
        """
        return routes.http_only(view)

    def test_client(
        self, app: Flask, flask_test_client: FlaskClient | None = None
    ) -> RealtimeTestClient:
        """A :class:`~flask_realtime.testing.RealtimeTestClient` for the
        application's own tests: render pages, connect their sockets, see what
        is pushed to them and send messages, in-process and synchronously.

        :param flask_test_client: share cookies (the session) with this Flask
            test client; by default a new one is made.
        """
        from .testing import RealtimeTestClient

        return RealtimeTestClient(self._state(self._app(app)), app, flask_test_client)

    def push(
        self,
        message: t.Any,
        *channels: str,
        exclude: PageSocket | str | t.Collection[PageSocket | str] | None = None,
        app: Flask | None = None,
    ) -> None:
        """Push a message to every socket subscribed to any of the channels.

        Works anywhere: in a request, in a background thread, outside any
        application context. Outside one, the application is the one this
        instance is registered on (pass ``app`` if there are several).

        .. code-block:: python

            # Everyone in the room but the page that sent the message:
            realtime.push(message, f"room:{room}", exclude=g.socket)

        :param message: anything the application's JSON provider can encode,
            as for :func:`flask.jsonify`.
        :param channels: one or more channel names.
        :param exclude: sockets that do not get this push, in any process,
            nor in a replay after they reconnect: a page socket
            (``g.socket``), a connection id, or a list of them.
        :raises TypeError: if no channel is given, a name is not a string,
            ``exclude`` names something else, or the message cannot be
            encoded as JSON.

        .. versionchanged:: 0.1
            The ``exclude`` parameter.
        """
        app = self._app(app)
        self._states[app].push(app, message, channels, exclude)

    def listen(
        self,
        channel: str,
        function: t.Callable[[t.Any], object],
        *,
        app: Flask | None = None,
    ) -> t.Callable[[], None]:
        """Call ``function(payload)`` in this process for every push to
        ``channel``, from any process: on ``memory://`` this process's
        pushes, on Redis every process's. Returns a function that stops
        listening.

        .. code-block:: python

            def forget_cached(payload):
                cache.delete(payload["key"])

            stop = realtime.listen("cache-invalidations", forget_cached)

        The functions run one at a time, in the order the pushes came, on a
        thread of their own, outside any application context (use
        ``app.app_context()`` inside if needed). One that raises is logged,
        and delivery goes on, to sockets and to the other functions. A
        function that takes long delays the others, never a socket; past
        10,000 pushes waiting, new ones are dropped with a warning.

        This is a channel between the app's processes, not a job queue: each
        push reaches each listening process at most once, while it listens.
        Nothing is replayed, nor kept for a process that was down, and a
        push reaches every listening process, not one of them. For work that
        must be done once and survive a restart, use a job queue.

        :raises TypeError: if the channel is not a string, or ``function``
            is not callable.
        :raises ~flask_realtime.BackendUnavailable: if Redis is.

        .. versionadded:: 0.1
        """
        app = self._app(app)
        return self._states[app].listen(channel, function)

    def presence(
        self, channel: str, *, app: Flask | None = None
    ) -> dict[str, list[t.Any]]:
        """Who is on a channel: ``{key: [meta, ...]}``, with one meta for each
        socket tracked under the key with :meth:`PageSocket.track`, from
        every process. Works anywhere, like :meth:`push`.

        .. code-block:: python

            @app.get("/rooms/<room>/people")
            def people(room):
                return realtime.presence(f"room:{room}")

        A member whose socket is gone is left out even before its leave is
        sent. Keys and metas come back as the JSON the pages get: a tuple
        in a meta is a list here.

        :raises TypeError: if the channel is not a string.
        :raises ~flask_realtime.BackendUnavailable: if Redis is.

        .. versionadded:: 0.1
        """
        app = self._app(app)
        return self._states[app].presence(channel)

    def disconnect(self, *channels: str, app: Flask | None = None) -> None:
        """End every socket subscribed to any of the channels, in every
        process: each is closed with code 4003 (session ended) and its id is
        forgotten, so it cannot reconnect. Sockets not connected right now
        (a page still loading, or one waiting to reconnect) are forgotten
        too.

        Works anywhere, like :meth:`push`. Use it to end a user's sockets
        when the user logs out or loses access:
        ``realtime.disconnect(f"user:{user.id}")``.

        :raises TypeError: if no channel is given or a name is not a string.

        .. versionadded:: 0.1
        """
        app = self._app(app)
        self._states[app].disconnect(channels)

    def end_session(self) -> None:
        """End every socket opened in the current request's browser session,
        as clearing the session does, and let the session get a new socket
        key. For logouts that keep the rest of the session, such as
        Flask-Login's ``logout_user()``, and for handlers of messages, whose
        changes to the session are not saved.

        .. versionadded:: 0.1
        """
        key = session.pop(identity.SESSION_KEY_FIELD, None)
        if isinstance(key, str):
            self._state(self._app(None)).end_session(key)
            g._realtime_ended_key = key  # so that the request's end skips it

    def shutdown(self, app: Flask | None = None, *, timeout: float = 10.0) -> None:
        """Drain this process's sockets, as it does by itself when it stops:
        refuse new ones, close each open one with code 1012 (service
        restart) after what is queued for it, wait up to ``timeout`` seconds
        for them to end, and release the backend. Their clients reconnect
        after a random delay and get what they missed.

        This runs by itself at the interpreter's exit (Werkzeug's server
        after Ctrl-C) and when a gunicorn worker begins a graceful stop; call
        it from a server's own stop hook otherwise. The process accepts no
        socket afterwards.

        .. versionadded:: 0.1
        """
        self._states[self._app(app)].drain(timeout)

    def stats(self, app: Flask | None = None) -> dict[str, t.Any]:
        """What this process's sockets are doing, as a dict that
        :func:`json.dumps` takes, for monitoring (see :ref:`what-to-watch`,
        and :mod:`flask_realtime.metrics` for Prometheus):

        - ``backend``: ``"memory"`` or ``"redis"``;
        - ``sockets_open``: sockets connected to this process;
        - ``ids_pending`` and ``ids_in_grace``: ids issued and not yet
          connected, and ids of sockets that dropped and may reconnect
          (memory backend; ``None`` on Redis, where they are every
          process's: ``flask realtime status`` counts them);
        - ``channels``: channels with a subscriber connected here;
        - ``backlog_bytes``: bytes waiting for slow clients, summed;
        - ``pushes``: messages published to a channel from this process
          (a push to three channels counts three);
        - ``frames_delivered``: push frames written or queued to the
          sockets of this process, replays included;
        - ``closes``: sockets that were accepted and then closed by the
          server, or whose connection was lost (1006), by close code (a
          string);
        - ``client_closes``: sockets the client closed, by close code:
          ``"1000"``, ``"1001"`` or ``"other"`` (a client may pick any code);
        - ``refusals``: sockets refused, by reason (``origin``,
          ``handshake``, ``connection_id``, ``positions``, ``no_socket_key``,
          ``unknown_id``, ``draining``, ``backend_unavailable``);
        - ``listener``: on Redis, the pub/sub listener's ``state``
          (``"connected"``, ``"reconnecting"``, or ``"stopped"`` while the
          process has no socket), its ``restarts`` and ``last_error``;
          ``None`` on the memory backend.

        The counters count from the start of the process. Works anywhere,
        like :meth:`push`.

        .. versionadded:: 0.1
        """
        state = self._states[self._app(app)]
        return state.stats.snapshot(state.live_connections(), state.backend)

    def _app(self, app: Flask | None) -> Flask:
        if app is None:
            if has_app_context() and current_app._get_current_object() in self._states:  # type: ignore[attr-defined]
                return t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
            apps = list(self._states.keys())
            if len(apps) != 1:
                raise RuntimeError(
                    "This 'Realtime' instance is registered on"
                    f" {len(apps)} applications; push inside an application"
                    " context or pass 'app='."
                    if apps
                    else "This 'Realtime' instance is not registered on any"
                    " application. Did you forget to call 'init_app'?"
                )
            return apps[0]
        if app not in self._states:
            raise RuntimeError(
                "The application is not registered with this 'Realtime'"
                " instance. Did you forget to call 'init_app'?"
            )
        return app

    def _state(self, app: Flask) -> AppState:
        return self._states[app]
