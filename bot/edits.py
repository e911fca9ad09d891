"""Edits and deletions on the platform, mirrored in the stored text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.events import Place
from bot.store.models import Message, Summary, Ticket
from bot.tickets import audit

__all__ = ["apply_edit"]


async def apply_edit(
    sessions: async_sessionmaker[AsyncSession],
    place: Place,
    message_id: str,
    new_text: str | None,
    now: datetime,
) -> None:
    """Update a stored message's text, or erase it (and its ticket's summaries) when None."""
    query = (
        select(Message)
        .join(Ticket, Message.ticket_id == Ticket.id)
        .where(
            Message.message_id == message_id,
            Ticket.platform == place.platform.value,
            Ticket.workspace_id == place.workspace_id,
            # Discord reports a thread message's channel as the thread itself.
            or_(Ticket.channel_id == place.channel_id, Ticket.thread_id == place.channel_id),
        )
    )
    async with sessions.begin() as session:
        for message in (await session.scalars(query)).all():
            message.text = new_text
            if new_text is not None:
                message.edited_at = now
                continue
            message.deleted_at = now
            # Summaries may quote the erased text: erase them too.
            await session.execute(
                update(Summary).where(Summary.ticket_id == message.ticket_id).values(text=None)
            )
            audit(
                session,
                actor=f"{place.platform}:{message.author_id}",
                action="message.erased",
                target=f"ticket:{message.ticket_id}",
                at=now,
            )
