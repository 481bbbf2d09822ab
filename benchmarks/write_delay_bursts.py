"""Bursts under ``REALTIME_WRITE_DELAY``, in one process: ``LocalHub.deliver``
of 100 pushes into 1,000 real ``Connection`` objects on Unix socket pairs,
whose other ends a child process reads. Prints, for each burst, the process's
CPU per frame, how long the push loop took, and how many windows were
written during it and in all. No server, no network: how the pusher and the
thread that ends the windows share the GIL, burst by burst.

    .venv/bin/python benchmarks/write_delay_bursts.py [TREE] [--delay MS] [--bursts N]

``TREE`` is a checkout whose ``flask_realtime`` to import (to compare with an
older commit); this one by default.
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import sys
import threading
import time
import typing as t

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("tree", nargs="?", default=os.getcwd())
parser.add_argument("--delay", type=float, default=5.0, help="milliseconds")
parser.add_argument("--bursts", type=int, default=5)
ARGS = parser.parse_args()
sys.path.insert(0, ARGS.tree)

from flask_realtime import frames  # noqa: E402
from flask_realtime.connection import Connection  # noqa: E402
from flask_realtime.flusher import Flusher  # noqa: E402
from flask_realtime.hub import LocalHub  # noqa: E402

SOCKETS = 1000
PUSHES = 100


class FakeWebSocket:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.input_buffer: list[str] = []
        self.max_message_size = 0


class Proxy:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def bind(self, connection: Connection) -> None:
        pass


def read_until_closed(ends: list[socket.socket]) -> None:
    """The child: read every socket until the parent closes them all."""
    selector = selectors.DefaultSelector()
    for end in ends:
        selector.register(end, selectors.EVENT_READ)
    open_ends = len(ends)
    while open_ends:
        for key, _ in selector.select():
            if not t.cast(socket.socket, key.fileobj).recv(1 << 20):
                selector.unregister(key.fileobj)
                open_ends -= 1
    os._exit(0)


def main() -> None:
    pairs = [socket.socketpair() for _ in range(SOCKETS)]
    child = os.fork()
    if child == 0:
        for ours, _ in pairs:
            ours.close()
        read_until_closed([theirs for _, theirs in pairs])
    for _, theirs in pairs:
        theirs.close()

    windows: list[float] = []  # when each window was written
    # Windows are handed out by the Flusher, or (before 2026-12-02) ended
    # by each socket: count whichever the tree has.
    per_socket = hasattr(Connection, "end_window")
    owner: t.Any = Connection if per_socket else Flusher
    name = "end_window" if per_socket else "settle"
    ending = getattr(owner, name)

    def counted(self: t.Any) -> None:
        ending(self)
        windows.append(time.perf_counter())

    setattr(owner, name, counted)
    if per_socket:
        flusher = Flusher(ARGS.delay / 1000)  # type: ignore[call-arg]
        hub = LocalHub()
    else:
        flusher = Flusher(ARGS.delay / 1000, 64 << 20)
        hub = LocalHub(flusher)
    connections = []
    for number, (ours, _) in enumerate(pairs):
        connection = Connection(
            FakeWebSocket(),
            Proxy(ours),  # type: ignore[arg-type]
            connection_id=f"page-{number:040d}",
            max_backlog=64 << 20,
            ping_interval=3600,
            max_message_size=65536,
            flusher=flusher,
        )
        connections.append(connection)
        hub.add(connection, ["room"])
    for burst in range(ARGS.bursts):
        # A frame object per push, as the library's pushes make.
        pushes = [
            frames.text_frame(b'{"burst":%d,"n":%d,"x":"%s"}' % (burst, n, b"x" * 80))
            for n in range(PUSHES)
        ]
        windows.clear()
        cpu, started = time.process_time(), time.perf_counter()
        for n, frame in enumerate(pushes):
            hub.deliver("room", f"epoch:{n}", frame)
        loop_ended = time.perf_counter()
        while getattr(flusher, "pending", False) or any(
            c.backlog_size for c in connections
        ):
            time.sleep(0.001)
        cpu = time.process_time() - cpu
        during = sum(1 for at in windows if at <= loop_ended)
        print(
            f"burst {burst + 1}: {cpu / (SOCKETS * PUSHES) * 1e6:.2f} µs of CPU per"
            f" frame, push loop {loop_ended - started:.3f} s, windows written"
            f" {during} during it and {len(windows)} in all"
        )
        time.sleep(Flusher.idle_timeout + 0.5)  # the windows' thread ends
    for ours, _ in pairs:
        ours.close()
    os.waitpid(child, 0)


if __name__ == "__main__":
    main()
