"""The interface every backend implements."""

from __future__ import annotations

import typing as t

from ..history import not_before
from ..pushing import Excluded
from ..pushing import NOBODY

if t.TYPE_CHECKING:
    from ..connection import Connection
    from ..instance_listeners import InstanceListener
    from ..presence import Member


class Backend:
    """Keeps each socket's subscriptions under its digest, and delivers.

    A socket is known by its digest from the moment its id is issued. It is
    *pending* until its connection attaches, *live* while attached, and in its
    *grace* period after an abnormal disconnect. A pending socket is forgotten
    after the connect timeout, one in grace after the disconnect grace.
    """

    def issue(self, digest: str, session: str = "") -> None:
        """Remember a newly issued id; it must connect within the timeout.

        ``session`` names the browser session it was issued in (see
        :func:`~flask_realtime.identity.session_tag`), so that
        :meth:`disconnect` can end the session's sockets.
        """
        raise NotImplementedError

    def is_known(self, digest: str) -> bool:
        """Whether the digest belongs to an issued id that has not expired."""
        raise NotImplementedError

    def subscribe(self, digest: str, channels: t.Collection[str]) -> None:
        """Subscribe the digest's socket to channels.

        :raises ~flask_realtime.errors.TooManyChannels: if that would take it
            past ``REALTIME_MAX_CHANNELS``; then nothing changes.
        """
        raise NotImplementedError

    def unsubscribe(self, digest: str, channels: t.Collection[str]) -> None:
        raise NotImplementedError

    def attach(
        self,
        digest: str,
        connection: Connection,
        positions: t.Mapping[str, str] | None = None,
    ) -> Connection | None:
        """Attach a live connection to the digest's subscriptions.

        Before live pushes, the connection gets what it missed (see
        :func:`replay_plan`): ``positions`` are the last positions the client
        has, by channel. It gets the presence state of each of its channels
        that has members before any presence change that is not in it; so
        does a live socket subscribed to more channels.

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

    def publish(self, channel: str, head: bytes, excluded: Excluded = NOBODY) -> None:
        """Give a push to ``channel`` the channel's next position, keep it in
        the channel's history and deliver it to every subscriber but the
        connection ids in ``excluded``, now and in replays. ``head`` is the
        envelope begun by :func:`~flask_realtime.pushing.encode_heads`."""
        raise NotImplementedError

    def track(self, digest: str, channel: str, key_json: str, meta_json: str) -> None:
        """Mark the digest's socket present on ``channel`` under a key, with a
        meta (both JSON texts, see :mod:`~flask_realtime.presence`), and tell
        the channel's subscribers. Tracked again, the socket keeps its ref if
        the key is the same. Does nothing for an unknown or expired digest.

        Presence ends with the socket: untracked now when it is forgotten
        (a clean close, :meth:`disconnect`), and when its time runs out
        (connect timeout, disconnect grace, a dead process's lease), soon
        after.

        :raises ValueError: if the socket is not subscribed to ``channel``.
        """
        raise NotImplementedError

    def untrack(self, digest: str, channel: str) -> None:
        """Undo :meth:`track`; unsubscribing from the channel does it too."""
        raise NotImplementedError

    def presence(self, channel: str) -> list[Member]:
        """The members of ``channel`` now, from every process."""
        raise NotImplementedError

    def listen(self, channel: str, listener: InstanceListener) -> None:
        """Have ``listener`` receive the channel's pushes in this process,
        whichever process makes them, until :meth:`unlisten`."""
        raise NotImplementedError

    def unlisten(self, channel: str, listener: InstanceListener) -> None:
        raise NotImplementedError

    def disconnect(
        self, *, channels: t.Collection[str] = (), sessions: t.Collection[str] = ()
    ) -> None:
        """Forget every socket subscribed to any of ``channels`` or issued in
        any of ``sessions``, wherever it is, and close the connected ones
        with :data:`~flask_realtime.protocol.CLOSE_SESSION_ENDED`. Pending
        sockets and those waiting for a reconnect are forgotten too, so their
        ids are refused from now on."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the backend holds (connections, threads)."""

    def stats(self) -> dict[str, t.Any]:
        """What the backend knows of this process, for
        :meth:`~flask_realtime.Realtime.stats`: its ``backend`` name, the
        ``channels`` with a local subscriber, ``frames_delivered``, and
        whatever else of that dict's keys it can tell."""
        return {}


def replay_plan(
    channels: t.Mapping[str, str],
    positions: t.Mapping[str, str] | None,
    attached_before: bool,
) -> dict[str, str]:
    """From which position each channel is replayed to an attaching socket.

    On a socket's first connection, everything since each subscription is
    replayed: pushes made between the page's render and the socket's
    connection are not lost. On a reconnect, a client that sends the
    positions it has (even none) gets what came after them, or after the
    subscription for a channel it has no position for; a client that sends
    no positions gets live pushes only, as it could not tell a replay from
    a repeat. A client's position never takes the replay back past the
    subscription: what was pushed before it is not the socket's to read.
    """
    if attached_before and positions is None:
        return {}
    positions = positions or {}
    return {
        name: not_before(positions.get(name, since), since)
        for name, since in channels.items()
    }
