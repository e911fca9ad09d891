"""The two doors between adapters and the core.

An adapter hands events in through `Intake` (before it acknowledges the platform)
and the outbox sends replies out through the adapter's `Outlet`. Defined here, on
the core's side, so neither side imports the other; `adapters/base.py` re-exports
them for adapter authors.
"""

from __future__ import annotations

from typing import Protocol

from bot.events import Event, Reply

__all__ = ["Intake", "Outlet"]


class Intake(Protocol):
    """How an adapter hands an event to the core (before it acknowledges the platform)."""

    async def submit(self, event: Event) -> bool:
        """Store the event durably; False when it was a duplicate."""
        ...


class Outlet(Protocol):
    """What an adapter offers the core: render and send one neutral reply."""

    async def deliver(self, reply: Reply) -> str | None:
        """Send `reply`; return the platform id of the message posted, if any.

        Raises:
            bot.DeliveryFailed: the platform refused or could not be reached.
        """
        ...
