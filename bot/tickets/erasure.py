"""Erasure: edits and deletes mirrored, a person forgotten, old text purged.

Erasing a message erases every copy of it: the events that carried it, the text the
bot derived from its ticket's thread (summaries, the ticket summary, the verdict's
words, the bot's answers and thinking, cards, briefs, replies), and any verbatim
quote of it elsewhere (errors, audit notes, other messages); see `bot.tickets.scrub`.
Ticket metadata, labels, costs and the audit trail stay; every audit row records
who asked, for whom and how many messages, never any content.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.events import Place
from bot.knowledge.base import forget_saved_answers
from bot.store.audit import audit
from bot.store.db import durable
from bot.store.models import InboxItem, LlmCall, Message, Ticket
from bot.tickets.purge import purge_older_than
from bot.tickets.scrub import NO_SYNC, erase_copies, erase_derived, scrub_events

__all__ = ["apply_edit", "erase_user", "purge_older_than"]


def _message_events(platform: str, message_ids: list[str]) -> ColumnElement[bool]:
    """The inbox events (post, edits, delete) about these messages."""
    if not message_ids:
        return false()
    return and_(
        InboxItem.platform == platform,
        InboxItem.payload["message_id"].as_string().in_(message_ids),
    )


async def apply_edit(
    sessions: async_sessionmaker[AsyncSession],
    place: Place,
    message_id: str,
    new_text: str | None,
    now: datetime,
) -> None:
    """Update a stored message's text, or erase it and every copy of it when None."""
    query = (
        select(Message.id, Message.ticket_id, Message.author_id, Message.text, Message.deleted_at)
        .join(Ticket, Message.ticket_id == Ticket.id)
        .where(
            Message.message_id == message_id,
            Ticket.platform == place.platform.value,
            Ticket.workspace_id == place.workspace_id,
            # Discord reports a thread message's channel as the thread itself.
            or_(Ticket.channel_id == place.channel_id, Ticket.thread_id == place.channel_id),
        )
    )
    async with durable(sessions) as session:  # a promise to a person: on disk
        rows = (await session.execute(query)).all()
        if new_text is not None:
            live = [r.id for r in rows if r.deleted_at is None]
            if live:
                await session.execute(
                    update(Message)
                    .where(Message.id.in_(live))
                    .values(text=new_text, edited_at=now)
                    .execution_options(**NO_SYNC)
                )
            elif rows:
                # An edit arriving after the delete must not bring the text back.
                events = _message_events(place.platform.value, [message_id])
                await erase_copies(session, await scrub_events(session, events), set())
            return
        # The events still hold the text as posted and as edited, stored or not.
        texts = {r.text for r in rows if r.text} | await scrub_events(
            session, _message_events(place.platform.value, [message_id])
        )
        derived: set[str] = set()
        if rows:
            await session.execute(
                update(Message)
                .where(Message.id.in_([r.id for r in rows]))
                .values(text=None, reasoning=None, deleted_at=now)
                .execution_options(**NO_SYNC)
            )
            derived = await erase_derived(session, {r.ticket_id for r in rows})
        await erase_copies(session, texts, derived)
        for row in rows:
            audit(
                session,
                actor=f"{place.platform}:{row.author_id}",
                action="message.erased",
                target=f"ticket:{row.ticket_id}",
                at=now,
            )


def _events_of(
    user_id: str, platform: str | None, workspace_id: str | None, messages: dict[str, list[str]]
) -> ColumnElement[bool]:
    """Events the person sent (messages, commands, button presses) or about their messages."""
    mine: list[ColumnElement[bool]] = [
        or_(
            InboxItem.payload[("author", "user_id")].as_string() == user_id,
            InboxItem.payload[("actor", "user_id")].as_string() == user_id,
        )
    ]
    if platform is not None:
        mine.append(InboxItem.platform == platform)
    if workspace_id is not None:
        mine.append(InboxItem.payload[("place", "workspace_id")].as_string() == workspace_id)
    return or_(and_(*mine), *(_message_events(p, ids) for p, ids in messages.items()))


async def erase_user(
    sessions: async_sessionmaker[AsyncSession],
    *,
    user_id: str,
    actor: str,
    now: datetime,
    platform: str | None = None,
    workspace_id: str | None = None,
) -> int:
    """Erase everything `user_id` wrote (optionally on one platform or workspace).

    Their messages in every ticket, every copy of them, and what the bot derived from
    the threads they are in; other people's messages stay.

    Returns:
        How many messages had their text erased.
    """
    where = [Message.author_id == user_id, Message.is_bot.is_(False)]
    if platform is not None:
        where.append(Ticket.platform == platform)
    if workspace_id is not None:
        where.append(Ticket.workspace_id == workspace_id)
    async with durable(sessions) as session:  # a promise to a person: on disk
        rows = (
            await session.execute(
                select(
                    Message.id, Message.ticket_id, Message.message_id, Message.text, Ticket.platform
                )
                .join(Ticket, Message.ticket_id == Ticket.id)
                .where(*where)
            )
        ).all()
        erased = [r.id for r in rows if r.text is not None]
        by_platform: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            by_platform[row.platform].append(row.message_id)
        texts = {r.text for r in rows if r.text} | await scrub_events(
            session, _events_of(user_id, platform, workspace_id, by_platform)
        )
        if erased:
            await session.execute(
                update(Message)
                .where(Message.id.in_(erased))
                .values(text=None, reasoning=None, deleted_at=now)
                .execution_options(**NO_SYNC)
            )
        derived = await erase_derived(session, {r.ticket_id for r in rows})
        calls = [LlmCall.user_id == user_id]
        if workspace_id is not None:
            calls.append(LlmCall.workspace_id == workspace_id)
        await session.execute(
            update(LlmCall).where(*calls).values(error=None).execution_options(**NO_SYNC)
        )
        await erase_copies(session, texts, derived)
        await forget_saved_answers(session, user_id)  # also those whose ticket was purged
        audit(
            session,
            actor=actor,
            action="user.forgotten",
            target=f"{platform or 'any'}:{user_id}",
            at=now,
            messages=len(erased),
        )
    return len(erased)
