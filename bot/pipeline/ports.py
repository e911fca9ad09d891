"""The doors between adapters and the core.

An adapter hands events in through `Intake` (before it acknowledges the platform)
and the outbox sends replies out through the adapter's `Outlet`. Defined here, on
the core's side, so neither side imports the other; `adapters/base.py` re-exports
them for adapter authors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.events import Actor, Event, Place, Reply, TicketCard

__all__ = ["AnswerDraft", "Drafts", "Intake", "LiveMessage", "Outlet", "Streams"]


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


class LiveMessage(Protocol):
    """A message the bot writes into while the model writes the answer.

    Nothing in it is stored: the finished answer goes to the outbox as usual, naming
    this message (`PostReply.live_message_id`), and the outlet puts it in place.
    """

    message_id: str | None
    """The platform's id once the first words are shown; None before."""

    async def append(self, text: str) -> None:
        """Show `text` after what is there (an outlet batches to its platform's pace)."""
        ...

    async def finish(self) -> None:
        """Stop streaming: the finished answer will replace what was shown."""
        ...

    async def abandon(self, note: str) -> None:
        """Stop streaming and end what was shown with `note` (no answer will follow)."""
        ...


@runtime_checkable
class Streams(Protocol):
    """An outlet that can show an answer as it is written (Slack's streaming methods,
    Discord's post-then-edit, the terminal)."""

    async def live(self, place: Place, requester: Actor, card: TicketCard) -> LiveMessage:
        """A message in `place` to stream into, for `requester` to read, about the
        ticket on `card` (a platform that names threads names it so); nothing is
        posted until its first `append`."""
        ...
