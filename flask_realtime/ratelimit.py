"""A per-connection limit on incoming messages."""

from __future__ import annotations

from time import monotonic


class RateLimiter:
    """A token bucket that also measures how far a client goes past it.

    Each message takes a token; tokens come back at ``rate`` per second up to
    ``burst``. A message without a token is refused, and the bucket goes into
    debt. A client whose debt reaches another ``burst`` is not slowing down
    after being told to, and should be disconnected.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = float(burst)
        self._updated = monotonic()

    def take(self) -> bool:
        """Take a token for one message; False if the message is over the
        limit."""
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
