"""Erasing a person: the text of everything they wrote, and summaries that may quote it.

Ticket metadata, labels, costs and the audit trail stay; the audit row records who
asked, for whom and how many messages, never any content.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import InboxItem, Message, Summary, Ticket
from bot.tickets import audit

__all__ = ["erase_user"]


async def erase_user(
    sessions: async_sessionmaker[AsyncSession],
    *,
    user_id: str,
    actor: str,
    now: datetime,
    platform: str | None = None,
    workspace_id: str | None = None,
) -> int:
    """Erase `user_id`'s stored message text (optionally on one platform or workspace).

    Returns:
        How many messages had their text erased.
    """
    where = [Message.author_id == user_id, Message.text.is_not(None)]
    if platform is not None:
        where.append(Ticket.platform == platform)
    if workspace_id is not None:
        where.append(Ticket.workspace_id == workspace_id)
    async with sessions.begin() as session:
        rows = (
            await session.execute(
                select(Message.id, Message.ticket_id, Message.message_id).join(Ticket).where(*where)
            )
        ).all()
        ids = [r.id for r in rows]
        if ids:
            await session.execute(
                update(Message).where(Message.id.in_(ids)).values(text=None, deleted_at=now)
            )
            await session.execute(
                update(Summary)
                .where(Summary.ticket_id.in_({r.ticket_id for r in rows}))
                .values(text=None)
            )
            # The inbox still holds the events' payloads: drop those copies too.
            await session.execute(
                update(InboxItem)
                .where(
                    InboxItem.status.in_(("done", "failed")),
                    InboxItem.payload["message_id"].as_string().in_([r.message_id for r in rows]),
                )
                .values(payload={})
            )
        audit(
            session,
            actor=actor,
            action="user.forgotten",
            target=f"{platform or 'any'}:{user_id}",
            at=now,
            messages=len(ids),
        )
    return len(ids)
