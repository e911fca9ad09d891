"""Stale tickets: warn in quiet threads, then close them; any new message resets the clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.events import PostReply, TicketStatus
from bot.flow import copy
from bot.jobs.scheduler import Job, JobContext, run_job
from bot.pipeline.keys import stale_close_key, stale_warn_key
from bot.store.models import Ticket
from bot.tickets.queries import place_of
from bot.tickets.status import StatusChange, change_status

__all__ = ["STALE_TICKETS", "run_stale_tickets"]

STALE_STATES = (TicketStatus.OPEN, TicketStatus.RESOLVED)


async def _sweep(ctx: JobContext, now: datetime) -> int:
    warn_after = timedelta(days=ctx.stale_warn_days)
    close_after = warn_after + timedelta(days=ctx.stale_close_days)
    async with ctx.sessions() as session:
        quiet = (
            await session.scalars(
                select(Ticket).where(
                    Ticket.status.in_(STALE_STATES), Ticket.last_activity_at <= now - warn_after
                )
            )
        ).all()
    keys = []
    for ticket in quiet:
        # The key names the activity it is about: a new message means a new warning later.
        warn_key = stale_warn_key(ticket.id, ticket.last_activity_at)
        if now - ticket.last_activity_at >= close_after and await ctx.outbox.has(warn_key):
            keys.append(await _close(ctx, ticket, now))
            continue
        async with ctx.sessions.begin() as session:
            text = copy.stale_warning(ctx.stale_warn_days, ctx.stale_close_days)
            await ctx.outbox.add(
                session, warn_key, PostReply(place=place_of(ticket), text=text), ticket_id=ticket.id
            )
        keys.append(warn_key)
    return len(keys)


async def _close(ctx: JobContext, ticket: Ticket, now: datetime) -> str:
    key = stale_close_key(ticket.id, ticket.last_activity_at)
    async with ctx.sessions.begin() as session:
        row = await session.get_one(Ticket, ticket.id, with_for_update=True)
        if row.status in STALE_STATES and row.last_activity_at == ticket.last_activity_at:
            change_status(session, row, StatusChange.CLOSE, actor="bot", now=now, reason="stale")
            await ctx.outbox.add(
                session,
                key,
                PostReply(place=place_of(ticket), text=copy.STALE_CLOSED),
                ticket_id=ticket.id,
            )
    return key


STALE_TICKETS = Job(
    name="stale_tickets",
    period=lambda now: f"{now:%Y-%m-%dT%H}",
    work=_sweep,
    trigger={"trigger": "interval", "hours": 1},
)


async def run_stale_tickets(ctx: JobContext) -> int:
    """Run the stale-ticket sweep for this hour (once across every instance)."""
    return await run_job(STALE_TICKETS, ctx)
