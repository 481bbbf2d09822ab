"""The WebSocket endpoint: the handshake checks and a socket's lifetime."""

from __future__ import annotations

import logging
import typing as t
from urllib.parse import urlsplit

from blinker import NamedSignal
from flask import abort
from flask import current_app
from flask import g
from flask import request

from . import identity
from . import shutdown
from .connection import Connection
from .connection import SocketProxy
from .errors import ConnectionIdRefused
from .history import parse_positions
from .live_socket import LiveSocket
from .protocol import CLOSE_ID_REFUSED
from .protocol import CLOSE_INTERNAL_ERROR
from .protocol import CLOSE_REPLACED
from .protocol import CLOSE_SERVICE_RESTART
from .protocol import CONNECTION_ID_PARAM
from .protocol import POSITIONS_PARAM
from .signals import socket_connected
from .signals import socket_disconnected

if t.TYPE_CHECKING:
    from flask import Flask

    from .state import AppState

logger = logging.getLogger("flask_realtime")


def check_upgrade(state: AppState) -> None:
    """Refuse an upgrade request before the handshake, with an HTTP error.

    Runs before flask-sock answers the upgrade. A cross-site page must get no
    socket at all (cross-site WebSocket hijacking), and a request without a
    well-formed id is not from our client. Whether the id was issued to this
    session is checked after the handshake, so that the client learns why it
    was refused from the close code.
    """
    origin = request.headers.get("Origin")
    if origin is not None and not _origin_allowed(
        origin, state.settings.allowed_origins
    ):
        state.stats.refused("origin", f"Origin {origin[:100]!r} is not allowed")
        abort(403, description="The socket's Origin is not allowed.")
    if not identity.is_valid_connection_id(request.args.get(CONNECTION_ID_PARAM)):
        state.stats.refused("connection_id", "the id is missing or malformed")
        abort(
            400,
            description=f"The '{CONNECTION_ID_PARAM}' query parameter is missing"
            " or malformed.",
        )
    if not _is_websocket_handshake():
        # simple-websocket would fail on it with a 500 and a traceback, which
        # anyone could fill the error log with.
        state.stats.refused("handshake", "not a WebSocket version 13 handshake")
        abort(
            400,
            description="Not a WebSocket handshake (RFC 6455): HTTP/1.1 with"
            " 'Sec-WebSocket-Key' and 'Sec-WebSocket-Version: 13'.",
        )
    positions = request.args.get(POSITIONS_PARAM)
    if positions is not None:
        try:
            g._realtime_positions = parse_positions(positions)
        except ValueError as e:
            state.stats.refused("positions", str(e))
            abort(400, description=str(e))
    # Every push is framed once for all subscribers, which a per-connection
    # compression context would undo; JSON pushes are small anyway. Without
    # this header simple-websocket does not negotiate permessage-deflate.
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    # Each socket holds its worker for its lifetime: a server that handles
    # one request at a time (gunicorn's sync worker, Werkzeug without
    # threads) would serve nothing else.
    if not _runs_requests_concurrently(request.environ) or not SocketProxy.install(
        request.environ
    ):
        raise RuntimeError(
            "flask-realtime runs under Werkzeug's threaded server, gunicorn's"
            " gthread and gevent workers, and gevent's WSGIServer after"
            " gevent.monkey.patch_all(); this server is not supported."
        )


def _runs_requests_concurrently(environ: dict[str, t.Any]) -> bool:
    if environ.get("wsgi.multithread"):
        return True
    # gevent's WSGIServer says it is not multithreaded, yet runs each request
    # in a greenlet of its own. A socket's threads, waits, sleeps and polls
    # cooperate only once all of these are patched: one left blocking (a
    # select.poll for a client that stops reading) stops the whole server.
    if not str(environ.get("SERVER_SOFTWARE", "")).startswith("gevent"):
        return False
    from gevent import monkey

    return all(monkey.is_module_patched(name) for name in _GEVENT_PATCHED_MODULES)


_GEVENT_PATCHED_MODULES = ("socket", "select", "_thread", "threading", "time")


def _is_websocket_handshake() -> bool:
    # What wsproto checks before it answers; the Upgrade and Connection
    # headers Werkzeug already checked to route the request here.
    key = request.headers.get("Sec-WebSocket-Key", "")
    return (
        request.method == "GET"
        and request.environ.get("SERVER_PROTOCOL") == "HTTP/1.1"
        and request.headers.get("Sec-WebSocket-Version") == "13"
        and 0 < len(key) <= 64
    )


def _origin_allowed(origin: str, allowed: frozenset[str]) -> bool:
    origin = origin.rstrip("/").lower()
    if "*" in allowed or origin in allowed:
        return True
    # The scheme is left out: behind a TLS-terminating proxy the app sees
    # http while the page's origin is https.
    return urlsplit(origin).netloc == request.host.lower()


def serve(state: AppState, ws: t.Any) -> None:
    """Run one socket from handshake to close, in its own thread."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = state.settings
    connection_id = request.args[CONNECTION_ID_PARAM]
    connection = Connection(
        ws,
        ws.sock,
        connection_id=connection_id,
        max_backlog=settings.max_backlog,
        ping_interval=settings.ping_interval,
        max_message_size=settings.max_message_size,
        flusher=state.flusher,
    )
    if not state.add_live(connection):
        # The process is stopping: the client goes to its successor.
        state.stats.refused("draining", "the process is stopping")
        connection.close(CLOSE_SERVICE_RESTART, "service restart")
        connection.run(lambda message: None)
        return
    try:
        _serve(app, state, connection, connection_id)
    finally:
        state.remove_live(connection)


def _serve(
    app: Flask, state: AppState, connection: Connection, connection_id: str
) -> None:
    shutdown.watch_server()
    key = identity.socket_key(create=False, upgrade=True)
    digest = identity.digest(key, connection_id) if key else ""
    try:
        if not key:
            raise ConnectionIdRefused(connection_id)
        positions = g.get("_realtime_positions")
        replaced = state.backend.attach(digest, connection, positions)
    except ConnectionIdRefused:
        state.stats.refused(
            "unknown_id" if key else "no_socket_key",
            "the id is unknown, expired or another session's"
            if key
            else "the request carries no socket key",
        )
        connection.close(CLOSE_ID_REFUSED, "connection id refused")
        connection.run(lambda message: None)
        return
    except Exception:  # BackendUnavailable, or what Redis holds is not ours
        logger.exception("A socket could not be attached")
        state.stats.refused("backend_unavailable", "the backend failed")
        connection.close(CLOSE_INTERNAL_ERROR, "try again later")
        connection.run(lambda message: None)
        return
    if replaced is not None:
        replaced.close(CLOSE_REPLACED, "replaced by a newer socket")
    g.socket._adopt(connection_id, digest)
    limiter = state.rate_limits.acquire(digest)
    connection.limit_pings(limiter)
    live = LiveSocket(
        app,
        state,
        connection,
        connection_id=connection_id,
        digest=digest,
        environ=request.environ,
        limiter=limiter,
    )

    def forget() -> None:
        state.backend.detach(digest, connection, forget=True)

    try:
        _send_safely(socket_connected, app, connection_id=connection_id)
        connection.run(live.receive, on_clean_close=forget)
    finally:
        state.rate_limits.release(digest)
        clean = connection.closed_cleanly
        state.stats.closed(connection)
        # After a clean close this finds the socket already forgotten.
        state.backend.detach(digest, connection, forget=clean)
        _send_safely(
            socket_disconnected,
            app,
            connection_id=connection_id,
            code=connection.close_code,
            clean=clean,
        )


def _send_safely(signal: NamedSignal, app: Flask, **kwargs: t.Any) -> None:
    # A receiver that raises must not take the socket, or its clean-up, down.
    try:
        signal.send(app, **kwargs)
    except Exception:
        logger.exception("A receiver of the %r signal failed", signal.name)
