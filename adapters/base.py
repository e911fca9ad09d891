"""What every adapter shares: the two doors into the core, the lifecycle, text splitting.

An adapter translates platform payloads into `bot.events` and hands them to
`Intake.submit()` before acknowledging the platform; it renders the core's neutral
replies through its `Outlet.deliver()`. It never touches the database or the model.
The `Intake`, `Outlet` and `Drafts` protocols are defined by the core
(`bot.pipeline.ports`), the one side both know.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.events import Ephemeral, Notify, PostReply, PublishHome, Reply, Seen, UpdateCard
from bot.pipeline.ports import AnswerDraft, Drafts, Intake, Outlet

__all__ = [
    "Adapter",
    "AnswerDraft",
    "Drafts",
    "Intake",
    "Outlet",
    "OutletBase",
    "split_text",
]


class Adapter(Protocol):
    """A running platform connection: its outlet, and a stop."""

    outlet: Outlet

    async def stop(self) -> None:
        """Disconnect; safe to call twice."""
        ...


class OutletBase:
    """An `Outlet` that hands each kind of reply to its own method.

    A platform overrides the kinds it shows; the rest are not shown there (None).
    """

    async def deliver(self, reply: Reply) -> str | None:
        """Send `reply` in the platform's own form; the posted message's id, if any."""
        send: Any = {
            PostReply: self.post_reply,
            UpdateCard: self.update_card,
            Notify: self.notify,
            Ephemeral: self.ephemeral,
            PublishHome: self.publish_home,
            Seen: self.seen,
        }[type(reply)]
        return await send(reply)

    async def post_reply(self, reply: PostReply) -> str | None:
        """Text and/or a card in a thread (or a shared command answer)."""
        return None

    async def update_card(self, reply: UpdateCard) -> str | None:
        """Re-render a posted card in place."""
        return None

    async def notify(self, reply: Notify) -> str | None:
        """A notice in the leads channel."""
        return None

    async def ephemeral(self, reply: Ephemeral) -> str | None:
        """A message only one person sees."""
        return None

    async def publish_home(self, reply: PublishHome) -> str | None:
        """A person's home view."""
        return None

    async def seen(self, reply: Seen) -> str | None:
        """Show (or take away) the sign that a message was seen and is being answered."""
        return None


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, at line or word ends if possible.

    Never returns an empty list: empty text is one empty piece.
    """
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces
