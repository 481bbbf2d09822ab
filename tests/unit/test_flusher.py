"""Flusher, alone: when a push waits, and how a window's pushes reach their
sockets (fakes that record what they are handed)."""

from __future__ import annotations

import threading

from flask_realtime import flusher as flusher_module
from flask_realtime.flusher import Flusher

from ..support import wait_for

#: Long enough that no window ends by itself during a test that settles.
NEVER = 60.0


class Socket:
    """Stands in for a Connection: records what it is handed, and how it
    was closed."""

    def __init__(self) -> None:
        self.handed: list[bytes] = []
        self.closed: int | None = None

    def send_frame(self, frame: bytes, *, window: bool = False) -> None:
        assert window
        self.handed.append(frame)

    def close(self, code: int, reason: str = "") -> None:
        self.closed = code


class Failing(Socket):
    def send_frame(self, frame: bytes, *, window: bool = False) -> None:
        raise MemoryError


def flusher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "flask-realtime-flusher"]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_push_after_a_quiet_moment_goes_at_once_and_those_that_follow_wait(
    monkeypatch,
):
    clock = Clock()
    monkeypatch.setattr(flusher_module, "monotonic", clock)
    flusher = Flusher(0.005, 1 << 20)
    assert not flusher.waits()
    clock.now += 0.004
    assert flusher.waits()  # within the delay of the last push
    clock.now += 0.006
    assert not flusher.waits()  # quiet for longer than the delay
    # A push written at once lasts longer than the delay, at 1,000 sockets:
    # the quiet moment starts when it has been written.
    clock.now += 0.020
    flusher.written()
    clock.now += 0.001
    assert flusher.waits()


def test_a_push_waits_while_a_window_is_open(monkeypatch):
    # A pusher can stall longer than the delay (the GIL, a slow request); a
    # push after that joins the window still open rather than pass it.
    clock = Clock()
    monkeypatch.setattr(flusher_module, "monotonic", clock)
    flusher = Flusher(NEVER, 1 << 20)
    flusher.add(b"waits", (Socket(),))
    clock.now += 2 * NEVER
    assert flusher.pending and flusher.waits()
    flusher.settle()
    assert not flusher.pending


def test_each_socket_gets_its_frames_of_a_window_in_one_piece_in_order():
    flusher = Flusher(NEVER, 1 << 20)
    a, b, c = Socket(), Socket(), Socket()
    room, other_room = (a, b), (b, c)
    flusher.add(b"1", room)
    flusher.add(b"2", room)
    flusher.add(b"3", other_room)
    flusher.add(b"4", room)
    assert (a.handed, b.handed, c.handed) == ([], [], [])
    flusher.settle()
    assert a.handed == [b"124"]
    assert b.handed == [b"1234"]
    assert c.handed == [b"3"]
    flusher.settle()  # nothing waits: nothing more is handed
    assert (len(a.handed), len(b.handed), len(c.handed)) == (1, 1, 1)


def test_pushes_to_the_same_sockets_are_joined_once():
    flusher = Flusher(NEVER, 1 << 20)
    sockets = tuple(Socket() for _ in range(3))
    for n in range(10):
        flusher.add(b"%d," % n, sockets)
    flusher.settle()
    first = sockets[0].handed[0]
    assert first == b"0,1,2,3,4,5,6,7,8,9,"
    assert all(s.handed[0] is first for s in sockets)


def test_a_window_ends_by_itself_after_the_delay_and_a_failing_socket_stops_no_other(
    caplog,
):
    flusher = Flusher(0.01, 1 << 20)
    before, failing, after = Socket(), Failing(), Socket()
    flusher.add(b"frame", (before, failing, after))
    wait_for(lambda: after.handed == [b"frame"])
    assert before.handed == [b"frame"]
    assert "Writing a socket's frames failed" in caplog.text
    # Its stream would have a hole: it is closed, to reconnect and replay.
    assert failing.closed == 1011 and before.closed is after.closed is None
    assert not flusher.pending


def test_a_window_that_cannot_be_handed_out_closes_its_sockets(monkeypatch, caplog):
    def out_of_memory(pushes: object) -> None:
        raise MemoryError

    monkeypatch.setattr(flusher_module, "_compose", out_of_memory)
    flusher = Flusher(NEVER, 1 << 20)
    room, other = (Socket(), Socket()), (Socket(),)
    flusher.add(b"fine", room)
    flusher.add(b"also fine", other)
    flusher.settle()
    assert "Handing out a window failed" in caplog.text
    assert [s.closed for s in (*room, *other)] == [1011, 1011, 1011]
    assert not flusher.pending


def test_a_window_of_many_runs_ends_before_it_holds_too_many_sockets(monkeypatch):
    # A push with exclude gets a tuple of its own: each costs the window
    # a reference per socket, and the window ends before they add up.
    monkeypatch.setattr(flusher_module, "WINDOW_SOCKETS", 10)
    flusher = Flusher(NEVER, 1 << 20)
    sockets = tuple(Socket() for _ in range(4))
    for _ in range(5):  # one run: its sockets count once
        flusher.add(b"x", sockets)
    assert flusher.pending
    flusher.add(b"y", sockets[:3])  # 7
    assert flusher.pending
    flusher.add(b"z", sockets[1:])  # 10: full, handed out by this push
    assert not flusher.pending
    assert [s.handed for s in sockets] == [
        [b"xxxxxy"],
        [b"xxxxxyz"],
        [b"xxxxxyz"],
        [b"xxxxxz"],
    ]


def test_a_window_that_fills_is_handed_out_by_the_pusher():
    # 64 KiB, or half the backlog if that is less: here 50,000 bytes.
    flusher = Flusher(NEVER, 100_000)
    socket = Socket()
    frame = b"x" * 10_000
    for _ in range(4):
        flusher.add(frame, (socket,))
    assert socket.handed == []
    flusher.add(frame, (socket,))
    assert socket.handed == [frame * 5] and not flusher.pending


def test_the_thread_ends_when_idle_and_the_next_window_starts_another(monkeypatch):
    monkeypatch.setattr(Flusher, "idle_timeout", 0.05)
    flusher = Flusher(0.01, 1 << 20)
    socket = Socket()
    flusher.add(b"first", (socket,))
    wait_for(lambda: socket.handed == [b"first"])
    wait_for(lambda: not flusher_threads())
    flusher.add(b"second", (socket,))
    wait_for(lambda: socket.handed == [b"first", b"second"])
    wait_for(lambda: not flusher_threads())


def test_a_thread_that_cannot_start_is_tried_again_at_the_next_push(
    monkeypatch, caplog
):
    # Out of threads once (pids, memory): the push gets no error, and the
    # next push that waits starts the thread, which hands out both.
    monkeypatch.setattr(Flusher, "idle_timeout", 0.05)
    flusher = Flusher(0.01, 1 << 20)
    socket = Socket()
    start = threading.Thread.start
    failures = iter([True])

    def start_once_failing(self: threading.Thread) -> None:
        if self.name == "flask-realtime-flusher" and next(failures, False):
            raise RuntimeError("can't start new thread")
        start(self)

    monkeypatch.setattr(threading.Thread, "start", start_once_failing)
    flusher.add(b"a", (socket,))
    assert "Could not start" in caplog.text
    flusher.add(b"b", (socket,))
    wait_for(lambda: socket.handed == [b"ab"])


def test_settle_returns_only_once_a_window_under_way_is_handed_out():
    # A reply settles the window before it is written: if another thread is
    # handing it out, the reply must wait until its socket has its frames.
    flusher = Flusher(NEVER, 1 << 20)
    release = threading.Event()
    handed = []

    class Slow(Socket):
        def send_frame(self, frame: bytes, *, window: bool = False) -> None:
            release.wait(10)
            handed.append(frame)

    flusher.add(b"frame", (Slow(),))
    first = threading.Thread(target=flusher.settle)
    first.start()
    wait_for(lambda: not flusher._pushes)  # the first has taken the window
    assert flusher.pending
    second = threading.Thread(target=flusher.settle)
    second.start()
    second.join(0.2)
    assert second.is_alive() and handed == []
    release.set()
    first.join(10)
    second.join(10)
    assert handed == [b"frame"] and not flusher.pending
