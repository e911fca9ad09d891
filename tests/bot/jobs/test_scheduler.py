"""The scheduler's one error path: a crashed job logs, gives its period back, runs again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.jobs.scheduler import JOB_LEASE, Job, JobContext, run_job
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


async def test_a_job_that_crashed_mid_run_runs_again_when_its_lease_lapses(db: Database) -> None:
    async def work(_ctx: JobContext, _now: datetime) -> int:
        return 1

    job = Job(name="digest-like", period=lambda now: f"{now:%Y-%m-%d}", work=work, trigger={})
    # Another instance claimed today and died mid-run: its claim is "running", lease over.
    async with db.sessions.begin() as session:
        session.add(JobRun(job=job.name, period="2026-11-23", ran_at=NOON - JOB_LEASE * 2,
                           status="running", lease_until=NOON - JOB_LEASE))  # fmt: skip
    assert await run_job(job, _context(db)) == 1
    assert await run_job(job, _context(db)) == 0  # done now: once a period
    async with db.sessions() as session:
        row = (await session.scalars(select(JobRun))).one()
    assert (row.status, row.lease_until) == ("done", None)


async def test_a_claim_still_under_its_lease_is_left_to_its_owner(db: Database) -> None:
    async def work(_ctx: JobContext, _now: datetime) -> int:
        return 1

    job = Job(name="busy", period=lambda now: f"{now:%Y-%m-%d}", work=work, trigger={})
    async with db.sessions.begin() as session:
        session.add(JobRun(job=job.name, period="2026-11-23", ran_at=NOON, status="running",
                           lease_until=NOON + JOB_LEASE))  # fmt: skip
    assert await run_job(job, _context(db)) == 0
