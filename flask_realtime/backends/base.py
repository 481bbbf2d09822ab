"""The interface every backend implements."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from ..connection import Connection


class Backend:
    """Keeps each socket's subscriptions under its digest, and delivers.

    A socket is known by its digest from the moment its id is issued. It is
    *pending* until its connection attaches, *live* while attached, and in its
    *grace* period after an abnormal disconnect. A pending socket is forgotten
    after the connect timeout, one in grace after the disconnect grace.
    """

    def issue(self, digest: str) -> None:
        """Remember a newly issued id; it must connect within the timeout."""
        raise NotImplementedError

    def is_known(self, digest: str) -> bool:
        """Whether the digest belongs to an issued id that has not expired."""
        raise NotImplementedError

    def subscribe(self, digest: str, channels: t.Collection[str]) -> None:
        raise NotImplementedError

    def unsubscribe(self, digest: str, channels: t.Collection[str]) -> None:
        raise NotImplementedError

    def attach(self, digest: str, connection: Connection) -> Connection | None:
        """Attach a live connection to the digest's subscriptions.

        Returns the connection it replaces, if one was attached. Raises
        :exc:`~flask_realtime.errors.ConnectionIdRefused` for a digest that
        is unknown or expired.
        """
        raise NotImplementedError

    def detach(self, digest: str, connection: Connection, *, forget: bool) -> None:
        """Detach a connection that ended. With ``forget`` its subscriptions
        end now; otherwise they wait for a reconnect during the grace period.
        Does nothing if another connection has replaced it."""
        raise NotImplementedError

    def publish(self, channel: str, frame: bytes) -> None:
        """Deliver one encoded frame to every subscriber of ``channel``."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the backend holds (connections, threads)."""
