"""The daily digest: yesterday-to-now numbers for each workspace's leads channel."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.events import Notify
from bot.jobs.scheduler import Job, JobContext, run_job
from bot.pipeline.keys import digest_key
from bot.reports.digest import build_digest
from bot.store.models import Ticket

__all__ = ["DIGEST", "run_digest"]


async def _post(ctx: JobContext, now: datetime) -> int:
    since = now - timedelta(days=1)
    async with ctx.sessions() as session:
        workspaces = (
            await session.execute(select(Ticket.platform, Ticket.workspace_id).distinct())
        ).all()
    keys = []
    for platform, workspace in workspaces:
        leads = ctx.leads_channels.place(platform, workspace)
        if leads is None:
            continue
        digest = await build_digest(
            ctx.sessions,
            platform=platform,
            workspace_id=workspace,
            since=since,
            until=now,
            embedder=ctx.knowledge.embedder if ctx.knowledge is not None else None,
            taxonomy=ctx.playbooks.for_workspace(workspace).taxonomy,
        )
        key = digest_key(platform, workspace, now)
        async with ctx.sessions.begin() as session:
            await ctx.outbox.add(session, key, Notify(place=leads, text=digest.render()))
        keys.append(key)
    return len(keys)


DIGEST = Job(
    name="digest",
    period=lambda now: f"{now:%Y-%m-%d}",
    work=_post,
    # Hourly from the digest hour on: a failed run gives the day back and the next hour
    # tries again, where a once-a-day trigger would lose the day.
    trigger={"trigger": "cron", "minute": 0},
    due=lambda ctx, now: now.hour >= ctx.digest_hour_utc,
)


async def run_digest(ctx: JobContext) -> int:
    """Post today's digest (once a day across every instance)."""
    return await run_job(DIGEST, ctx, on_schedule=False)
