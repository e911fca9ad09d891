"""Periodic jobs on APScheduler: SLA reminders, stale tickets, the daily digest, retention.

Every job first claims its period in `job_runs` (unique job + period), so with
several instances each period runs once; and every message a job sends goes
through the outbox under a key, so even a re-run posts nothing twice.
Job functions live at module level and take a `JobContext`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.digest import build_digest
from bot.events import Notify, PostReply
from bot.outbox import Outbox
from bot.policy import TicketStatus
from bot.store.models import (
    InboxItem,
    JobRun,
    Message,
    OutboxItem,
    Summary,
    Ticket,
    TriageRun,
    utcnow,
)
from bot.tickets import audit, card_for, leads_place, place_of

__all__ = [
    "JobContext",
    "claim_period",
    "run_digest",
    "run_retention",
    "run_sla_reminders",
    "run_stale_tickets",
    "schedule",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    """What every job needs, built once by the wiring."""

    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    leads_channels: dict[str, str]
    sla_minutes: dict[str, float]  # urgency -> SLA length, for repeat reminders
    sla_reminders: int = 3
    stale_warn_days: float = 3.0
    stale_close_days: float = 4.0
    retention_days: int = 90
    clock: Callable[[], datetime] = utcnow


async def claim_period(
    sessions: async_sessionmaker[AsyncSession], job: str, period: str, now: datetime
) -> bool:
    """True for the one instance that gets to run `job` for `period`."""
    try:
        async with sessions.begin() as session:
            session.add(JobRun(job=job, period=period, ran_at=now))
    except IntegrityError:
        return False
    return True


async def _send(ctx: JobContext, keys: list[str]) -> None:
    try:
        await ctx.outbox.flush(keys)
    except Exception:  # the job's work is stored; delivery is retried on the next run
        log.exception("job.delivery_failed keys=%s", len(keys))


# --- SLA reminders ---------------------------------------------------------------


async def run_sla_reminders(ctx: JobContext) -> int:
    """Ping the leads once per threshold for escalations nobody has claimed."""
    now = ctx.clock()
    if not await claim_period(ctx.sessions, "sla_reminders", f"{now:%Y-%m-%dT%H:%M}", now):
        return 0
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
        threshold = _threshold(ticket, now, ctx)
        leads = leads_place(ctx.leads_channels, ticket.platform, ticket.workspace_id)
        if threshold == 0 or leads is None:
            continue
        late = int((now - ticket.sla_due_at).total_seconds() // 60)  # type: ignore[operator]
        key = f"ticket:{ticket.id}:sla:{threshold}"
        async with ctx.sessions.begin() as session:
            if await ctx.outbox.add(
                session,
                key,
                Notify(
                    place=leads,
                    ping_leads=True,
                    card=card_for(ticket),
                    text=f"SLA breached {late} min ago: ticket #{ticket.id} ({ticket.urgency} "
                    f"{ticket.category}) is still unclaimed.",
                ),
                ticket_id=ticket.id,
            ):
                audit(
                    session,
                    actor="bot",
                    action="sla.reminded",
                    target=f"ticket:{ticket.id}",
                    at=now,
                    threshold=threshold,
                )
        keys.append(key)
    await _send(ctx, keys)
    return len(keys)


def _threshold(ticket: Ticket, now: datetime, ctx: JobContext) -> int:
    """Which reminder is due: 1 at the SLA, 2 one SLA-length later, ... up to the cap."""
    assert ticket.sla_due_at is not None
    length = timedelta(minutes=ctx.sla_minutes.get(ticket.urgency or "medium", 120))
    passed = int((now - ticket.sla_due_at) / length) + 1
    return min(passed, ctx.sla_reminders)


# --- Stale tickets ------------------------------------------------------------------

STALE_STATES = (TicketStatus.OPEN, TicketStatus.RESOLVED)


async def run_stale_tickets(ctx: JobContext) -> int:
    """Warn in quiet threads, then close them; any new message resets the clock."""
    now = ctx.clock()
    if not await claim_period(ctx.sessions, "stale_tickets", f"{now:%Y-%m-%dT%H}", now):
        return 0
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
        stamp = f"{ticket.last_activity_at:%Y%m%d%H%M%S}"
        warn_key = f"ticket:{ticket.id}:stale-warn:{stamp}"
        if now - ticket.last_activity_at >= close_after and await ctx.outbox.has(warn_key):
            keys.append(await _close_stale(ctx, ticket, stamp, now))
            continue
        async with ctx.sessions.begin() as session:
            await ctx.outbox.add(
                session,
                warn_key,
                PostReply(
                    place=place_of(ticket),
                    text=f"This ticket has been quiet for "
                    f"{ctx.stale_warn_days:g} days. Reply here if you still need help; otherwise "
                    f"it closes in {ctx.stale_close_days:g} days.",
                ),
                ticket_id=ticket.id,
            )
        keys.append(warn_key)
    await _send(ctx, keys)
    return len(keys)


async def _close_stale(ctx: JobContext, ticket: Ticket, stamp: str, now: datetime) -> str:
    key = f"ticket:{ticket.id}:stale-close:{stamp}"
    async with ctx.sessions.begin() as session:
        row = await session.get_one(Ticket, ticket.id, with_for_update=True)
        if row.status in STALE_STATES and row.last_activity_at == ticket.last_activity_at:
            row.status, row.closed_at = TicketStatus.CLOSED, now
            audit(
                session,
                actor="bot",
                action="ticket.closed",
                target=f"ticket:{ticket.id}",
                at=now,
                reason="stale",
            )
            await ctx.outbox.add(
                session,
                key,
                PostReply(
                    place=place_of(ticket),
                    text="Closing this ticket after no reply. Mention me to reopen it any time.",
                ),
                ticket_id=ticket.id,
            )
    return key


# --- Daily digest ---------------------------------------------------------------------


async def run_digest(ctx: JobContext) -> int:
    """Post yesterday-to-now numbers to each leads channel, once a day."""
    now = ctx.clock()
    if not await claim_period(ctx.sessions, "digest", f"{now:%Y-%m-%d}", now):
        return 0
    since = now - timedelta(days=1)
    async with ctx.sessions() as session:
        workspaces = (
            await session.execute(select(Ticket.platform, Ticket.workspace_id).distinct())
        ).all()
    keys = []
    for platform, workspace in workspaces:
        leads = leads_place(ctx.leads_channels, platform, workspace)
        if leads is None:
            continue
        digest = await build_digest(
            ctx.sessions, platform=platform, workspace_id=workspace, since=since, until=now
        )
        key = f"digest:{platform}:{workspace}:{now:%Y-%m-%d}"
        async with ctx.sessions.begin() as session:
            await ctx.outbox.add(session, key, Notify(place=leads, text=digest.render()))
        keys.append(key)
    await _send(ctx, keys)
    return len(keys)


# --- Retention -----------------------------------------------------------------------


async def run_retention(ctx: JobContext) -> int:
    """Erase message text and summaries older than the retention period; keep the rest."""
    now = ctx.clock()
    if not await claim_period(ctx.sessions, "retention", f"{now:%Y-%m-%d}", now):
        return 0
    cutoff = now - timedelta(days=ctx.retention_days)
    async with ctx.sessions.begin() as session:
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
    log.info("retention.purged messages=%s", erased)
    return int(erased or 0)


# --- Scheduling ------------------------------------------------------------------------


def schedule(ctx: JobContext, *, digest_hour_utc: int = 9) -> AsyncIOScheduler:
    """An AsyncIOScheduler (UTC) with every job; the caller starts and shuts it down."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    common = {"args": [ctx], "coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler.add_job(run_sla_reminders, "interval", minutes=1, id="sla_reminders", **common)
    scheduler.add_job(run_stale_tickets, "interval", hours=1, id="stale_tickets", **common)
    scheduler.add_job(run_digest, "cron", hour=digest_hour_utc, id="digest", **common)
    scheduler.add_job(run_retention, "cron", hour=3, minute=17, id="retention", **common)
    return scheduler
