"""Waiting for an `asyncio.Event` for at most so long, without losing a cancel.

Not `asyncio.wait_for`: on Python 3.11 a cancel that lands in the same turn of the loop
as the event being set is dropped there (the wake-up wins), and a worker cancelled at
that moment runs on for ever. `asyncio.timeout` tells its own timeout from a cancel
from outside.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["wait_set"]


async def wait_set(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set, for at most `seconds`; True when it was set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()
