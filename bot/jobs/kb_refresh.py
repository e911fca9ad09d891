"""Knowledge refresh: once a day, re-sync every docs source so answers follow the docs."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.jobs.scheduler import Job, JobContext, run_job

__all__ = ["KB_REFRESH", "run_kb_refresh"]

log = logging.getLogger(__name__)


async def _refresh(ctx: JobContext, now: datetime) -> int:
    if ctx.knowledge is None or not ctx.kb_refresh_daily:
        return 0
    reports = await ctx.knowledge.refresh()
    changed = sum(len(r.added) + len(r.updated) + len(r.removed) for r in reports)
    log.info("kb.refreshed sources=%s documents_changed=%s", len(reports), changed)
    return changed


KB_REFRESH = Job(
    name="kb_refresh",
    period=lambda now: f"{now:%Y-%m-%d}",
    work=_refresh,
    trigger={"trigger": "cron", "minute": 41},
    # At night, and again hourly if a run failed; only when the setting asks for it.
    due=lambda ctx, now: ctx.knowledge is not None and ctx.kb_refresh_daily and now.hour >= 2,
)


async def run_kb_refresh(ctx: JobContext) -> int:
    """Run today's knowledge refresh (once a day across every instance)."""
    return await run_job(KB_REFRESH, ctx, on_schedule=False)
