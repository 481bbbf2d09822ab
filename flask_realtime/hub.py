"""The sockets of this process, by channel, and delivery to them."""

from __future__ import annotations

import json
import threading
import typing as t

from .history import gap_frame
from .history import is_after
from .history import Replay
from .pushing import Excluded
from .pushing import NOBODY


class Subscriber(t.Protocol):
    """What the hub delivers to: a socket's :class:`Connection`, or a
    function of this process that listens to a channel."""

    connection_id: str

    def send_frame(self, frame: bytes) -> None: ...


class LocalHub:
    """Maps channel names to the live connections of this process.

    Delivery holds the hub's lock, so every subscriber of a channel receives
    that channel's messages in the same order. That is cheap because a
    delivery never blocks: :meth:`Connection.send_frame` writes without
    waiting or queues.

    A connection that attaches may have missed messages. It is added
    *catching up*: live frames for it are held back while the backend reads
    the history, then :meth:`finish_catch_up` sends the replay, and after it
    the held frames that the replay did not already contain. So the client
    gets what it missed in order, without duplicates, before anything new.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Dicts rather than sets: they keep subscribers in the order they came.
        self._channels: dict[str, dict[Subscriber, None]] = {}
        self._held: dict[Subscriber, list[tuple[str, str, bytes]]] = {}
        # After a catch-up, the position each channel resumed from, until a
        # newer frame passes: with Redis, frames of an earlier subscription
        # may still be on their way, and must not arrive twice.
        self._floors: dict[Subscriber, dict[str, str]] = {}
        #: Frames handed to connections, replays included (for stats). It
        #: changes under the lock, so it needs no lock of its own.
        self.delivered = 0

    def add(
        self,
        connection: Subscriber,
        channels: t.Iterable[str],
        *,
        catch_up: bool = False,
    ) -> list[str]:
        """Subscribe a connection; returns the channels that had no local
        subscriber before."""
        opened = []
        with self._lock:
            if catch_up:
                self._held.setdefault(connection, [])
            for channel in channels:
                subscribers = self._channels.get(channel)
                if subscribers is None:
                    subscribers = self._channels[channel] = {}
                    opened.append(channel)
                subscribers[connection] = None
        return opened

    def remove(self, connection: Subscriber, channels: t.Iterable[str]) -> list[str]:
        """Unsubscribe a connection; returns the channels left without any
        local subscriber."""
        emptied = []
        with self._lock:
            self._held.pop(connection, None)
            self._floors.pop(connection, None)
            for channel in channels:
                subscribers = self._channels.get(channel)
                if subscribers is not None:
                    subscribers.pop(connection, None)
                    if not subscribers:
                        del self._channels[channel]
                        emptied.append(channel)
        return emptied

    def deliver(
        self,
        channel: str,
        position: str,
        frame: bytes,
        excluded: Excluded = NOBODY,
    ) -> None:
        """Hand one encoded frame to every local subscriber of ``channel``
        but the connection ids in ``excluded``."""
        with self._lock:
            subscribers = self._channels.get(channel)
            if not subscribers:
                return
            if excluded:  # rare: the everyday push pays this one test
                subscribers = {
                    c: None for c in subscribers if c.connection_id not in excluded
                }
            held, floors = self._held, self._floors
            # Counted once, not per subscriber; the rare frames held back or
            # skipped are taken off.
            delivered = len(subscribers)
            for connection in subscribers:
                if held and connection in held:
                    held[connection].append((channel, position, frame))
                    delivered -= 1
                elif (
                    floors
                    and connection in floors
                    and self._stale(floors, connection, channel, position)
                ):
                    delivered -= 1
                else:
                    connection.send_frame(frame)
            self.delivered += delivered

    def _stale(
        self,
        floors: dict[Subscriber, dict[str, str]],
        connection: Subscriber,
        channel: str,
        position: str,
    ) -> bool:
        floor = floors[connection].get(channel)
        if floor is None:
            return False
        if not is_after(position, floor):
            return True
        del floors[connection][channel]
        if not floors[connection]:
            del floors[connection]
        return False

    def finish_catch_up(
        self, connection: Subscriber, replays: t.Mapping[str, Replay]
    ) -> None:
        """Send each channel's replay (or gap), then the frames held back
        that are newer than it, and deliver live from now on."""
        with self._lock:
            held = self._held.pop(connection, [])
            for channel, replay in replays.items():
                if replay.gap:
                    connection.send_frame(
                        gap_frame(json.dumps(channel).encode(), replay.position)
                    )
                    self.delivered += 1
                frames = replay.frames_for(connection.connection_id)
                for frame in frames:
                    connection.send_frame(frame)
                self.delivered += len(frames)
            floors = {channel: replay.position for channel, replay in replays.items()}
            for channel, position, frame in held:
                if channel not in floors or is_after(position, floors[channel]):
                    floors[channel] = position
                    connection.send_frame(frame)
                    self.delivered += 1
            self._floors[connection] = floors

    def channel_count(self) -> int:
        """How many channels have a local subscriber (for tests and stats)."""
        with self._lock:
            return len(self._channels)
