"""The delivery loop alone: ``LocalHub.deliver`` to 1,000 subscribers whose
``send_frame`` does nothing, 2,000 pushes, best of 7; prints nanoseconds per
delivered frame. No sockets, no server: what a change to the hub costs,
without the noise of the network and the scheduler.

    .venv/bin/python benchmarks/hub_deliver.py [TREE] [--connections]

``TREE`` is a checkout whose ``flask_realtime`` to import (a ``git
worktree`` of an older commit, to compare); this one by default. With
``--connections`` the subscribers are real ``Connection`` objects whose
socket takes every frame without a system call: the hub plus the Python of
``Connection.send_frame`` on the default path (no write delay).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import typing as t

ARGS = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
sys.path.insert(0, ARGS[0] if ARGS else os.getcwd())

from flask_realtime.connection import Connection  # noqa: E402
from flask_realtime.hub import LocalHub  # noqa: E402

SUBSCRIBERS = 1000
PUSHES = 2000
ROUNDS = 7


class Subscriber:
    __slots__ = ("connection_id", "frames")

    def __init__(self, number: int) -> None:
        self.connection_id = f"page-{number:040d}"
        self.frames = 0

    def send_frame(self, frame: bytes) -> None:
        self.frames += 1


class TakesEverything:
    """A socket whose send takes every byte at once."""

    def send(self, data: bytes, flags: int = 0) -> int:
        return len(data)

    def fileno(self) -> int:
        return -1


class FakeWebSocket:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.input_buffer: list[str] = []
        self.max_message_size = 0


class Proxy:
    sock = TakesEverything()

    def bind(self, connection: Connection) -> None:
        pass


def connection(number: int) -> Connection:
    made = Connection(
        FakeWebSocket(),
        Proxy(),  # type: ignore[arg-type]
        connection_id=f"page-{number:040d}",
        max_backlog=1 << 20,
        ping_interval=3600,
        max_message_size=65536,
    )
    made._raw = TakesEverything()  # type: ignore[assignment]
    return made


def main() -> None:
    hub = LocalHub()
    make: t.Callable[[int], t.Any] = (
        connection if "--connections" in sys.argv else Subscriber
    )
    for number in range(SUBSCRIBERS):
        hub.add(make(number), ["room"])
    frame = b"\x81\x10" + b"x" * 16
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for seq in range(PUSHES):
            hub.deliver("room", f"epoch:{seq}", frame)
        elapsed = time.perf_counter() - started
        rounds.append(elapsed / (PUSHES * SUBSCRIBERS) * 1e9)
    print(f"{min(rounds):.1f} ns per delivered frame (best of {ROUNDS})")


if __name__ == "__main__":
    main()
