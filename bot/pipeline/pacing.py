"""Per-channel token buckets: a platform's short bursts allowed, then a steady rate.

Slack takes about one message a second per channel "with short bursts allowed";
Discord five per five seconds. A bucket holds `burst` tokens and refills at
`per_second`; a send takes one and waits only when the bucket is empty. A 429 with
Retry-After empties the channel's bucket for that long.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ChannelBuckets", "Pace", "TokenBucket"]


@dataclass(frozen=True)
class Pace:
    """A sending rate: `per_second` sustained, up to `burst` at once."""

    per_second: float = 1.0
    burst: int = 3


class TokenBucket:
    """One channel's budget of sends."""

    def __init__(self, pace: Pace, clock: Callable[[], float] = time.monotonic) -> None:
        self._pace = pace
        self._clock = clock
        self._tokens = float(pace.burst)
        self._at = clock()

    def wait_seconds(self) -> float:
        """How long until a send may go (0: now)."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self._pace.per_second

    def take(self) -> None:
        """Spend one send."""
        self._refill()
        self._tokens -= 1

    def hold(self, seconds: float) -> None:
        """The platform said wait (429 Retry-After): nothing goes for `seconds`."""
        self._refill()
        self._tokens = min(self._tokens, 0.0) - seconds * self._pace.per_second

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(
            float(self._pace.burst), self._tokens + (now - self._at) * self._pace.per_second
        )
        self._at = now


class ChannelBuckets:
    """A bucket per channel, created on first use."""

    def __init__(self, pace: Pace, clock: Callable[[], float] = time.monotonic) -> None:
        self._pace = pace
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def of(self, channel: str) -> TokenBucket:
        """The channel's bucket."""
        if channel not in self._buckets:
            self._buckets[channel] = TokenBucket(self._pace, self._clock)
        return self._buckets[channel]

    async def turn(self, channel: str) -> None:
        """Wait until the channel may take one more message, and spend it. Callers to
        one channel are expected to be one at a time (the outbox relay's lane)."""
        bucket = self.of(channel)
        wait = bucket.wait_seconds()
        while wait > 0:  # a 429 may push the bucket further back while we wait
            await asyncio.sleep(wait)
            wait = bucket.wait_seconds()
        bucket.take()
