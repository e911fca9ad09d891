"""The doors between adapters and the core.

An adapter hands events in through `Intake` (before it acknowledges the platform)
and the outbox sends replies out through the adapter's `Outlet`. Defined here, on
the core's side, so neither side imports the other; `adapters/base.py` re-exports
them for adapter authors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.events import Actor, Event, Place, Reply

__all__ = ["AnswerDraft", "Drafts", "Intake", "Outlet"]


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


@dataclass(frozen=True)
class AnswerDraft:
    """A question and answer drafted from a resolved ticket, for a lead to edit."""

    ticket_id: int
    question: str
    answer: str


class Drafts(Protocol):
    """How an adapter fetches the draft a "Save as answer" form opens with.

    Read synchronously while the platform waits (a Slack trigger or a Discord
    interaction lasts 3 seconds), so it never calls a model: the draft was written
    when the ticket was resolved, or is made from the thread on the spot.
    """

    async def draft_for(self, actor: Actor, place: Place, ticket_id: int) -> AnswerDraft | None:
        """The draft for `ticket_id`, or None when `actor` may not save it (not a lead,
        another workspace's ticket, a ticket not resolved)."""
        ...
