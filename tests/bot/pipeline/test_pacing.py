"""Token buckets per channel: a short burst at once, then the steady rate; a 429 holds."""

from __future__ import annotations

from bot.pipeline.pacing import ChannelBuckets, Pace, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_at_once_then_one_a_second() -> None:
    clock = Clock()
    bucket = TokenBucket(Pace(per_second=1.0, burst=3), clock)
    for _ in range(3):
        assert bucket.wait_seconds() == 0
        bucket.take()
    assert bucket.wait_seconds() == 1.0
    clock.now += 0.5
    assert bucket.wait_seconds() == 0.5
    clock.now += 0.5
    assert bucket.wait_seconds() == 0
    bucket.take()
    clock.now += 60  # a quiet minute refills only up to the burst
    for _ in range(3):
        bucket.take()
    assert bucket.wait_seconds() == 1.0


def test_retry_after_holds_the_channel_that_long() -> None:
    clock = Clock()
    bucket = TokenBucket(Pace(per_second=1.0, burst=3), clock)
    bucket.hold(5)
    assert bucket.wait_seconds() == 6.0  # 5 s of Retry-After, then the next token
    clock.now += 6
    assert bucket.wait_seconds() == 0


def test_each_channel_has_its_own_bucket() -> None:
    clock = Clock()
    buckets = ChannelBuckets(Pace(per_second=1.0, burst=1), clock)
    buckets.of("C_HELP").take()
    assert buckets.of("C_HELP").wait_seconds() == 1.0
    assert buckets.of("C_OTHER").wait_seconds() == 0
