"""Periodic jobs on APScheduler, each run once per period across every instance.

A job is a name, a period (the UTC minute, hour or day it covers) and its work.
`run_job` is the one error path: it claims the period in `job_runs` (unique job +
period, so with several instances each period runs once) under a lease, runs the
work, and only then marks the period done. A failure logs `job.failed` and gives the
period back; a crash leaves the lease to lapse, and the next tick (here or on another
instance) runs the period again. Every message a job writes goes into the outbox
under a key, so a re-run posts nothing twice; the outbox relay delivers it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config.playbook import Playbooks
from bot.knowledge.base import KnowledgeBase
from bot.pipeline.outbox import Outbox
from bot.store.models import JobRun, utcnow
from bot.store.sqlite_inline import offloaded
from bot.tickets.leads_channels import LeadsChannels
from bot.tickets.sla import SlaPolicy

__all__ = ["JOB_LEASE", "Job", "JobContext", "claim_period", "run_job", "schedule"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    """What every job needs, built once by the wiring."""

    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    leads_channels: LeadsChannels
    sla: SlaPolicy
    sla_reminders: int = 3
    stale_warn_days: float = 3.0
    stale_close_days: float = 4.0
    retention_days: int = 90
    digest_hour_utc: int = 9
    knowledge: KnowledgeBase | None = None
    kb_refresh_daily: bool = True
    playbooks: Playbooks = field(default_factory=Playbooks)
    """Each workspace's playbook: its teams' channels and SLAs, its taxonomy on cards."""
    clock: Callable[[], datetime] = utcnow


@dataclass(frozen=True)
class Job:
    """One periodic job: what it is called, which period a moment is in, and its work."""

    name: str
    period: Callable[[datetime], str]
    work: Callable[[JobContext, datetime], Awaitable[int]]
    trigger: dict[str, Any]
    """APScheduler trigger arguments, e.g. {"trigger": "interval", "minutes": 1}."""
    due: Callable[[JobContext, datetime], bool] = lambda _ctx, _now: True


JOB_LEASE = timedelta(minutes=15)
"""How long a claimed period stays claimed without being finished (a crash)."""


async def claim_period(
    sessions: async_sessionmaker[AsyncSession], job: str, period: str, now: datetime
) -> bool:
    """True for the one instance that gets to run `job` for `period`: nobody claimed it,
    or a claim ran out of lease without the work being done."""
    try:
        async with sessions.begin() as session:
            session.add(JobRun(job=job, period=period, ran_at=now, status="running",
                               lease_until=now + JOB_LEASE))  # fmt: skip
        return True
    except IntegrityError:
        pass
    async with sessions.begin() as session:
        taken = await session.execute(
            update(JobRun)
            .where(
                JobRun.job == job,
                JobRun.period == period,
                JobRun.status == "running",
                JobRun.lease_until < now,
            )
            .values(ran_at=now, lease_until=now + JOB_LEASE)
        )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


async def _finish_period(sessions: async_sessionmaker[AsyncSession], job: str, period: str) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(JobRun)
            .where(JobRun.job == job, JobRun.period == period)
            .values(status="done", lease_until=None)
        )


async def _release_period(
    sessions: async_sessionmaker[AsyncSession], job: str, period: str
) -> None:
    async with sessions.begin() as session:
        await session.execute(delete(JobRun).where(JobRun.job == job, JobRun.period == period))


async def run_job(job: Job, ctx: JobContext, *, on_schedule: bool = True) -> int:
    """Run `job` for the current period if nobody ran it yet.

    A scheduled run also waits for the job to be due (the digest hour); an operator's
    or a test's run (`on_schedule=False`) goes now.

    Returns:
        How many things the job did (messages queued, rows erased); 0 when it did not
        run, or failed (then logged, and the period is free for the next tick).
    """
    now = ctx.clock()
    period = job.period(now)
    if on_schedule and not job.due(ctx, now):
        return 0
    if not await claim_period(ctx.sessions, job.name, period, now):
        return 0
    try:
        with offloaded():  # a job's statements may be long: off the event loop's thread
            done = await job.work(ctx, now)
    except Exception:
        log.exception("job.failed job=%s period=%s", job.name, period)
        try:
            await _release_period(ctx.sessions, job.name, period)
        except Exception:  # the database is down too; the lease lapses and it re-runs
            log.exception("job.release_failed job=%s period=%s", job.name, period)
        return 0
    await _finish_period(ctx.sessions, job.name, period)
    return done


def schedule(ctx: JobContext, jobs: tuple[Job, ...]) -> AsyncIOScheduler:
    """An AsyncIOScheduler (UTC) running `jobs`; the caller starts and shuts it down."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job in jobs:
        scheduler.add_job(
            run_job,
            args=[job, ctx],
            id=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=300,
            **job.trigger,
        )
    return scheduler
