"""The exceptions flask-realtime raises."""

from __future__ import annotations

import re

from . import protocol


class RealtimeError(Exception):
    """Base class of flask-realtime's own exceptions."""


class ConfigurationError(RealtimeError, ValueError):
    """A ``REALTIME_`` setting has a value flask-realtime cannot use."""


class ConnectionIdRefused(RealtimeError):
    """A socket presented a connection id that was never issued to its
    session, or that has expired."""


class BackendUnavailable(RealtimeError):
    """The backend (Redis) cannot be reached: a push, a subscription or a new
    socket could not be recorded. Pushes raise it to their caller."""


class TooManyChannels(RealtimeError, ValueError):
    """A subscription would take a socket past ``REALTIME_MAX_CHANNELS``."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"A socket may be subscribed to at most {limit} channels"
            " (REALTIME_MAX_CHANNELS); unsubscribe from some first."
        )
        self.limit = limit


_CODE = re.compile(r"[a-z0-9_]{1,64}")
_RESERVED_CODES = frozenset(
    value for name, value in vars(protocol).items() if name.startswith("ERROR_")
)


class HandlerError(RealtimeError):
    """Raise in a :meth:`~flask_realtime.Realtime.handler` function to reply
    with an error of the application's own:

    .. code-block:: python

        raise HandlerError("room_full", "The room has no free seat.")

    gives ``{"id": ..., "error": {"code": "room_full", "message": "The room
    has no free seat."}}``. Nothing is logged: it is an answer, not a fault.

    :param code: for programs: 1 to 64 lowercase ASCII letters, digits and
        underscores, and none of the codes flask-realtime itself uses.
    :param message: for people.
    :raises ValueError: for a code that breaks those rules, at once, so that
        a typo shows up where it is made and not in a client.
    :raises TypeError: for a message that is not a string.
    """

    def __init__(self, code: str, message: str) -> None:
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise ValueError(
                "A handler error code must be 1 to 64 characters of a-z, 0-9"
                f" and '_', got {code!r:.80}."
            )
        if code in _RESERVED_CODES:
            raise ValueError(
                f"The error code {code!r} is one of flask-realtime's own;"
                " choose another, so that clients can tell them apart."
            )
        if not isinstance(message, str):
            raise TypeError(f"The message must be a string, got {message!r:.80}.")
        super().__init__(message)
        self.code = code
        self.message = message
