"""The worker survives a database that fails for a while, and says whether it is healthy."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import SupportApp
from bot.config import load_settings
from bot.events import Event, Platform
from bot.pipeline.inbox import Inbox
from bot.pipeline.worker import InboxWorker
from bot.store.db import Database
from bot.store.models import InboxItem
from tests.bot.harness import RecordingOutlet, mention
from tests.bot.pipeline.flaky import FlakySessions, until
from tests.conftest import PG_ENV, _admin
from tests.settle import wait_settled

pytestmark = pytest.mark.timeout(60)


async def _row(db: Database, event_id: str) -> InboxItem | None:
    async with db.sessions() as session:
        return await session.scalar(select(InboxItem).where(InboxItem.event_id == event_id))


async def _status(db: Database, event_id: str) -> str | None:
    row = await _row(db, event_id)
    return row.status if row else None


async def _done(db: Database, event_id: str) -> bool:
    return await _status(db, event_id) == "done"


@asynccontextmanager
async def _working(worker: InboxWorker) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(worker.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_worker_cancelled_as_an_event_arrives_stops(db: Database) -> None:
    # The cancel and the wake-up land in the same turn of the loop: an event arrives
    # just as the app is shut down. Python 3.11's wait_for then returns the wake-up and
    # drops the cancel, and the worker would run on for ever.
    inbox = Inbox(db.sessions, lease_seconds=5)

    async def handler(event: Event) -> None:
        return None

    worker = InboxWorker(inbox, handler, poll_seconds=30.0)
    task = asyncio.create_task(worker.run())
    try:
        assert await until(lambda: worker.running)
        await asyncio.sleep(0.05)  # idle, waiting for work
        inbox.arrived.set()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert task in done, "the worker ran on after it was cancelled"
        assert task.cancelled()
    finally:
        worker.stop()  # ends a worker that ran on, so the test fails rather than hangs
        await asyncio.wait({task}, timeout=5)


async def test_claims_that_fail_are_retried_and_the_worker_keeps_going(db: Database) -> None:
    flaky = FlakySessions(db.sessions)
    flaky.fail_next = 2  # the first two claims meet a locked database
    handled: list[str] = []

    async def handler(event: Event) -> None:
        handled.append(event.event_id)

    worker = InboxWorker(Inbox(flaky, lease_seconds=5), handler, poll_seconds=0.05)
    event = mention("Does the worker survive a locked database?")
    async with _working(worker) as task:
        assert await Inbox(db.sessions).accept(event)  # accepted by another instance's intake
        assert await until(lambda: _done(db, event.event_id)), "the worker never recovered"
        assert not task.done()
    assert flaky.refused >= 2
    assert handled == [event.event_id]


@pytest.mark.parametrize("handler_fails", [False, True], ids=["complete", "fail"])
async def test_a_row_whose_outcome_could_not_be_stored_is_let_go_and_retried_once(
    db: Database, handler_fails: bool
) -> None:
    flaky = FlakySessions(db.sessions)
    calls: list[str] = []

    async def handler(event: Event) -> None:
        calls.append(event.event_id)
        if len(calls) == 1:
            flaky.fail_next = 1  # the very next database step: complete() or fail()
            if handler_fails:
                raise ValueError("the first attempt fails")

    worker = InboxWorker(Inbox(flaky, lease_seconds=1.0), handler, poll_seconds=0.05)
    event = mention("Is an unrecorded outcome retried?")
    async with _working(worker) as task:
        assert await Inbox(db.sessions).accept(event)
        # Still renewed forever, the row would never be taken again.
        assert await until(lambda: _done(db, event.event_id), within=20)
        assert not task.done()
    assert calls == [event.event_id, event.event_id]
    row = await _row(db, event.event_id)
    assert row is not None
    assert row.attempts == 2


async def test_running_is_false_while_the_database_is_down_and_true_once_it_is_back(
    db: Database,
) -> None:
    flaky = FlakySessions(db.sessions)
    handled: list[str] = []

    async def handler(event: Event) -> None:
        handled.append(event.event_id)

    worker = InboxWorker(Inbox(flaky, lease_seconds=5), handler, poll_seconds=0.05)
    assert not worker.running  # not started
    event = mention("Accepted while this worker cannot reach the database")
    async with _working(worker):
        assert await until(lambda: worker.running)
        flaky.down = True
        assert await until(lambda: not worker.running)
        assert await Inbox(db.sessions).accept(event)
        await asyncio.sleep(0.5)
        assert not worker.running
        assert await _status(db, event.event_id) == "pending"
        flaky.down = False
        assert await until(lambda: worker.running)
        assert await until(lambda: _done(db, event.event_id))
    assert not worker.running  # stopped
    assert handled == [event.event_id]


def _app(database: Database, outlet: RecordingOutlet) -> SupportApp:
    settings = load_settings(
        database_url=database.url,
        slack_leads_channel="T_ACME:C_LEADS",
        inbox_retry_base_seconds=0.05,
        lead_user_ids=["U_LEAD"],
    )
    app = SupportApp(settings, database=database)
    app.attach(Platform.SLACK, outlet)
    return app


async def test_healthy_is_false_while_the_database_fails_and_true_after(db: Database) -> None:
    database = Database(db.url)
    flaky = FlakySessions(database.sessions)
    database.sessions = flaky  # type: ignore[assignment]
    outlet = RecordingOutlet()
    app = _app(database, outlet)
    event = mention("Raised while the database was failing")
    assert not await app.healthy()  # not started yet
    await app.start()
    try:
        assert await until(app.healthy)
        flaky.down = True
        assert not await app.healthy()
        assert await Inbox(db.sessions).accept(event)
        await asyncio.sleep(1.0)  # the worker's claims fail meanwhile
        assert not await app.healthy()
        assert not app.worker.running
        flaky.down = False
        assert await until(app.healthy, within=30)
        assert await wait_settled(app, "slack", event.event_id, within=30) == "done"
    finally:
        await app.stop()
    assert not await app.healthy()  # stopped
    assert outlet.cards(), "the event was handled once the database was back"


@asynccontextmanager
async def _connections_refused(url: str) -> AsyncIterator[None]:
    """Close every connection to the test database and refuse new ones (a restart)."""
    name = make_url(url).database
    await _admin(url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        terminate = (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608 - our own name
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        await _admin(url, terminate)
        yield
    finally:
        await _admin(url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"needs PostgreSQL ({PG_ENV})")
async def test_the_app_rides_out_a_real_postgres_restart(db: Database) -> None:
    outlet = RecordingOutlet()
    app = _app(Database(db.url), outlet)
    before, after = mention("before", message_id="1.1"), mention("after", message_id="1.2")
    await app.start()
    try:
        assert await app.intake.submit(before)
        assert await wait_settled(app, "slack", before.event_id) == "done"
        async with _connections_refused(db.url):
            assert await until(lambda: _not(app.healthy()), within=20)
            await asyncio.sleep(1.0)  # claims fail for a while
            assert not app.worker.running
        assert await until(app.healthy, within=30)
        assert await app.intake.submit(after)
        assert await wait_settled(app, "slack", after.event_id, within=30) == "done"
    finally:
        await app.stop()
    assert len(outlet.cards()) >= 4  # each event: its thread card and the leads' card


async def _not(value: object) -> bool:
    return not await value  # type: ignore[misc]
