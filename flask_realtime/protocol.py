"""Wire protocol v1: the names and numbers both ends agree on.

This module is the source of truth for the protocol constants. The browser
client mirrors them, and a test checks that the two stay equal.
"""

from __future__ import annotations

#: Version of the wire protocol described in ``docs/protocol.rst``.
PROTOCOL_VERSION = 1

#: Query parameter that carries the connection id on the upgrade request.
CONNECTION_ID_PARAM = "socket_connection_id"
#: Query parameter a reconnecting client uses to send the last position it
#: has of each channel, as a JSON object.
POSITIONS_PARAM = "positions"
#: Query parameter and header a non-browser client may use to present its own
#: socket key instead of the one kept in the session cookie.
SOCKET_KEY_PARAM = "socket_key"
SOCKET_KEY_HEADER = "X-Realtime-Socket-Key"
#: Header an HTTP request may carry to act on an existing page's socket
#: (``g.socket`` then refers to that page instead of issuing a new id).
CONNECTION_ID_HEADER = "X-Socket-Connection-Id"

#: Attributes written into the ``<body>`` tag of HTML responses.
BODY_CONNECTION_ID_ATTRIBUTE = "data-socket-connection-id"
BODY_PATH_ATTRIBUTE = "data-socket-path"

# Close codes. 1000-2999 are defined by RFC 6455; 4000-4999 are ours.
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
#: Reported, never sent: the client closed without a status code.
CLOSE_NO_STATUS = 1005
#: Reported, never sent: the connection ended without a close frame.
CLOSE_ABNORMAL = 1006
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
#: The server is restarting, or lost what it knew of the socket: reconnect
#: after a random delay.
CLOSE_SERVICE_RESTART = 1012
#: The connection id is unknown, expired, issued to another session, or the
#: request carried no socket key. The page needs a fresh id: reload it.
CLOSE_ID_REFUSED = 4001
#: Another socket connected with the same connection id and took its place.
CLOSE_REPLACED = 4002
#: The session the socket was opened in ended (logout, ``session.clear()``)
#: or the application called ``realtime.disconnect()`` for one of its
#: channels. Its id is forgotten: the client must not reconnect with it.
CLOSE_SESSION_ENDED = 4003
#: The client sent messages far faster than ``REALTIME_MESSAGE_RATE`` after
#: being told it was over the limit.
CLOSE_RATE_LIMITED = 4029
#: The client did not read fast enough and its backlog overflowed.
CLOSE_SLOW_CONSUMER = 4008

#: Close codes a client sends when the page goes away on purpose. They end
#: the socket's subscriptions at once instead of keeping them for a reconnect.
CLEAN_CLOSE_CODES = frozenset({CLOSE_NORMAL, CLOSE_GOING_AWAY, CLOSE_NO_STATUS})

# Error codes carried in ``{"id", "error": {"code", "message"}}`` replies.
ERROR_INVALID_JSON = "invalid_json"
ERROR_INVALID_MESSAGE = "invalid_message"
ERROR_UNKNOWN_ACTION = "unknown_action"
ERROR_BINARY_FRAME = "binary_frame"
ERROR_HANDLER_FAILED = "handler_failed"
ERROR_RATE_LIMITED = "rate_limited"
ERROR_INVALID_CALL = "invalid_call"
ERROR_REPLY_TOO_LARGE = "reply_too_large"
#: A handler raised an HTTP exception (``abort(403)``); the error object also
#: carries its ``status``.
ERROR_HTTP = "http_error"
#: A route that cannot be called over the socket (``REALTIME_CALL_ENDPOINTS``
#: leaves it out, or its view is marked ``@realtime.http_only``).
ERROR_ROUTE_NOT_CALLABLE = "route_not_callable"

#: Longest request id a client may use, in characters.
MAX_REQUEST_ID_LENGTH = 64
