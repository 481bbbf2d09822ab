"""What this process's sockets do: counted for
:meth:`~flask_realtime.Realtime.stats`, and logged without ids, keys or
digests.

The counters stay off the push path's locks. ``pushes`` is a plain int that
pushers add to: in CPython a ``+=`` of an int attribute runs without a
thread switch in its middle (the interpreter switches only at calls and
backward jumps), so no lock is needed. Frames delivered are counted by each
backend's hub, under the lock its delivery holds anyway. Closes and
refusals happen once per socket, and take a lock of their own.
"""

from __future__ import annotations

import logging
import threading
import typing as t
from collections import Counter

from .protocol import CLOSE_INTERNAL_ERROR
from .protocol import CLOSE_MESSAGE_TOO_BIG
from .protocol import CLOSE_RATE_LIMITED
from .protocol import CLOSE_SLOW_CONSUMER

if t.TYPE_CHECKING:
    from .backends.base import Backend
    from .connection import Connection

logger = logging.getLogger("flask_realtime")

#: Why a socket was refused, and how the client learns it (an HTTP status
#: before the handshake, a close code after it).
REFUSALS = {
    "origin": 403,  # the Origin header is not allowed
    "handshake": 400,  # not a WebSocket handshake simple-websocket can answer
    "connection_id": 400,  # the id is missing or malformed
    "positions": 400,  # the positions a reconnecting client sent are malformed
    "no_socket_key": 4001,  # the request carries no socket key
    "unknown_id": 4001,  # the id is unknown, expired or another session's
    "draining": 1012,  # the process is stopping
    "backend_unavailable": 1011,  # the backend failed to attach the socket
}

#: Close codes logged as warnings: a client misbehaved or the server failed.
#: Other closes (a lost network, a deploy, a newer tab, a logout) are part of
#: normal operation and are logged at INFO.
WARNING_CLOSE_CODES = frozenset(
    {
        CLOSE_MESSAGE_TOO_BIG,
        CLOSE_INTERNAL_ERROR,
        CLOSE_SLOW_CONSUMER,
        CLOSE_RATE_LIMITED,
    }
)


class Stats:
    """The counters of one application in this process."""

    def __init__(self) -> None:
        #: Messages published to a channel from this process; a push to
        #: three channels counts three.
        self.pushes = 0
        self._lock = threading.Lock()
        self._closes: Counter[int] = Counter()
        self._client_closes: Counter[str] = Counter()
        self._refusals: Counter[str] = Counter()

    def refused(self, reason: str, detail: str) -> None:
        """Count and log a socket refused for ``reason`` (a key of
        :data:`REFUSALS`); ``detail`` says more, and must hold no id, key or
        digest."""
        with self._lock:
            self._refusals[reason] += 1
        logger.info("Socket refused (%d, %s): %s", REFUSALS[reason], reason, detail)

    def closed(self, connection: Connection) -> None:
        """Count the close of an accepted socket, and log it unless the
        client closed cleanly (a page unload).

        Codes the client chose are counted apart from the server's, and only
        1000 and 1001 by their number: a client may pick any of about 2,000
        codes, and must neither grow the counts nor pass for a server
        failure (1011) or a rate limit (4029).
        """
        code = connection.close_code or 0
        by_client = connection.closed_by_client
        with self._lock:
            if by_client:
                self._client_closes[str(code) if code in (1000, 1001) else "other"] += 1
            else:
                self._closes[code] += 1
        if connection.closed_cleanly:
            return
        # The reason is quoted: a client's own words, or a server's that may
        # carry a client's (simple-websocket's), are not ours to trust.
        reason = connection.close_reason
        if by_client:
            logger.info("Socket closed by the client with %d (%r)", code, reason)
            return
        level = logging.WARNING if code in WARNING_CLOSE_CODES else logging.INFO
        logger.log(level, "Socket closed with %d (%r)", code, reason)

    def snapshot(
        self, connections: t.Collection[Connection], backend: Backend
    ) -> dict[str, t.Any]:
        """The dict :meth:`~flask_realtime.Realtime.stats` returns."""
        with self._lock:
            closes = {str(code): n for code, n in sorted(self._closes.items())}
            client_closes = dict(sorted(self._client_closes.items()))
            refusals = dict(sorted(self._refusals.items()))
        return {
            "backend": None,
            "sockets_open": len(connections),
            "ids_pending": None,
            "ids_in_grace": None,
            "channels": 0,
            "backlog_bytes": sum(c.backlog_size for c in connections),
            "pushes": self.pushes,
            "frames_delivered": 0,
            "closes": closes,
            "client_closes": client_closes,
            "refusals": refusals,
            "listener": None,
            **backend.stats(),
        }
