"""Flusher, alone: it ends each window once, in order, on one thread that
comes and goes."""

from __future__ import annotations

import threading

from flask_realtime import flusher as flusher_module
from flask_realtime.flusher import Flusher

from ..support import wait_for


class Window:
    """Stands in for a Connection: records when its window ended."""

    def __init__(self, name: str, ended: list[str]) -> None:
        self.name = name
        self.ended = ended

    def end_window(self) -> None:
        self.ended.append(self.name)


class Failing:
    def end_window(self) -> None:
        raise OSError("the socket is gone")


def flusher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "flask-realtime-flusher"]


def test_each_window_ends_once_in_the_order_they_opened(caplog):
    flusher = Flusher(0.01)
    ended: list[str] = []
    windows = [Window(str(n), ended) for n in range(50)]
    for window in windows[:25]:
        flusher.open(window)  # type: ignore[arg-type]
    flusher.open(Failing())  # type: ignore[arg-type]
    for window in windows[25:]:
        flusher.open(window)  # type: ignore[arg-type]
    wait_for(lambda: len(ended) == 50)
    assert ended == [w.name for w in windows]
    assert "Writing a socket's frames failed" in caplog.text
    assert len(flusher_threads()) == 1


def test_the_thread_ends_when_idle_and_the_next_window_starts_another(monkeypatch):
    monkeypatch.setattr(Flusher, "idle_timeout", 0.05)
    flusher = Flusher(0.01)
    ended: list[str] = []
    flusher.open(Window("first", ended))  # type: ignore[arg-type]
    wait_for(lambda: ended == ["first"])
    wait_for(lambda: not flusher_threads())
    flusher.open(Window("second", ended))  # type: ignore[arg-type]
    wait_for(lambda: ended == ["first", "second"])
    wait_for(lambda: not flusher_threads())


def test_a_thread_that_cannot_start_is_tried_again_at_the_next_window(
    monkeypatch, caplog
):
    # Out of threads once (pids, memory): the push that opened the window
    # gets no error, and the next window starts the thread, which ends both.
    flusher = Flusher(0.01)
    ended: list[str] = []
    start = threading.Thread.start
    failures = iter([True])

    def start_once_failing(self: threading.Thread) -> None:
        if self.name == "flask-realtime-flusher" and next(failures, False):
            raise RuntimeError("can't start new thread")
        start(self)

    monkeypatch.setattr(threading.Thread, "start", start_once_failing)
    flusher.open(Window("a", ended))  # type: ignore[arg-type]
    assert "Could not start" in caplog.text
    flusher.open(Window("b", ended))  # type: ignore[arg-type]
    wait_for(lambda: ended == ["a", "b"])


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
    flusher = Flusher(0.005)
    first, second, third = b"first push", b"second push", b"third push"
    # Every subscriber of a push gets the same frame: one decision for all,
    # however long the push takes.
    for _ in range(3):
        assert not flusher.waits(first)
        clock.now += 0.004
    assert flusher.waits(second)  # within the delay of the last frame
    clock.now += 0.004
    assert flusher.waits(second)  # decided for the whole push
    clock.now += 0.006
    assert not flusher.waits(third)  # quiet for longer than the delay


def test_a_push_waits_while_windows_are_open_or_being_written(monkeypatch):
    # A pusher can stall longer than the delay (the GIL, a slow request);
    # a push after that joins the windows still open rather than write.
    clock = Clock()
    monkeypatch.setattr(flusher_module, "monotonic", clock)
    flusher = Flusher(0.005)
    flusher._windows.append((clock.now + 1, Window("open", [])))  # type: ignore[arg-type]
    clock.now += 1
    assert flusher.waits(b"a push")
    flusher._windows.clear()
    flusher._ending = True
    clock.now += 1
    assert flusher.waits(b"another push")
    flusher._ending = False
    clock.now += 1
    assert not flusher.waits(b"a third push")
