"""Reading and writing tickets and their threads: find, open, append, read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import MessagePosted, Place, TicketStatus
from bot.llm.types import CallContext
from bot.store.db import Prepared
from bot.store.models import Message, Summary, Ticket
from bot.tickets.status import ESCALATION_STATES

__all__ = [
    "ThreadLine",
    "TicketFacts",
    "add_message",
    "call_context",
    "facts_of",
    "find_thread_ticket",
    "find_ticket",
    "get_or_open_ticket",
    "get_ticket",
    "latest_summary",
    "newest_tickets",
    "open_escalations",
    "place_of",
    "same_workspace",
    "thread_lines",
    "thread_place",
]


@dataclass(frozen=True)
class ThreadLine:
    """One message of a thread as a prompt sees it."""

    author: str  # "user" | "bot" | "agent"
    text: str


@dataclass(frozen=True)
class TicketFacts:
    """What is known about a ticket, for prompts."""

    ticket_id: int
    category: str | None
    urgency: str | None
    summary: str | None


def thread_place(event: MessagePosted) -> Place:
    """The thread a message belongs to (a top-level message starts its own)."""
    return event.place.model_copy(update={"thread_id": event.place.thread_id or event.message_id})


def call_context(ticket: Ticket, purpose: str, user_id: str | None = None) -> CallContext:
    """What a model call for this ticket is recorded against in `llm_calls`."""
    return CallContext(
        purpose=purpose, ticket_id=ticket.id, workspace_id=ticket.workspace_id, user_id=user_id
    )


async def open_escalations(session: AsyncSession, platform: str, workspace_id: str) -> list[Ticket]:
    """A workspace's escalated and claimed tickets, oldest escalation first."""
    rows = await session.scalars(
        select(Ticket)
        .where(
            Ticket.platform == platform,
            Ticket.workspace_id == workspace_id,
            Ticket.status.in_(ESCALATION_STATES),
        )
        .order_by(Ticket.escalated_at, Ticket.id)
    )
    return list(rows.all())


def facts_of(ticket: Ticket) -> TicketFacts:
    """What prompts are told about a ticket."""
    return TicketFacts(
        ticket_id=ticket.id,
        category=ticket.category,
        urgency=ticket.urgency,
        summary=ticket.summary,
    )


def place_of(ticket: Ticket) -> Place:
    """The ticket's thread."""
    return Place(
        platform=ticket.platform,
        workspace_id=ticket.workspace_id,
        channel_id=ticket.channel_id,
        thread_id=ticket.thread_id,
    )


MAX_TICKET_ID = 2**31 - 1  # the INTEGER primary key's range on PostgreSQL


async def get_ticket(session: AsyncSession, ticket_id: int) -> Ticket | None:
    """The ticket with this number; None for a number no ticket can have."""
    if not 1 <= ticket_id <= MAX_TICKET_ID:
        return None
    return await session.get(Ticket, ticket_id)


def same_workspace(ticket: Ticket, place: Place) -> bool:
    """True when `place` is in the ticket's platform and workspace (or guild)."""
    return ticket.platform == place.platform.value and ticket.workspace_id == place.workspace_id


# Run for every message (`Prepared` says why they are built once).
_FIND_TICKET = Prepared(
    lambda _: select(Ticket).where(
        Ticket.platform == bindparam("platform"),
        Ticket.workspace_id == bindparam("workspace_id"),
        Ticket.channel_id == bindparam("channel_id"),
        Ticket.thread_id == bindparam("thread_id"),
    )
)
_OPEN_TICKET = Prepared(
    lambda upsert: (
        upsert(Ticket)
        .values(
            {
                name: bindparam(name)
                for name in (
                    "platform",
                    "workspace_id",
                    "channel_id",
                    "thread_id",
                    "requester_id",
                    "root_message_id",
                    "status",
                    "created_at",
                    "updated_at",
                    "last_activity_at",
                    "messages_since_summary",
                )
            }
        )
        .on_conflict_do_nothing(
            index_elements=["platform", "workspace_id", "channel_id", "thread_id"]
        )
        .returning(Ticket)
    )
)
_ADD_MESSAGE = Prepared(
    lambda upsert: (
        upsert(Message.__table__)
        .on_conflict_do_nothing(index_elements=["ticket_id", "message_id"])
        .returning(Message.__table__.c.id)
    )
)


def _thread_key(place: Place, thread_id: str) -> dict[str, str]:
    return {
        "platform": place.platform.value,
        "workspace_id": place.workspace_id,
        "channel_id": place.channel_id,
        "thread_id": thread_id,
    }


async def find_ticket(session: AsyncSession, place: Place, thread_id: str) -> Ticket | None:
    """The ticket living in `thread_id` of `place`'s channel, if any."""
    return await session.scalar(_FIND_TICKET.on(session), _thread_key(place, thread_id))


async def find_thread_ticket(session: AsyncSession, place: Place) -> Ticket | None:
    """The ticket whose thread is `place.channel_id` (a thread reported as a channel)."""
    return await session.scalar(
        select(Ticket).where(
            Ticket.platform == place.platform.value,
            Ticket.workspace_id == place.workspace_id,
            Ticket.thread_id == place.channel_id,
        )
    )


async def get_or_open_ticket(
    session: AsyncSession,
    place: Place,
    thread_id: str,
    requester_id: str,
    root_message_id: str,
    now: datetime,
    *,
    likely_new: bool = False,
) -> tuple[Ticket, bool]:
    """The thread's ticket, opened if needed. True when this call opened it.
    `likely_new`: the caller expects none there (it just looked, or the message starts
    its thread), so the insert comes first and a read only if it finds one.

    One `INSERT ... ON CONFLICT DO NOTHING` on the unique key (platform, workspace,
    channel, thread): a racing second opener inserts nothing and reads the winner's
    row, so one thread has one ticket. It opens with its root message counted (the
    caller stores it next, in the same transaction: `add_message`).
    """
    if not likely_new:
        ticket = await find_ticket(session, place, thread_id)
        if ticket is not None:
            return ticket, False
    opened = await session.scalar(
        _OPEN_TICKET.on(session),
        {
            **_thread_key(place, thread_id),
            "requester_id": requester_id,
            "root_message_id": root_message_id,
            "status": TicketStatus.OPEN,
            "created_at": now,
            "updated_at": now,
            "last_activity_at": now,
            "messages_since_summary": 1,  # its root message; no UPDATE for it after
        },
    )
    if opened is not None:
        return opened, True
    existing = await find_ticket(session, place, thread_id)
    assert existing is not None  # the row that won the race
    return existing, False


async def add_message(
    session: AsyncSession,
    ticket: Ticket,
    *,
    message_id: str,
    author_id: str,
    text: str | None,
    is_bot: bool,
    posted_at: datetime,
    reasoning: str | None = None,
) -> bool:
    """Store a thread message once; False when it was stored before (one statement:
    `INSERT ... ON CONFLICT DO NOTHING` on the thread's message id)."""
    added = await session.scalar(
        _ADD_MESSAGE.on(session),
        {
            "ticket_id": ticket.id,
            "message_id": message_id,
            "author_id": author_id,
            "text": text,
            "is_bot": is_bot,
            "posted_at": posted_at,
            "reasoning": reasoning,
        },
    )
    if added is None:
        return False
    if not is_bot and message_id != ticket.root_message_id:  # the root counted at opening
        ticket.messages_since_summary += 1
        ticket.last_activity_at = posted_at
    return True


async def thread_lines(
    session: AsyncSession, ticket: Ticket, requester_id: str, limit: int = 50
) -> list[ThreadLine]:
    """The newest `limit` messages of a ticket, oldest first, erased ones left out."""
    rows = (
        await session.scalars(
            select(Message)
            .where(Message.ticket_id == ticket.id, Message.text.is_not(None))
            .order_by(Message.id.desc())
            .limit(limit)
        )
    ).all()
    lines = []
    for row in reversed(rows):
        author = "bot" if row.is_bot else ("user" if row.author_id == requester_id else "agent")
        lines.append(ThreadLine(author=author, text=row.text or ""))
    return lines


async def latest_summary(session: AsyncSession, ticket_id: int) -> Summary | None:
    """The newest rolling summary that still has text."""
    return await session.scalar(
        select(Summary)
        .where(Summary.ticket_id == ticket_id, Summary.text.is_not(None))
        .order_by(Summary.id.desc())
        .limit(1)
    )


async def newest_tickets(session: AsyncSession, limit: int) -> list[Ticket]:
    """The newest `limit` tickets, newest first (for operators; every workspace)."""
    return list(
        (await session.scalars(select(Ticket).order_by(Ticket.id.desc()).limit(limit))).all()
    )
