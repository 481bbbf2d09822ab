"""Messages from clients: parsing, checking and dispatch to handlers."""

from __future__ import annotations

import json
import logging
import typing as t

from flask import current_app

from . import frames
from .protocol import ERROR_BINARY_FRAME
from .protocol import ERROR_HANDLER_FAILED
from .protocol import ERROR_INVALID_JSON
from .protocol import ERROR_INVALID_MESSAGE
from .protocol import ERROR_UNKNOWN_ACTION
from .protocol import MAX_REQUEST_ID_LENGTH
from .signals import message_received

if t.TYPE_CHECKING:
    from .connection import Connection

#: A handler takes the decoded message and returns the fields of its reply.
Handler = t.Callable[[dict[str, t.Any]], t.Mapping[str, t.Any]]

logger = logging.getLogger("flask_realtime")


class _MessageError(Exception):
    def __init__(self, code: str, message: str, request_id: t.Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id


def ping(message: dict[str, t.Any]) -> t.Mapping[str, t.Any]:
    """The built-in ``ping`` action."""
    return {"body": "pong"}


BUILTIN_HANDLERS: dict[str, Handler] = {"ping": ping}


def handle(
    connection: Connection, data: str | bytes, handlers: t.Mapping[str, Handler]
) -> None:
    """Handle one message from ``connection`` and write its reply.

    Runs in the connection's thread, inside the handshake's request context.
    Nothing the client sends ends the connection here: every problem becomes
    an error reply.
    """
    try:
        message = _decode(data)
        request_id = message.get("id")
        handler = handlers.get(message["action"])
        if handler is None:
            raise _MessageError(
                ERROR_UNKNOWN_ACTION,
                f"Unknown action {message['action']!r:.80}.",
                request_id,
            )
        if message_received.receivers:
            message_received.send(
                current_app._get_current_object(),  # type: ignore[attr-defined]
                connection_id=connection.connection_id,
                message=message,
            )
        reply = _run(handler, message)
    except _MessageError as e:
        error = {"id": e.request_id, "error": {"code": e.code, "message": str(e)}}
        reply = _encode(error)
    connection.send_frame(frames.text_frame(reply))


def _encode(reply: t.Mapping[str, t.Any]) -> bytes:
    return json.dumps(reply, separators=(",", ":"), allow_nan=False).encode()


def _decode(data: str | bytes) -> dict[str, t.Any]:
    if isinstance(data, bytes):
        raise _MessageError(
            ERROR_BINARY_FRAME, "Binary frames are not supported; send JSON text."
        )
    try:
        message = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise _MessageError(ERROR_INVALID_JSON, "The message is not valid JSON.") from e
    if not isinstance(message, dict):
        raise _MessageError(ERROR_INVALID_MESSAGE, "The message must be a JSON object.")
    request_id = message.get("id")
    if not _is_valid_request_id(request_id):
        raise _MessageError(
            ERROR_INVALID_MESSAGE,
            "The id must be a string of at most"
            f" {MAX_REQUEST_ID_LENGTH} characters or an integer.",
        )
    if not isinstance(message.get("action"), str):
        raise _MessageError(
            ERROR_INVALID_MESSAGE, "The message needs an 'action' string.", request_id
        )
    return message


def _is_valid_request_id(value: t.Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return len(value) <= MAX_REQUEST_ID_LENGTH
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -(2**53) < value < 2**53
    )


def _run(handler: Handler, message: dict[str, t.Any]) -> bytes:
    request_id = message.get("id")
    try:
        reply = {"id": request_id, **handler(message)}
        reply["id"] = request_id
        return _encode(reply)
    except Exception as e:
        logger.exception("Handler for action %r failed", message["action"])
        detail = f": {type(e).__name__}: {e}" if current_app.debug else "."
        raise _MessageError(
            ERROR_HANDLER_FAILED, f"The handler failed{detail}", request_id
        ) from e
