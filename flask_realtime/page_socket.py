"""``g.socket``: the current page's socket, as seen from a request."""

from __future__ import annotations

import typing as t

from flask import abort
from flask import has_request_context

from . import identity
from . import presence
from .pushing import check_channels
from .signals import channel_subscribed
from .signals import channel_unsubscribed

if t.TYPE_CHECKING:
    from flask import Flask

    from .state import AppState


class PageSocket:
    """The socket of the page this request renders, or acts on.

    Available as ``g.socket`` in every request. Its connection id is issued
    the first time it is needed, so a request that never touches it costs
    nothing. A request that names an existing page's id (the
    ``X-Socket-Connection-Id`` header or a ``socket_connection_id`` field)
    acts on that page's socket instead, provided the id was issued to the
    same session and has not expired.
    """

    def __init__(self, app: Flask, state: AppState) -> None:
        self._app = app
        self._state = state
        self._connection_id: str | None = None
        self._digest = ""

    @property
    def connection_id(self) -> str:
        """The page's connection id, issued now if the request has none."""
        if self._connection_id is None:
            self._bind()
        assert self._connection_id is not None
        return self._connection_id

    def subscribe(self, *channels: str) -> None:
        """Subscribe this page's socket to channels, whether or not it has
        connected yet."""
        names = check_channels(channels, "subscribe")
        self.connection_id  # noqa: B018 - issues the id if needed
        self._state.backend.subscribe(self._digest, names)
        channel_subscribed.send(
            self._app, connection_id=self._connection_id, channels=names
        )

    def unsubscribe(self, *channels: str) -> None:
        """Unsubscribe this page's socket from channels."""
        names = check_channels(channels, "unsubscribe")
        self.connection_id  # noqa: B018 - issues the id if needed
        self._state.backend.unsubscribe(self._digest, names)
        channel_unsubscribed.send(
            self._app, connection_id=self._connection_id, channels=names
        )

    def track(self, channel: str, key: str, meta: t.Any = None) -> None:
        """Mark this page's socket present on a channel it is subscribed to,
        under ``key`` (a user id, say), with ``meta`` for the other pages to
        show (a name, "typing…"), whether or not it has connected yet.

        .. code-block:: python

            g.socket.subscribe(f"room:{room}")
            g.socket.track(f"room:{room}", str(user.id), {"name": user.name})

        The channel's subscribers, in every process, get a presence change,
        and :meth:`Realtime.presence <flask_realtime.Realtime.presence>`
        lists it: a member's tabs under one key, one meta each. Tracking
        again on the same channel replaces the meta. The presence ends with
        the socket: at once when the page closes, after
        ``REALTIME_DISCONNECT_GRACE`` when its connection drops, after
        ``REALTIME_CONNECT_TIMEOUT`` if it never connects. See
        :doc:`/presence`.

        :param key: 1 to 256 characters.
        :param meta: anything the app's JSON provider can encode, in at most
            4 KiB of JSON.
        :raises ValueError: if the socket is not subscribed to the channel,
            the key is empty or too long, or the meta too large.
        :raises TypeError: if the key is not a string, or the meta cannot be
            encoded as JSON.

        .. versionadded:: 0.1
        """
        (name,) = check_channels((channel,), "track")
        key_json = presence.check_key(key)
        meta_json = presence.encode_meta(self._app.json.dumps, meta)
        self.connection_id  # noqa: B018 - issues the id if needed
        self._state.backend.track(self._digest, name, key_json, meta_json)

    def untrack(self, channel: str) -> None:
        """End this page's presence on a channel; the channel's subscribers
        get a leave. Unsubscribing from the channel does it too.

        .. versionadded:: 0.1
        """
        (name,) = check_channels((channel,), "untrack")
        self.connection_id  # noqa: B018 - issues the id if needed
        self._state.backend.untrack(self._digest, name)

    def push(
        self,
        message: t.Any,
        *channels: str,
        exclude: PageSocket | str | t.Collection[PageSocket | str] | None = None,
    ) -> None:
        """Push a message to every subscriber of the channels but those in
        ``exclude``; the same as :meth:`Realtime.push
        <flask_realtime.Realtime.push>`. ``g.socket.push(message, room,
        exclude=g.socket)`` reaches everyone in the room but this page."""
        self._state.push(self._app, message, channels, exclude)

    def _existing_id(self) -> str | None:
        """The page's id if the request has one, issuing none: a request
        that names its page (a call over HTTP while the socket is down) is
        bound to it here, so that ``exclude=g.socket`` leaves it out."""
        if self._connection_id is None and has_request_context():
            key = identity.socket_key(create=False)
            presented = identity.presented_connection_id()
            if key is not None and presented is not None:
                digest = identity.digest(key, presented)
                if self._state.backend.is_known(digest):
                    self._connection_id, self._digest = presented, digest
        return self._connection_id

    def _adopt(self, connection_id: str, digest: str) -> None:
        """Bind to an id already checked, as the socket endpoint does."""
        self._connection_id, self._digest = connection_id, digest

    def _bind(self) -> None:
        key = identity.socket_key(create=True)
        if key is None:
            abort(400, description="The socket key the request presents is invalid.")
        backend = self._state.backend
        presented = identity.presented_connection_id()
        if presented is not None:
            digest = identity.digest(key, presented)
            if backend.is_known(digest):
                self._connection_id, self._digest = presented, digest
                return
        connection_id = identity.new_connection_id()
        digest = identity.digest(key, connection_id)
        backend.issue(digest, identity.session_tag(key))
        self._connection_id, self._digest = connection_id, digest

    def __repr__(self) -> str:
        return f"<PageSocket {self._connection_id or '(no id yet)'}>"
