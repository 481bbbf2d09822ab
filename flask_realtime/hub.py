"""The sockets of this process, by channel, and delivery to them."""

from __future__ import annotations

import threading
import typing as t

if t.TYPE_CHECKING:
    from .connection import Connection


class LocalHub:
    """Maps channel names to the live connections of this process.

    Delivery holds the hub's lock, so every subscriber of a channel receives
    that channel's messages in the same order. That is cheap because a
    delivery never blocks: :meth:`Connection.send_frame` writes without
    waiting or queues.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Dicts rather than sets: they keep subscribers in the order they came.
        self._channels: dict[str, dict[Connection, None]] = {}

    def add(self, connection: Connection, channels: t.Iterable[str]) -> list[str]:
        """Subscribe a connection; returns the channels that had no local
        subscriber before."""
        opened = []
        with self._lock:
            for channel in channels:
                subscribers = self._channels.get(channel)
                if subscribers is None:
                    subscribers = self._channels[channel] = {}
                    opened.append(channel)
                subscribers[connection] = None
        return opened

    def remove(self, connection: Connection, channels: t.Iterable[str]) -> list[str]:
        """Unsubscribe a connection; returns the channels left without any
        local subscriber."""
        emptied = []
        with self._lock:
            for channel in channels:
                subscribers = self._channels.get(channel)
                if subscribers is not None:
                    subscribers.pop(connection, None)
                    if not subscribers:
                        del self._channels[channel]
                        emptied.append(channel)
        return emptied

    def deliver(self, channel: str, frame: bytes) -> None:
        """Hand one encoded frame to every local subscriber of ``channel``."""
        with self._lock:
            subscribers = self._channels.get(channel)
            if subscribers:
                for connection in subscribers:
                    connection.send_frame(frame)

    def channel_count(self) -> int:
        """How many channels have a local subscriber (for tests and stats)."""
        with self._lock:
            return len(self._channels)
