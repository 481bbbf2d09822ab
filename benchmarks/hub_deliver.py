"""The delivery loop alone: ``LocalHub.deliver`` to 1,000 subscribers whose
``send_frame`` does nothing, 2,000 pushes, best of 7; prints nanoseconds per
delivered frame. No sockets, no server: what a change to the hub costs,
without the noise of the network and the scheduler.

    .venv/bin/python benchmarks/hub_deliver.py [TREE]

``TREE`` is a checkout whose ``flask_realtime`` to import (a ``git
worktree`` of an older commit, to compare); this one by default.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else os.getcwd())

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


def main() -> None:
    hub = LocalHub()
    for number in range(SUBSCRIBERS):
        hub.add(Subscriber(number), ["room"])
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
