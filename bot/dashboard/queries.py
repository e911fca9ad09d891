"""What the dashboard's pages read, always within the lead's own workspaces.

Every query here starts from `visible(viewer)`: a ticket of another platform or
workspace is never read, so it can never be shown. List pages read in a fixed number
of queries (no query per row).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config.playbook import Playbooks
from bot.config.taxonomy import normal_name
from bot.dashboard.filters import TicketFilters
from bot.dashboard.viewer import Viewer
from bot.store.kb_tables import Retrieval
from bot.store.models import AuditEntry, LlmCall, Message, Ticket, TriageRun
from bot.tickets.queries import get_ticket
from bot.tickets.search import text_matches
from bot.tickets.status import ESCALATION_STATES

__all__ = [
    "PER_PAGE",
    "QUEUE_LIMIT",
    "TicketPage",
    "Transcript",
    "channels",
    "list_tickets",
    "opened_per_day",
    "queue",
    "transcript",
    "visible",
]

PER_PAGE = 50
QUEUE_LIMIT = 500
"""The queue shows at most this many escalations (oldest first); more says so."""
_CHANNELS = 200


def visible(viewer: Viewer) -> ColumnElement[bool]:
    """The tickets `viewer` may see: their platform, the workspaces they lead."""
    if not viewer.workspaces:
        return false()
    return and_(
        Ticket.platform == viewer.platform, Ticket.workspace_id.in_(sorted(viewer.workspaces))
    )


async def queue(session: AsyncSession, viewer: Viewer, limit: int = QUEUE_LIMIT) -> list[Ticket]:
    """Open escalations (escalated and claimed), oldest escalation first."""
    # A ticket claimed straight from open was never escalated: its claim is its start.
    started = func.coalesce(Ticket.escalated_at, Ticket.claimed_at, Ticket.created_at)
    rows = await session.scalars(
        select(Ticket)
        .where(visible(viewer), Ticket.status.in_(ESCALATION_STATES))
        .order_by(started, Ticket.id)
        .limit(limit)
    )
    return list(rows.all())


@dataclass(frozen=True)
class TicketPage:
    """One page of the tickets list."""

    tickets: list[Ticket]
    total: int
    """How many tickets match, on every page."""
    page: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, math.ceil(self.total / self.per_page))


def _stored_names(playbooks: Playbooks, workspace_id: str, category: str) -> list[str]:
    """The names a category's tickets may be stored under in a workspace: today's, its
    former ones, and the name itself (a category since removed is kept as stored)."""
    found = playbooks.for_workspace(workspace_id).taxonomy.category(category)
    names = {category}
    if found is not None:
        names |= {found.name, *(normal_name(old) for old in found.formerly)}
    return sorted(names)


def _conditions(
    viewer: Viewer, filters: TicketFilters, playbooks: Playbooks, dialect: str
) -> list[ColumnElement[bool]]:
    where = [visible(viewer)]
    for column, value in (
        (Ticket.status, filters.status),
        (Ticket.urgency, filters.urgency),
        (Ticket.route, filters.route),
        (Ticket.channel_id, filters.channel),
    ):
        if value is not None:
            where.append(column == value)
    if filters.category is not None:
        where.append(
            or_(
                *(
                    and_(
                        Ticket.workspace_id == workspace,
                        Ticket.category.in_(_stored_names(playbooks, workspace, filters.category)),
                    )
                    for workspace in sorted(viewer.workspaces)
                )
            )
        )
    if filters.date_from is not None:
        where.append(Ticket.created_at >= _midnight(filters.date_from))
    if filters.date_to is not None:
        where.append(Ticket.created_at < _midnight(filters.date_to + timedelta(days=1)))
    if filters.q:
        where.append(text_matches(filters.words, dialect))
    return where


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


async def list_tickets(
    session: AsyncSession,
    viewer: Viewer,
    filters: TicketFilters,
    playbooks: Playbooks,
    per_page: int = PER_PAGE,
) -> TicketPage:
    """The tickets matching `filters`, newest first, one page of them (two queries)."""
    where = _conditions(viewer, filters, playbooks, session.get_bind().dialect.name)
    total = await session.scalar(select(func.count()).select_from(Ticket).where(*where))
    rows = await session.scalars(
        select(Ticket)
        .where(*where)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .offset((filters.page - 1) * per_page)
        .limit(per_page)
    )
    return TicketPage(list(rows.all()), int(total or 0), filters.page, per_page)


async def channels(session: AsyncSession, viewer: Viewer) -> list[str]:
    """The channels the lead's tickets were opened in, for the channel filter."""
    rows = await session.scalars(
        select(Ticket.channel_id)
        .where(visible(viewer))
        .distinct()
        .order_by(Ticket.channel_id)
        .limit(_CHANNELS)
    )
    return list(rows.all())


@dataclass(frozen=True)
class Transcript:
    """Everything recorded about one ticket, oldest first."""

    ticket: Ticket
    messages: list[Message]
    verdicts: list[TriageRun]
    retrievals: list[Retrieval]
    calls: list[LlmCall]
    audit: list[AuditEntry]

    @property
    def cost(self) -> Decimal:
        """What the ticket's model calls cost, failed ones included."""
        return sum((call.cost_usd or Decimal(0) for call in self.calls), Decimal(0))


async def transcript(session: AsyncSession, viewer: Viewer, ticket_id: int) -> Transcript | None:
    """The ticket's record; None when there is no such ticket or it is not the viewer's
    (the same None: a page must not tell the two apart)."""
    ticket = await get_ticket(session, ticket_id)
    if ticket is None or not viewer.sees(ticket.platform, ticket.workspace_id):
        return None
    messages = await session.scalars(
        select(Message)
        .where(Message.ticket_id == ticket.id)
        .order_by(Message.posted_at, Message.id)
    )
    verdicts = await session.scalars(
        select(TriageRun).where(TriageRun.ticket_id == ticket.id).order_by(TriageRun.id)
    )
    retrievals = await session.scalars(
        select(Retrieval).where(Retrieval.ticket_id == ticket.id).order_by(Retrieval.id)
    )
    calls = await session.scalars(
        select(LlmCall).where(LlmCall.ticket_id == ticket.id).order_by(LlmCall.id)
    )
    audit = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target == f"ticket:{ticket.id}")
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return Transcript(
        ticket=ticket,
        messages=list(messages.all()),
        verdicts=list(verdicts.all()),
        retrievals=list(retrievals.all()),
        calls=list(calls.all()),
        audit=list(audit.all()),
    )


async def opened_per_day(
    session: AsyncSession, viewer: Viewer, since: datetime, until: datetime
) -> list[tuple[str, str, str | None, int]]:
    """(UTC day as YYYY-MM-DD, workspace, stored category, tickets) for the tickets the
    lead's workspaces opened in [since, until), counted by the database."""
    if session.get_bind().dialect.name == "sqlite":
        day = func.date(Ticket.created_at)  # stored as UTC text
    else:
        day = func.to_char(func.timezone("UTC", Ticket.created_at), "YYYY-MM-DD")
    rows = await session.execute(
        select(day, Ticket.workspace_id, Ticket.category, func.count())
        .where(visible(viewer), Ticket.created_at >= since, Ticket.created_at < until)
        .group_by(day, Ticket.workspace_id, Ticket.category)
    )
    return [(str(d), w, c, int(n)) for d, w, c, n in rows.all()]
