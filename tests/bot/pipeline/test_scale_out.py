"""Several instances, crashes: every event handled once, every reply posted once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import SupportApp
from bot.config import load_settings
from bot.events import Platform
from bot.jobs.digest import run_digest
from bot.store.db import Database
from bot.store.models import InboxItem, JobRun, OutboxItem, Ticket
from tests.bot.harness import RecordingOutlet, mention
from tests.cli_runner import clean_env
from tests.conftest import PG_ENV

pytestmark = pytest.mark.timeout(240)


async def _statuses(db: Database) -> Counter[str]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(InboxItem.status, func.count()).group_by(InboxItem.status)
        )
        return Counter(dict(rows.all()))


async def _wait_until(
    db: Database, ready: Callable[[Counter[str]], bool], within: float
) -> Counter[str]:
    """Poll the inbox's status counts until `ready` says so (or time runs out)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    statuses = await _statuses(db)
    while not ready(statuses) and loop.time() < deadline:
        await asyncio.sleep(0.05)
        statuses = await _statuses(db)
    return statuses


async def _wait_all_settled(db: Database, total: int, within: float) -> Counter[str]:
    return await _wait_until(db, lambda s: s["done"] + s["failed"] >= total, within)


async def _wait_replies_sent(db: Database, within: float) -> int:
    """Poll the outbox until the relays sent (or gave up on) every reply; how many are left."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with db.sessions() as session:
            left = await session.scalar(
                select(func.count()).where(OutboxItem.status.in_(("pending", "sending")))
            )
        if not left or loop.time() >= deadline:
            return int(left or 0)
        await asyncio.sleep(0.05)


def _instance(db: Database, **overrides: object) -> SupportApp:
    settings = load_settings(
        database_url=db.url,
        slack_leads_channel="T_ACME:C_LEADS",
        inbox_retry_base_seconds=0.05,
        user_messages_per_minute=1000,
        **overrides,
    )
    return SupportApp(settings, database=Database(db.url))


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"needs PostgreSQL ({PG_ENV})")
async def test_two_instances_share_one_inbox_and_handle_each_event_once(db: Database) -> None:
    outlets = [RecordingOutlet(), RecordingOutlet()]
    apps = [_instance(db, worker_concurrency=8) for _ in outlets]
    for app, outlet in zip(apps, outlets, strict=True):
        app.attach(Platform.SLACK, outlet)
        await app.start()
    try:
        events = [mention(f"Question {i}", message_id=f"1700009000.{i:06d}") for i in range(500)]
        for start in range(0, len(events), 50):
            batch = events[start : start + 50]
            await asyncio.gather(*(apps[i % 2].intake.submit(e) for i, e in enumerate(batch)))
        statuses = await _wait_all_settled(db, len(events), within=180)
        ran = await asyncio.gather(run_digest(apps[0].jobs), run_digest(apps[1].jobs))
    finally:
        for app in apps:
            await app.stop()
    assert statuses == Counter({"done": 500})
    sent = outlets[0].sent + outlets[1].sent
    per_thread = Counter(
        (r.place.thread_id, r.kind, bool(getattr(r, "card", None)))
        for r in sent
        if r.place.channel_id == "C_HELP"
    )
    assert len(per_thread) == 500  # one message, the card with its note, in each thread
    assert set(per_thread.values()) == {1}  # ... and each exactly once
    assert len([r for r in sent if r.place.channel_id == "C_LEADS" and r.card]) == 500
    assert all(outlet.sent for outlet in outlets)  # both instances did work
    assert sorted(ran) == [0, 1]  # the digest ran in one instance only
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 500
        assert await session.scalar(select(func.count()).select_from(JobRun)) == 1


async def _spawn(db: Database, out: Path) -> asyncio.subprocess.Process:
    env = clean_env(
        DATABASE_URL=db.url,
        OUT_FILE=str(out),
        SLACK_LEADS_CHANNEL="T_ACME:C_LEADS",
        SUPPORTBOT_INBOX_LEASE_SECONDS="2",
        SUPPORTBOT_WORKER_CONCURRENCY="4",
        SUPPORTBOT_LOG_LEVEL="WARNING",
        SUPPORTBOT_USER_MESSAGES_PER_MINUTE="1000",
        SUPPORTBOT_OUTBOX_LEASE_SECONDS="2",
        SUPPORTBOT_INBOX_RETRY_BASE_SECONDS="0.5",
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bot.pipeline.crash_worker",
        env=env,
        cwd=Path(__file__).parents[3],
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_sigkill_mid_run_then_restart_loses_nothing_and_posts_each_reply_once(
    db: Database, tmp_path: Path
) -> None:
    seeder = _instance(db)
    events = [mention(f"Crash question {i}", message_id=f"1700008000.{i:06d}") for i in range(100)]
    for event in events:
        assert await seeder.intake.submit(event)
    await seeder.database.dispose()
    out = tmp_path / "replies.jsonl"

    first = await _spawn(db, out)
    await _wait_until(db, lambda statuses: statuses["done"] >= 20, within=60)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    interrupted = await _statuses(db)
    assert interrupted["done"] < 100, "the kill should land mid-run"

    second = await _spawn(db, out)
    try:
        statuses = await _wait_all_settled(db, len(events), within=120)
        # What the killed relay held comes back when its lease runs out.
        assert await _wait_replies_sent(db, within=60) == 0
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()
    assert statuses["done"] + statuses["failed"] == 100
    async with db.sessions() as session:
        failed = (
            await session.scalars(select(InboxItem.last_error).where(InboxItem.status == "failed"))
        ).all()
    assert all(failed)  # any failure carries its reason
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    keys = Counter(line["key"] for line in lines)
    assert set(keys.values()) == {1}  # no reply recorded twice
    # Each event's ticket got its card (the note in the same message) and the leads' card.
    assert not [k for k in keys if k.endswith(":answer")]
    assert sum(1 for k in keys if k.endswith(":card")) == 100
    assert sum(1 for k in keys if k.endswith(":escalation")) == 100
