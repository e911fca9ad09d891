"""The scheduler's one error path: a crashed job logs, gives its period back, runs again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.jobs.scheduler import Job, JobContext, run_job
from bot.pipeline.outbox import Outbox
from bot.store.db import Database
from bot.store.models import JobRun
from bot.tickets.leads_channels import LeadsChannels
from bot.tickets.sla import SlaPolicy

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _context(db: Database) -> JobContext:
    return JobContext(
        sessions=db.sessions,
        outbox=Outbox(db.sessions),
        leads_channels=LeadsChannels({}),
        sla=SlaPolicy(),
        clock=lambda: NOON,
    )


async def _periods(db: Database) -> list[str]:
    async with db.sessions() as session:
        return list((await session.scalars(select(JobRun.period))).all())


async def test_a_crashed_job_gives_its_period_back_and_the_next_tick_runs_it(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[datetime] = []

    async def flaky(_ctx: JobContext, now: datetime) -> int:
        calls.append(now)
        if len(calls) == 1:
            raise ConnectionError("database went away")
        return 7

    job = Job(name="flaky", period=lambda now: f"{now:%Y-%m-%d}", work=flaky, trigger={})
    ctx = _context(db)
    with caplog.at_level(logging.ERROR, logger="bot.jobs.scheduler"):
        assert await run_job(job, ctx) == 0
    assert "job.failed job=flaky" in caplog.text
    assert await _periods(db) == []  # the day is free again
    assert await run_job(job, ctx) == 7
    assert await run_job(job, ctx) == 0  # and now it is taken
    assert await _periods(db) == ["2026-11-23"]
    assert len(calls) == 2


async def test_a_scheduled_run_waits_until_the_job_is_due(db: Database) -> None:
    async def work(_ctx: JobContext, _now: datetime) -> int:
        return 1

    job = Job(
        name="evening",
        period=lambda now: f"{now:%Y-%m-%d}",
        work=work,
        trigger={},
        due=lambda _ctx, now: now.hour >= 18,
    )
    ctx = _context(db)
    assert await run_job(job, ctx) == 0
    assert await _periods(db) == []  # not claimed: the evening run still happens
    assert await run_job(job, ctx, on_schedule=False) == 1
