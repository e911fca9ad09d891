"""Retention: every night, erase text older than the retention period; keep the rest.

Ended dashboard logins (links and sessions) go too, a day after they ended.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.jobs.scheduler import Job, JobContext, run_job
from bot.store.logins import purge_expired
from bot.tickets.erasure import purge_older_than

__all__ = ["RETENTION", "run_retention"]

log = logging.getLogger(__name__)

LOGINS_KEPT = timedelta(days=1)
"""How long an expired or revoked dashboard link or session stays before it is deleted."""


async def _purge(ctx: JobContext, now: datetime) -> int:
    erased = await purge_older_than(ctx.sessions, now - timedelta(days=ctx.retention_days), now)
    # Dashboard links and sessions are worth nothing once ended; a day's grace keeps them
    # for whoever looks into a sign-in problem the same day.
    async with ctx.sessions.begin() as session:
        logins = await purge_expired(session, now - LOGINS_KEPT)
    log.info("retention.purged messages=%s logins=%s", erased, logins)
    return erased


RETENTION = Job(
    name="retention",
    period=lambda now: f"{now:%Y-%m-%d}",
    work=_purge,
    trigger={"trigger": "cron", "minute": 17},
    due=lambda _ctx, now: now.hour >= 3,  # at night, and again hourly if a run failed
)


async def run_retention(ctx: JobContext) -> int:
    """Run tonight's retention purge (once a day across every instance)."""
    return await run_job(RETENTION, ctx, on_schedule=False)
