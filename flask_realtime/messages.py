"""Messages from clients: decoding, checking, replies, built-in actions."""

from __future__ import annotations

import json
import typing as t

from .protocol import ERROR_BINARY_FRAME
from .protocol import ERROR_INVALID_JSON
from .protocol import ERROR_INVALID_MESSAGE
from .protocol import MAX_REQUEST_ID_LENGTH

if t.TYPE_CHECKING:
    from .live_socket import LiveSocket

#: What the server calls for an action: it gets the live socket and the
#: decoded message, and returns the fields of the reply (``id`` is added).
Handler = t.Callable[["LiveSocket", dict[str, t.Any]], t.Mapping[str, t.Any]]

#: A function the application registers for an action: it gets the decoded
#: message and returns the reply's ``body``. Bound so that
#: ``@realtime.handler`` gives back the function's own type.
HandlerFunctionT = t.TypeVar(
    "HandlerFunctionT", bound=t.Callable[[dict[str, t.Any]], t.Any]
)

#: Longest action name, in characters.
MAX_ACTION_LENGTH = 64


class MessageError(Exception):
    """A message that gets an error reply instead of being handled."""

    def __init__(
        self,
        code: str,
        message: str,
        request_id: t.Any = None,
        *,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id
        #: The HTTP status of an ``http_error``, else None.
        self.status = status

    def reply(self) -> bytes:
        error: dict[str, t.Any] = {"code": self.code, "message": str(self)}
        if self.status is not None:
            error["status"] = self.status
        return encode_reply({"id": self.request_id, "error": error})


def encode_reply(reply: t.Mapping[str, t.Any]) -> bytes:
    """Encode an error reply. Its fields are built here, of strings and
    numbers, so the standard library's encoder serves; replies with a body
    the app returned go through the app's JSON provider instead."""
    return json.dumps(reply, separators=(",", ":"), allow_nan=False).encode()


def decode(data: str | bytes) -> dict[str, t.Any]:
    """Decode and check a client message: a JSON object with an ``action``
    string and, optionally, an ``id``."""
    if isinstance(data, bytes):
        raise MessageError(
            ERROR_BINARY_FRAME, "Binary frames are not supported; send JSON text."
        )
    try:
        message = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise MessageError(ERROR_INVALID_JSON, "The message is not valid JSON.") from e
    if not isinstance(message, dict):
        raise MessageError(ERROR_INVALID_MESSAGE, "The message must be a JSON object.")
    request_id = message.get("id")
    if not _is_valid_request_id(request_id):
        raise MessageError(
            ERROR_INVALID_MESSAGE,
            f"The id must be a string of at most {MAX_REQUEST_ID_LENGTH}"
            " characters or an integer.",
        )
    if not isinstance(message.get("action"), str):
        raise MessageError(
            ERROR_INVALID_MESSAGE, "The message needs an 'action' string.", request_id
        )
    return message


def _is_valid_request_id(value: t.Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return len(value) <= MAX_REQUEST_ID_LENGTH
    # Integers beyond 2**53 do not survive a round trip through JavaScript.
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -(2**53) < value < 2**53
    )


def check_action_name(action: t.Any) -> str:
    if not isinstance(action, str) or not 0 < len(action) <= MAX_ACTION_LENGTH:
        raise ValueError(
            f"An action name must be a string of 1 to {MAX_ACTION_LENGTH}"
            f" characters, got {action!r:.80}."
        )
    return action


def ping(live: LiveSocket, message: dict[str, t.Any]) -> t.Mapping[str, t.Any]:
    """The built-in ``ping`` action."""
    return {"body": "pong"}
