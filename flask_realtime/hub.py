"""The sockets of this process, by channel, and delivery to them."""

from __future__ import annotations

import json
import threading
import typing as t

from .flusher import Flusher
from .flusher import WindowSubscriber
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

    Under a write delay (``flusher``), a push that waits is handed to the
    :class:`~flask_realtime.flusher.Flusher` once, with the sockets it is
    for, rather than to each socket.

    A connection that attaches may have missed messages. It is added
    *catching up*: live frames for it are held back while the backend reads
    the history, then :meth:`finish_catch_up` sends the replay, and after it
    the held frames that the replay did not already contain. So the client
    gets what it missed in order, without duplicates, before anything new.
    """

    def __init__(self, flusher: Flusher | None = None) -> None:
        self._lock = threading.Lock()
        self._flusher = flusher
        # Dicts rather than sets: they keep subscribers in the order they came.
        self._channels: dict[str, dict[Subscriber, None]] = {}
        # Under a write delay, each channel's subscribers as the Flusher
        # takes them: the same tuple for every push until they change, so
        # that consecutive pushes to a channel share one join.
        self._splits: dict[str, _Split] = {}
        self._held: dict[Subscriber, list[tuple[str, str, bytes]]] = {}
        # After a catch-up, by channel, the position each connection resumed
        # from, until a newer frame passes: with Redis, frames of an earlier
        # subscription may still be on their way, and must not arrive twice.
        self._floors: dict[str, dict[Subscriber, str]] = {}
        # Presence frames held back while a connection's presence states are
        # read (see hold_presence), and how many reads are under way.
        self._presence_held: dict[Subscriber, tuple[int, list[bytes]]] = {}
        #: Frames handed to connections, replays included (for stats). It
        #: changes under the lock, so it needs no lock of its own.
        self.delivered = 0

    def add(
        self,
        connection: Subscriber,
        channels: t.Iterable[str],
        *,
        catch_up: bool = False,
        hold_presence: bool = False,
    ) -> list[str]:
        """Subscribe a connection; returns the channels that had no local
        subscriber before.

        With ``hold_presence``, presence frames for it wait until
        :meth:`finish_presence`: the caller reads the channels' presence
        states off the delivery path, and the changes that come meanwhile
        must reach the client after those states."""
        opened = []
        with self._lock:
            if catch_up:
                self._held.setdefault(connection, [])
            if hold_presence:
                count, frames = self._presence_held.get(connection, (0, []))
                self._presence_held[connection] = (count + 1, frames)
            for channel in channels:
                subscribers = self._channels.get(channel)
                if subscribers is None:
                    subscribers = self._channels[channel] = {}
                    opened.append(channel)
                subscribers[connection] = None
                self._splits.pop(channel, None)
        return opened

    def remove(self, connection: Subscriber, channels: t.Iterable[str]) -> list[str]:
        """Unsubscribe a connection; returns the channels left without any
        local subscriber."""
        emptied = []
        with self._lock:
            self._held.pop(connection, None)
            self._presence_held.pop(connection, None)
            for channel in channels:
                floors = self._floors.get(channel)
                if floors is not None:
                    floors.pop(connection, None)
                    if not floors:
                        del self._floors[channel]
                self._splits.pop(channel, None)
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
            receivers = self._receivers(channel, position, frame, subscribers, excluded)
            # Counted once, not per subscriber.
            self.delivered += len(receivers)
            flusher = self._flusher
            if flusher is not None and flusher.waits():
                self._deliver_later(flusher, channel, frame, receivers)
                return
            for connection in receivers:
                connection.send_frame(frame)
            if flusher is not None:
                flusher.written()

    def _receivers(
        self,
        channel: str,
        position: str,
        frame: bytes,
        subscribers: dict[Subscriber, None],
        excluded: Excluded,
    ) -> t.Collection[Subscriber]:
        """The subscribers that get ``frame`` now: all but those excluded,
        those catching up (who hold it), and those who have it already."""
        # Few sockets catch up at once: look for them in the channel, rather
        # than look up every subscriber among them.
        held = self._held
        if held and not any(connection in subscribers for connection in held):
            held = {}
        floors = self._floors.get(channel)
        if not (excluded or held or floors):  # the everyday push pays this test
            return subscribers
        receivers = []
        for connection in subscribers:
            if excluded and connection.connection_id in excluded:
                continue
            if held and connection in held:
                held[connection].append((channel, position, frame))
            elif not (floors and self._stale(floors, connection, channel, position)):
                receivers.append(connection)
        return receivers

    def _deliver_later(
        self,
        flusher: Flusher,
        channel: str,
        frame: bytes,
        receivers: t.Collection[Subscriber],
    ) -> None:
        """Under a write delay: sockets get the frame when the window ends;
        ``realtime.listen()`` functions, which have their own queue, now."""
        if receivers is self._channels[channel]:  # everyone: split once
            split = self._splits.get(channel)
            if split is None:
                split = self._splits[channel] = _split(receivers)
        else:
            split = _split(receivers)
        sockets, others = split
        if sockets:
            flusher.add(frame, sockets)
        for other in others:
            other.send_frame(frame)

    def _stale(
        self,
        floors: dict[Subscriber, str],
        connection: Subscriber,
        channel: str,
        position: str,
    ) -> bool:
        """Whether ``connection`` had this frame in its replay already; the
        first newer frame ends its floor."""
        floor = floors.get(connection)
        if floor is None:
            return False
        if not is_after(position, floor):
            return True
        del floors[connection]
        if not floors:
            del self._floors[channel]
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
            for channel, position in floors.items():
                self._floors.setdefault(channel, {})[connection] = position

    def deliver_presence(self, channel: str, frame: bytes) -> None:
        """Hand a presence frame to every local socket of ``channel``, in the
        order the changes happened. ``realtime.listen()`` functions, which
        have no page and so no id, get pushes only."""
        with self._lock:
            for connection in self._channels.get(channel, ()):
                if connection.connection_id:
                    self._send_presence(connection, [frame])

    def send_presence(self, connection: Subscriber, frames: list[bytes]) -> None:
        """Send presence frames to one connection, after those held for it."""
        with self._lock:
            self._send_presence(connection, frames)

    def finish_presence(self, connection: Subscriber, states: list[bytes]) -> None:
        """End a hold of :meth:`add`: send ``states``, which were read after
        the hold began, before every change held since, and deliver
        presence frames as they come once no other read is under way.

        States go *before* what is held: a change held since the hold began
        may be older than the read, which then holds it already, and a
        client applies a change again harmlessly (a join replaces the entry
        of its ref, a leave of an absent ref does nothing). A change newer
        than the read must come after the state, and does. The frames held
        keep their order, so a state delivered in that order (a resync after
        the Redis listener reconnects) stays where it belongs."""
        with self._lock:
            count, held = self._presence_held.get(connection, (1, []))
            held[:0] = states
            if count > 1:
                self._presence_held[connection] = (count - 1, held)
                return
            self._presence_held.pop(connection, None)
            for frame in held:
                connection.send_frame(frame)

    def _send_presence(self, connection: Subscriber, frames: list[bytes]) -> None:
        held = self._presence_held.get(connection)
        if held is not None:
            held[1].extend(frames)
        else:
            for frame in frames:
                connection.send_frame(frame)

    def channel_count(self) -> int:
        """How many channels have a local subscriber (for tests and stats)."""
        with self._lock:
            return len(self._channels)


#: A channel's subscribers under a write delay: the sockets, which the
#: Flusher writes to, and the rest (``realtime.listen()`` functions).
_Split = tuple[tuple[WindowSubscriber, ...], tuple[Subscriber, ...]]


def _split(subscribers: t.Iterable[Subscriber]) -> _Split:
    sockets: list[t.Any] = []
    others: list[Subscriber] = []
    for subscriber in subscribers:
        (sockets if getattr(subscriber, "takes_windows", False) else others).append(
            subscriber
        )
    return tuple(sockets), tuple(others)
