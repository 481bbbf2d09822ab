"""A per-connection limit on incoming messages and pings."""

from __future__ import annotations

import threading
from collections import OrderedDict
from time import monotonic


class RateLimiter:
    """A token bucket that also measures how far a client goes past it.

    Each message (and each ping) takes a token; tokens come back at ``rate``
    per second up to ``burst``. A message without a token is refused, and the
    bucket goes into debt. A client whose debt reaches another ``burst`` is
    not slowing down after being told to, and should be disconnected.

    Thread-safe: the socket's thread takes tokens for messages, its reader
    thread for pings.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = float(burst)
        self._updated = monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take a token for one message; False if the message is over the
        limit."""
        with self._lock:
            now = monotonic()
            self._tokens = min(
                self._burst, self._tokens + (now - self._updated) * self._rate
            )
            self._updated = now
            self._tokens -= 1
            return self._tokens >= 0

    @property
    def exhausted(self) -> bool:
        """Whether the client went a whole burst past the limit."""
        return self._tokens < -self._burst


class RateLimits:
    """The :class:`RateLimiter` of each connection id in this process.

    A reconnect with the same id gets the bucket its last socket left, so
    that reconnecting does not refill it. A bucket is kept after its socket
    ends for as long as it takes to refill from the deepest debt a socket can
    run up; after that a fresh one is the same, and it is forgotten. So the
    memory held is bounded by the rate of reconnects, for a few seconds.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        # Debt stops one message past -burst, then the socket is closed.
        self._keep = (2 * burst + 1) / rate
        self._lock = threading.Lock()
        # digest -> (limiter, sockets using it)
        self._live: dict[str, tuple[RateLimiter, int]] = {}
        # digest -> (limiter, time to forget it); in order of that time.
        self._resting: OrderedDict[str, tuple[RateLimiter, float]] = OrderedDict()

    def acquire(self, digest: str) -> RateLimiter:
        """The bucket of a socket that starts; call :meth:`release` when it
        ends."""
        with self._lock:
            self._sweep(monotonic())
            if digest in self._live:
                limiter, users = self._live[digest]
            else:
                resting = self._resting.pop(digest, None)
                limiter = (
                    resting[0] if resting else RateLimiter(self._rate, self._burst)
                )
                users = 0
            self._live[digest] = (limiter, users + 1)
            return limiter

    def release(self, digest: str) -> None:
        with self._lock:
            now = monotonic()
            limiter, users = self._live.pop(digest)
            if users > 1:
                self._live[digest] = (limiter, users - 1)
            else:
                self._resting[digest] = (limiter, now + self._keep)
            self._sweep(now)

    def __len__(self) -> int:
        """How many buckets are held (for tests and stats)."""
        with self._lock:
            self._sweep(monotonic())
            return len(self._live) + len(self._resting)

    def _sweep(self, now: float) -> None:
        resting = self._resting
        while resting:
            digest, (_, forget_at) = next(iter(resting.items()))
            if forget_at > now:
                return
            del resting[digest]
