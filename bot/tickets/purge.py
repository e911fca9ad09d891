"""Retention: every night, text older than the retention period is erased, with
every copy of it and what the bot derived from it; labels, costs and the audit trail stay.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Text, and_, cast, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.audit import audit
from bot.store.db import durable
from bot.store.models import (
    AuditEntry,
    InboxItem,
    LlmCall,
    Message,
    OutboxItem,
    Summary,
    Ticket,
    TriageRun,
)
from bot.tickets.scrub import (
    NO_SYNC,
    PLACEHOLDER,
    blank_replies,
    blank_text,
    erase_copies,
    erase_derived,
    labels_only,
    needles,
    replace_copies,
)

__all__ = ["purge_older_than"]

_FINISHED = ("done", "failed")


async def purge_older_than(
    sessions: async_sessionmaker[AsyncSession], cutoff: datetime, now: datetime
) -> int:
    """Retention: erase text older than `cutoff`, and every copy of it; keep the rest.

    What the bot derived from a thread with text this old (summaries, answers, cards)
    goes too, however new: it may quote the old text.

    Returns:
        How many messages had their text erased.
    """
    async with durable(sessions) as session:  # a promise to a person: on disk
        rows = (
            await session.execute(
                select(Message.ticket_id, Message.text, Message.posted_at).where(
                    Message.posted_at < cutoff, Message.text.is_not(None)
                )
            )
        ).all()
        await session.execute(
            update(Message)
            .where(Message.posted_at < cutoff)
            .where(or_(Message.text.is_not(None), Message.reasoning.is_not(None)))
            .values(text=None, reasoning=None)
            .execution_options(**NO_SYNC)
        )
        derived = await erase_derived(session, {r.ticket_id for r in rows})
        await _purge_old_copies(session, cutoff)
        await erase_copies(session, set(), derived)
        if rows:
            # The audit trail stays; a quote in it (it should hold none) does not.
            since = min(r.posted_at for r in rows) - timedelta(days=1)
            await replace_copies(
                session,
                needles(r.text for r in rows),
                [AuditEntry.__table__.c.detail],
                AuditEntry.at >= since,
                AuditEntry.at < cutoff,
            )
        audit(
            session,
            actor="bot",
            action="retention.purged",
            target="messages",
            at=now,
            messages=len(rows),
            cutoff=cutoff.isoformat(),
        )
    return len(rows)


async def _purge_old_copies(session: AsyncSession, cutoff: datetime) -> None:
    """Everything older than `cutoff` in the tables that keep copies of text."""
    statements = (
        update(Summary)
        .where(Summary.created_at < cutoff, Summary.text.is_not(None))
        .values(text=None),
        update(Ticket)
        .where(Ticket.created_at < cutoff, Ticket.summary.is_not(None))
        .values(summary=None),
        update(LlmCall)
        .where(LlmCall.created_at < cutoff, LlmCall.error.is_not(None))
        .values(error=None),
    )
    for statement in statements:
        await session.execute(statement.execution_options(**NO_SYNC))
    emptied = cast(InboxItem.payload, Text) == "{}"
    await session.execute(
        update(InboxItem)
        .where(InboxItem.received_at < cutoff, InboxItem.status.in_(_FINISHED))
        .where(or_(~emptied, InboxItem.last_error.is_not(None)))
        .values(payload={}, last_error=None)
        .execution_options(**NO_SYNC)
    )
    for row_id, payload in (
        await session.execute(
            select(InboxItem.id, InboxItem.payload).where(
                InboxItem.received_at < cutoff, InboxItem.status.not_in(_FINISHED)
            )
        )
    ).all():
        await session.execute(
            update(InboxItem)
            .where(InboxItem.id == row_id)
            .values(payload=blank_text(payload), last_error=None)
        )
    # A card stays readable (its posted copy is updated in place), without its words.
    sent = and_(OutboxItem.status == "sent", OutboxItem.is_card.is_(False))
    await session.execute(
        update(OutboxItem)
        .where(OutboxItem.created_at < cutoff, sent)
        .where(or_(cast(OutboxItem.payload, Text) != "{}", OutboxItem.last_error.is_not(None)))
        .values(payload={}, last_error=None)
        .execution_options(**NO_SYNC)
    )
    worded = OutboxItem.payload[("card", "summary")].as_string().not_in(["", PLACEHOLDER])
    unsent = OutboxItem.status != "sent"
    await blank_replies(
        session,
        and_(
            OutboxItem.created_at < cutoff, or_(unsent, and_(OutboxItem.is_card.is_(True), worded))
        ),
    )
    # Only verdicts still holding words: earlier nights did the rest.
    worded_runs = select(TriageRun.id, TriageRun.result).where(
        TriageRun.created_at < cutoff, TriageRun.result["summary"].as_string().is_not(None)
    )
    for run_id, result in (await session.execute(worded_runs)).all():
        if labels_only(result) != result:
            await session.execute(
                update(TriageRun).where(TriageRun.id == run_id).values(result=labels_only(result))
            )
