"""Rolling ticket summaries: refreshed after N new messages or when someone asks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.flow.answers import Writer
from bot.store.models import Summary, Ticket, utcnow
from bot.tickets.queries import call_context, facts_of, latest_summary, thread_lines

__all__ = ["Summaries"]


class Summaries:
    """Writes and reads the `summaries` table."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: Writer,
        *,
        every_messages: int = 5,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._writer = writer
        self._every = every_messages
        self._clock = clock

    async def refresh_if_due(self, ticket_id: int, *, seen: int | None = None) -> None:
        """Refresh when enough new messages arrived since the last summary.

        `seen`: the count as the caller last stored it. Below the threshold nothing is
        read: the count only grows by the caller's own messages (each checks for itself)
        and a refresh meanwhile only lowers it.
        """
        if seen is not None and seen < self._every:
            return
        async with self._sessions() as session:
            ticket = await session.get_one(Ticket, ticket_id)
        if ticket.messages_since_summary >= self._every:
            await self.refresh(ticket_id)

    async def current(self, ticket_id: int) -> str:
        """The up-to-date summary: the stored one, or a fresh one if messages came since."""
        async with self._sessions() as session:
            ticket = await session.get_one(Ticket, ticket_id)
            stored = await latest_summary(session, ticket_id)
        if stored is not None and stored.text and ticket.messages_since_summary == 0:
            return stored.text
        return await self.refresh(ticket_id)

    async def refresh(self, ticket_id: int) -> str:
        """Write a new summary from the previous one plus the thread, and return it."""
        async with self._sessions() as session:
            ticket = await session.get_one(Ticket, ticket_id)
            lines = await thread_lines(session, ticket, ticket.requester_id)
            previous = await latest_summary(session, ticket_id)
        context = call_context(ticket, "summary")
        summary = await self._writer.summarize(
            facts_of(ticket), lines, previous.text if previous else None, context=context
        )
        async with self._sessions.begin() as session:
            session.add(
                Summary(
                    ticket_id=ticket_id,
                    text=summary.text,
                    model=summary.model,
                    created_at=self._clock(),
                )
            )
            await session.execute(
                update(Ticket).where(Ticket.id == ticket_id).values(messages_since_summary=0)
            )
        return summary.text
