"""An accepted socket as the application sees it, and its messages."""

from __future__ import annotations

import contextlib
import io
import logging
import typing as t

from flask import g
from flask import got_request_exception
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from . import frames
from .cookie_jar import CookieJar
from .cookie_jar import request_path
from .errors import HandlerError
from .messages import decode
from .messages import MessageError
from .page_socket import PageSocket
from .protocol import CLOSE_RATE_LIMITED
from .protocol import ERROR_HANDLER_FAILED
from .protocol import ERROR_HTTP
from .protocol import ERROR_RATE_LIMITED
from .protocol import ERROR_REPLY_TOO_LARGE
from .protocol import ERROR_UNKNOWN_ACTION
from .ratelimit import RateLimiter
from .signals import message_received

if t.TYPE_CHECKING:
    from flask import Flask

    from .state import AppState

logger = logging.getLogger("flask_realtime")

#: WSGI environ key of a route called over the socket: the live socket, so
#: that its ``g.socket`` is that socket whatever the session says. Clients
#: cannot set environ keys, only headers.
LIVE_SOCKET_ENVIRON_KEY = "flask_realtime.live_socket"

# WSGI keys of the handshake that describe the upgrade or its socket, not the
# page; the contexts built for messages and route calls leave them out.
_UPGRADE_ONLY = frozenset(
    {
        "HTTP_UPGRADE",
        "HTTP_CONNECTION",
        "HTTP_SEC_WEBSOCKET_KEY",
        "HTTP_SEC_WEBSOCKET_VERSION",
        "HTTP_SEC_WEBSOCKET_EXTENSIONS",
        "HTTP_SEC_WEBSOCKET_PROTOCOL",
        "HTTP_COOKIE",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "werkzeug.socket",
        "gunicorn.socket",
        "wsgi.input",
    }
)


class Writer(t.Protocol):
    """Where replies go: a :class:`~flask_realtime.connection.Connection`."""

    def send_frame(self, frame: bytes) -> None: ...

    def close(self, code: int, reason: str = "") -> None: ...


class LiveSocket:
    """Handles the messages of one accepted socket.

    Each message is handled in a fresh application and request context built
    from the handshake (its headers, and its cookies as route calls have
    updated them), with ``g.socket`` bound to this live socket. Messages are
    handled one at a time, in order.
    """

    def __init__(
        self,
        app: Flask,
        state: AppState,
        writer: Writer,
        *,
        connection_id: str,
        digest: str,
        environ: t.Mapping[str, t.Any],
        limiter: RateLimiter,
    ) -> None:
        self.app = app
        self.state = state
        self.writer = writer
        self.connection_id = connection_id
        self.digest = digest
        #: The handshake's environ, less what belongs to the upgrade itself.
        self.environ = {k: v for k, v in environ.items() if k not in _UPGRADE_ONLY}
        #: Starts with the handshake's cookies; route calls update it.
        self.cookies = CookieJar(environ)
        self._limiter = limiter

    def receive(self, data: str | bytes) -> None:
        """Handle one message and write its reply. Nothing a client sends
        ends the connection here, except flooding past the rate limit."""
        # The token is taken first, so that malformed messages count too.
        allowed = self._limiter.take()
        if not allowed and self._limiter.exhausted:
            self.writer.close(CLOSE_RATE_LIMITED, "rate limit exceeded")
            return
        try:
            if not allowed:
                raise MessageError(
                    ERROR_RATE_LIMITED, "Too many messages; slow down.", _id_of(data)
                )
            reply = self._dispatch(decode(data))
        except MessageError as e:
            reply = e.reply()
        self.writer.send_frame(frames.text_frame(reply))

    def _dispatch(self, message: dict[str, t.Any]) -> bytes:
        request_id = message.get("id")
        action = message["action"]
        handler = self.state.handlers.get(action)
        if handler is None:
            raise MessageError(
                ERROR_UNKNOWN_ACTION, f"Unknown action {action!r:.80}.", request_id
            )
        with self.context():
            try:
                message_received.send(
                    self.app, connection_id=self.connection_id, message=message
                )
                reply = {"id": request_id, **handler(self, message)}
                reply["id"] = request_id
                # The app's JSON provider, as for pushes and jsonify.
                encoded: bytes = self.app.json.dumps(
                    reply, separators=(",", ":"), allow_nan=False
                ).encode()
                # A body just under the limit can grow six-fold in JSON
                # (\u0001 for each control byte): a reply the client does
                # not read must not hold more than the backlog allows.
                limit = self.state.settings.max_backlog
                if len(encoded) > limit:
                    raise MessageError(
                        ERROR_REPLY_TOO_LARGE,
                        f"The reply is larger than {limit} bytes once encoded.",
                        request_id,
                    )
                return encoded
            except MessageError:
                raise
            except HandlerError as e:
                # The app's own answer, not a fault: no traceback, no report.
                raise MessageError(e.code, e.message, request_id) from e
            except HTTPException as e:
                # abort(403) answers as over HTTP, with its status.
                raise _http_error(e, request_id) from e
            except Exception as e:
                _report(self.app, e)
                logger.exception("The handler of action %r failed", action)
                detail = f": {type(e).__name__}: {e}" if self.app.debug else "."
                raise MessageError(
                    ERROR_HANDLER_FAILED, f"The handler failed{detail}", request_id
                ) from e

    @contextlib.contextmanager
    def context(self) -> t.Iterator[None]:
        """A fresh app and request context as of the handshake, with
        ``g.socket`` bound to this socket."""
        environ = dict(self.environ)
        environ["HTTP_COOKIE"] = self.cookies.header(request_path(environ))
        environ["wsgi.input"] = io.BytesIO()
        environ[LIVE_SOCKET_ENVIRON_KEY] = self
        # The app context first: a request context pushed inside the
        # handshake's app context would reuse it, and its ``g``.
        with self.app.app_context(), self.app.request_context(environ):
            g.socket = self.page_socket()
            yield

    def page_socket(self) -> PageSocket:
        """A ``g.socket`` bound to this live socket."""
        page = PageSocket(self.app, self.state)
        page._adopt(self.connection_id, self.digest)
        return page


def _http_error(e: HTTPException, request_id: t.Any) -> MessageError:
    # abort(response) carries a response and no code of its own.
    status = e.code or (e.response.status_code if e.response is not None else 500)
    message = e.description or HTTP_STATUS_CODES.get(status, "Error")
    return MessageError(ERROR_HTTP, message, request_id, status=status)


def _report(app: Flask, e: Exception) -> None:
    """Send Flask's ``got_request_exception``, as a failed request does, so
    that error trackers (Sentry, say) see handler failures too."""
    try:
        got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=e)
    except Exception:
        # A broken receiver must not cost the client its reply.
        logger.exception("A receiver of got_request_exception failed")


def _id_of(data: str | bytes) -> t.Any:
    """The request id of a message, if it has a valid one, for an error reply."""
    try:
        return decode(data).get("id")
    except MessageError as e:
        return e.request_id
