"""The windows of ``REALTIME_WRITE_DELAY``: pushes that wait a few
milliseconds, and then go to each socket in one write.

A push that waits is recorded here once, with the sockets it is for,
whatever their number (:meth:`Flusher.add`); the pusher touches no socket.
When the window ends, this module's thread hands them out
(:meth:`Flusher.settle`): the frames of consecutive pushes to the same
sockets are joined once, and each socket gets the bytes of all its frames of
the window in one write, without blocking, as a pusher would write one frame
without a delay. A chat room's burst of 100 pushes to 1,000 sockets is one
join and 1,000 writes, instead of 100,000 of each.

A push written at once never passes one that waits: anything else written to
a socket (a reply, a presence change, a replay, a close) first settles the
window (see :meth:`Connection.send_frame
<flask_realtime.connection.Connection.send_frame>`).

It is one thread (a greenlet under gevent) for the whole application,
rather than each socket's own thread: waking 1,000 threads for each window
made them fight over the GIL with the pusher.
"""

from __future__ import annotations

import logging
import threading
import typing as t
from time import monotonic

from .protocol import CLOSE_INTERNAL_ERROR

logger = logging.getLogger("flask_realtime")

#: Bytes of frames after which a window ends early: one write per 64 KiB
#: costs little beside copying them, and frames held longer would only fill
#: the sockets' backlogs.
WINDOW_SIZE = 64 * 1024

#: Sockets a window may hold, counted once for each run of pushes to other
#: sockets than the push before (a push with ``exclude`` starts one): the
#: references those cost, about 16 bytes each, are what a window's memory
#: grows with besides its frames. A million is about 16 MB.
WINDOW_SOCKETS = 1_000_000


class WindowSubscriber(t.Protocol):
    """What a window is handed to: a socket's
    :class:`~flask_realtime.connection.Connection`."""

    def send_frame(self, frame: bytes, *, window: bool = False) -> None: ...

    def close(self, code: int, reason: str = "") -> None: ...


#: One push that waits: its frame, and the sockets it is for.
Push = tuple[bytes, tuple[WindowSubscriber, ...]]


class Flusher:
    """Holds the pushes of a window for ``delay`` seconds, then hands each
    socket its frames, on a thread of its own that ends when it has been
    idle for a second.

    :param max_backlog: ``REALTIME_MAX_BACKLOG``: a window ends before it
        holds half as many bytes, so that a socket that reads can take it.
    """

    #: Seconds without pushes after which the thread ends; the next push
    #: that waits starts another.
    idle_timeout = 1.0

    def __init__(self, delay: float, max_backlog: int) -> None:
        #: Seconds a window lasts.
        self.delay = delay
        #: Bytes at which a window ends early.
        self.window_size = min(WINDOW_SIZE, max_backlog // 2)
        # Guards the window; the thread waits on _wake for it to open.
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pushes: list[Push] = []
        self._size = 0
        self._sockets = 0  # see WINDOW_SOCKETS
        self._ends_at = 0.0
        self._thread: threading.Thread | None = None
        # Held while a window is handed out, so that whoever settles returns
        # only once the sockets have their frames.
        self._settle_lock = threading.Lock()
        # The thread handing a window out, if one is: a socket closed from
        # there (a failure, see _hand_out) must not wait for itself.
        self._handing_thread: int | None = None
        # When the last push came; pushes come one at a time, under the
        # hub's lock.
        self._last_push_at = float("-inf")

    @property
    def pending(self) -> bool:
        """Whether pushes wait, or are being handed out: a frame written to
        one of their sockets now must :meth:`settle` them first."""
        return self._handing_thread is not None or bool(self._pushes)

    def waits(self) -> bool:
        """Whether the push about to be delivered waits for the window, or
        is written at once. Asked once per push.

        A push is written at once when this process was quiet before it: no
        push came within the delay, and no window is open or being handed
        out. There is nothing to gather it with, and waiting would only add
        the delay to its latency. The pushes that follow within the delay
        wait, and go out together. (The hub says when a push written at
        once has :meth:`ended <written>`: at 1,000 sockets it lasts longer
        than a short delay, and the next push must not find the process
        quiet.)"""
        now = monotonic()
        waits = self.pending or now - self._last_push_at < self.delay
        self._last_push_at = now
        return waits

    def written(self) -> None:
        """A push written at once has ended; the quiet moment the next one
        needs starts now."""
        self._last_push_at = monotonic()

    def add(self, frame: bytes, sockets: tuple[WindowSubscriber, ...]) -> None:
        """Have ``frame`` written to ``sockets`` when the window ends, or at
        once if it fills the window. Each socket gets frames in the order
        they were added."""
        with self._lock:
            opened = not self._pushes
            if opened or self._pushes[-1][1] is not sockets:
                self._sockets += len(sockets)
            self._pushes.append((frame, sockets))
            self._size += len(frame)
            full = self._size >= self.window_size or self._sockets >= WINDOW_SOCKETS
            if opened:
                self._ends_at = monotonic() + self.delay
            if not full:
                if self._thread is None:  # tried again while it cannot start
                    self._start()
                elif opened:
                    self._wake.set()  # it waits with no window open
        if full:
            # Now, by the pusher: a fast burst must not pile up frames, as
            # it would under gevent, where a push loop never yields.
            self.settle()

    def settle(self) -> None:
        """Hand every push that waits to its sockets now; return once they
        have them (written, or queued behind what each socket has yet to
        take)."""
        if self._handing_thread == threading.get_ident():
            return  # a socket closed by the hand-out under way
        with self._settle_lock:
            # Set before the window is taken: pending must not look false
            # between the two.
            self._handing_thread = threading.get_ident()
            try:
                with self._lock:
                    pushes, self._pushes = self._pushes, []
                    self._size = self._sockets = 0
                    # The thread waits for the end of a window that is gone:
                    # from now on it waits to be idle.
                    self._wake.set()
                if pushes:
                    _hand_out(pushes)
            finally:
                self._handing_thread = None

    def _run(self) -> None:
        try:
            while self._wait_for_window_end():
                self.settle()
        finally:
            with self._lock:
                self._thread = None
                # Opened as the thread was ending, or it was ended by
                # something no catch stops: the window needs another.
                if self._pushes:
                    self._start()

    def _wait_for_window_end(self) -> bool:
        """Wait until the open window ends: True then, False once no window
        has opened for ``idle_timeout``."""
        idle_until = monotonic() + self.idle_timeout
        while True:
            with self._lock:
                now = monotonic()
                if self._pushes:
                    if now >= self._ends_at:
                        return True
                    timeout = self._ends_at - now
                elif now >= idle_until:
                    return False
                else:
                    timeout = idle_until - now
                # Cleared under the lock: an add() from now on sets it.
                self._wake.clear()
            self._wake.wait(timeout)

    def _start(self) -> None:
        thread = threading.Thread(
            target=self._run, name="flask-realtime-flusher", daemon=True
        )
        try:
            thread.start()
        except RuntimeError:
            # Out of threads: the window waits, and the next push that
            # waits tries again. Never raised into the push.
            logger.exception("Could not start the thread that ends windows")
            return
        self._thread = thread


def _hand_out(pushes: list[Push]) -> None:
    """Write each socket's frames of a window in one write, in order.

    A socket whose frames could not be handed over (memory ran out, say) is
    closed with 1011, rather than left with a hole in its stream: its page
    reconnects with its positions and the replay brings what it missed."""
    try:
        _compose(pushes)
    except Exception:
        logger.exception("Handing out a window failed; closing its sockets")
        for socket in {socket for _, sockets in pushes for socket in sockets}:
            _close(socket)


def _compose(pushes: list[Push]) -> None:
    # Consecutive pushes to the same sockets (one channel, whose subscribers
    # did not change) share one join.
    runs: list[tuple[list[bytes], tuple[WindowSubscriber, ...]]] = []
    for frame, sockets in pushes:
        if runs and runs[-1][1] is sockets:
            runs[-1][0].append(frame)
        else:
            runs.append(([frame], sockets))
    if len(runs) == 1:
        frames, sockets = runs[0]
        _send(b"".join(frames), sockets)
        return
    # Several channels: each socket's share, in the order of the pushes.
    shares: dict[WindowSubscriber, list[bytes]] = {}
    for frames, sockets in runs:
        data = b"".join(frames)
        for socket in sockets:
            share = shares.get(socket)
            if share is None:
                shares[socket] = [data]
            else:
                share.append(data)
    for socket, share in shares.items():
        _send(share[0] if len(share) == 1 else b"".join(share), (socket,))


def _send(data: bytes, sockets: t.Iterable[WindowSubscriber]) -> None:
    for socket in sockets:
        try:
            socket.send_frame(data, window=True)
        except Exception:  # one socket must not stop the others
            logger.exception("Writing a socket's frames failed; closing it")
            _close(socket)


def _close(socket: WindowSubscriber) -> None:
    try:
        socket.close(CLOSE_INTERNAL_ERROR, "frames lost, reconnect")
    except Exception:
        logger.exception("Closing a socket failed")
