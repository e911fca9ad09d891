"""Erasure: edits and deletes mirrored, a person forgotten, old text purged.

Ticket metadata, labels, costs and the audit trail stay; every audit row records
who asked, for whom and how many messages, never any content.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.events import Place
from bot.store.audit import audit
from bot.store.models import InboxItem, Message, OutboxItem, Summary, Ticket, TriageRun

__all__ = ["apply_edit", "erase_user", "purge_older_than"]


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


async def purge_older_than(
    sessions: async_sessionmaker[AsyncSession], cutoff: datetime, now: datetime
) -> int:
    """Retention: erase message text, summaries and copies older than `cutoff`; keep the rest.

    Returns:
        How many messages had their text erased.
    """
    async with sessions.begin() as session:
        erased = (
            await session.execute(
                update(Message)
                .where(Message.posted_at < cutoff, Message.text.is_not(None))
                .values(text=None, reasoning=None)
            )
        ).rowcount  # type: ignore[attr-defined]
        await session.execute(update(Summary).where(Summary.created_at < cutoff).values(text=None))
        await session.execute(update(Ticket).where(Ticket.created_at < cutoff).values(summary=None))
        # Copies of text in the pipeline's own tables go too.
        await session.execute(
            update(InboxItem)
            .where(InboxItem.received_at < cutoff, InboxItem.status.in_(("done", "failed")))
            .values(payload={})
        )
        await session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.created_at < cutoff,
                OutboxItem.status == "sent",
                OutboxItem.is_card.is_(False),
            )
            .values(payload={})
        )
        for run in (
            await session.scalars(
                select(TriageRun).where(
                    TriageRun.created_at < cutoff,
                    # Only runs still holding a summary: earlier nights did the rest.
                    TriageRun.result["summary"].as_string().is_not(None),
                )
            )
        ).all():
            run.result = {k: v for k, v in run.result.items() if k != "summary"}
        audit(
            session,
            actor="bot",
            action="retention.purged",
            target="messages",
            at=now,
            messages=erased,
            cutoff=cutoff.isoformat(),
        )
    return int(erased or 0)
