"""SLA reminders: ping the leads once per threshold for escalations nobody claimed.

A team's ticket is measured by the team's SLA and its reminders go to the team's
leads channel (the workspace's when the team has none).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.events import Notify, Place, TicketStatus
from bot.flow import copy
from bot.jobs.scheduler import Job, JobContext, run_job
from bot.pipeline.keys import sla_key
from bot.store.audit import audit
from bot.store.models import Ticket
from bot.tickets.cards import card_for
from bot.tickets.teams import team_of, team_ping

__all__ = ["SLA_REMINDERS", "run_sla_reminders"]


async def _remind(ctx: JobContext, now: datetime) -> int:
    async with ctx.sessions() as session:
        waiting = (
            await session.scalars(
                select(Ticket).where(
                    Ticket.status == TicketStatus.ESCALATED, Ticket.sla_due_at <= now
                )
            )
        ).all()
    keys = []
    for ticket in waiting:
        assert ticket.sla_due_at is not None
        team = team_of(ctx.playbooks, ticket)
        sla = ctx.sla.for_team(team)
        threshold = sla.reminders_due(ticket.urgency, ticket.sla_due_at, now, ctx.sla_reminders)
        leads = ctx.leads_channels.place(
            ticket.platform, ticket.workspace_id, team.name if team else None
        )
        if threshold == 0 or leads is None:
            continue
        keys.append(await _queue(ctx, ticket, leads, threshold, now))
    return len(keys)


async def _queue(
    ctx: JobContext, ticket: Ticket, leads: Place, threshold: int, now: datetime
) -> str:
    assert ticket.sla_due_at is not None
    late = int((now - ticket.sla_due_at).total_seconds() // 60)
    key = sla_key(ticket.id, threshold)
    card = card_for(ticket, ctx.playbooks.for_workspace(ticket.workspace_id))
    notice = Notify(
        place=leads,
        ping_leads=True,
        team_ping=team_ping(team_of(ctx.playbooks, ticket)),
        card=card,
        text=copy.sla_breached(ticket.id, late, card.urgency, card.category),
    )
    async with ctx.sessions.begin() as session:
        if await ctx.outbox.add(session, key, notice, ticket_id=ticket.id):
            audit(
                session,
                actor="bot",
                action="sla.reminded",
                target=f"ticket:{ticket.id}",
                at=now,
                threshold=threshold,
            )
    return key


SLA_REMINDERS = Job(
    name="sla_reminders",
    period=lambda now: f"{now:%Y-%m-%dT%H:%M}",
    work=_remind,
    trigger={"trigger": "interval", "minutes": 1},
)


async def run_sla_reminders(ctx: JobContext) -> int:
    """Run the SLA reminders for this minute (once across every instance)."""
    return await run_job(SLA_REMINDERS, ctx)
