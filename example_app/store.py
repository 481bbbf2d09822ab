"""The recent messages of each room, in memory."""

from __future__ import annotations

import threading
import typing as t
from collections import deque
from collections import OrderedDict

#: Messages kept for each room.
MAX_MESSAGES_PER_ROOM = 50
#: Rooms kept; the one posted to least recently is forgotten first.
MAX_ROOMS = 100


class MessageStore:
    """The last messages of each room, safe to use from several threads.

    Bounded twice over, so that no amount of posting makes it grow without
    limit: per room, and in the number of rooms.
    """

    def __init__(
        self, max_messages: int = MAX_MESSAGES_PER_ROOM, max_rooms: int = MAX_ROOMS
    ) -> None:
        self._lock = threading.Lock()
        self._rooms: OrderedDict[str, deque[dict[str, t.Any]]] = OrderedDict()
        self._max_messages = max_messages
        self._max_rooms = max_rooms

    def add(self, room: str, message: dict[str, t.Any]) -> None:
        with self._lock:
            messages = self._rooms.get(room)
            if messages is None:
                messages = self._rooms[room] = deque(maxlen=self._max_messages)
                while len(self._rooms) > self._max_rooms:
                    self._rooms.popitem(last=False)
            else:
                self._rooms.move_to_end(room)
            messages.append(message)

    def recent(self, room: str) -> list[dict[str, t.Any]]:
        """The room's messages, oldest first."""
        with self._lock:
            return list(self._rooms.get(room, ()))
