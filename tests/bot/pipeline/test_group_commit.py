"""A burst of accepts shares a few transactions; each caller returns once its row is
durable, and a duplicate in the same burst is still a duplicate."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, func, select

from bot.events import Place, Platform, PostReply
from bot.pipeline.inbox import Inbox
from bot.pipeline.outbox import Outbox
from bot.store.db import Database
from bot.store.group_commit import GroupCommit
from bot.store.models import InboxItem
from tests.bot.harness import RecordingOutlet, mention
from tests.bot.store.commit_sync import CommitSync

PLACE = Place(platform=Platform.SLACK, workspace_id="T1", channel_id="C1", thread_id="1700.1")


async def test_a_burst_of_events_is_committed_in_a_few_transactions(db: Database) -> None:
    inbox = Inbox(db.sessions)
    commits: list[object] = []
    event.listen(db.engine.sync_engine, "commit", commits.append)
    events = [mention(f"Question {n}", message_id=f"1700000000.{n:06d}") for n in range(60)]
    repeat = events[7]

    async def accept(one: object) -> tuple[bool, int]:
        accepted = await inbox.accept(one)  # type: ignore[arg-type]
        async with db.sessions() as session:  # durable by the time accept returns
            found = await session.scalar(
                select(func.count()).where(InboxItem.event_id == one.event_id)  # type: ignore[attr-defined]
            )
        return accepted, int(found or 0)

    outcomes = await asyncio.gather(*(accept(e) for e in [*events, repeat]))

    assert [accepted for accepted, _ in outcomes] == [True] * 60 + [False]
    assert all(found == 1 for _, found in outcomes)
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 60
    assert len(commits) < 20  # one per event would be 61


async def test_a_failed_write_fails_every_caller_of_its_batch_and_the_next_one_works() -> None:
    written: list[list[str]] = []

    async def write(items: list[str]) -> list[bool]:
        if not written:
            written.append([])
            await asyncio.sleep(0.01)
            raise ConnectionError("database restarting")
        written.append(items)
        return [True] * len(items)

    group: GroupCommit[str, bool] = GroupCommit(write)
    results = await asyncio.gather(*(group.submit(x) for x in "abc"), return_exceptions=True)

    assert isinstance(results[0], ConnectionError)  # its batch was "a" alone
    assert results[1:] == [True, True]  # "b" and "c" waited and went together
    assert written[1] == ["b", "c"]
    assert await group.submit("d") is True


async def test_an_accept_reaches_the_disk_and_the_work_after_it_need_not(db: Database) -> None:
    """The platform hears "got it" only after the accept is synced; the worker's own
    writes are not waited for (a power cut may undo them, and the inbox row redoes
    them). SQLite: `synchronous` at each commit; PostgreSQL: `synchronous_commit`."""
    inbox = Inbox(db.sessions)
    sync = CommitSync(db)

    assert await inbox.accept(mention("Question", message_id="1700000000.000001"))
    (claimed,) = await inbox.claim(1)
    await inbox.complete(claimed)
    # A reply the platform shows is on disk as sent: never posted again after a crash.
    outbox, outlet = Outbox(db.sessions), RecordingOutlet()
    outbox.attach(Platform.SLACK, outlet)
    async with db.sessions.begin() as session:
        await outbox.add(session, "answer:1", PostReply(place=PLACE, text="Use Export."))
    (row,) = await outbox.due(1)
    assert await outbox.claim([row.id]) == {row.id}
    assert await outbox.send(row)

    assert outlet.texts() == ["Use Export."]
    synced, not_waited = sync.synced, sync.not_waited
    assert sync.levels == [synced, not_waited, not_waited, not_waited, not_waited, synced]
    # accept, claim, done; the reply written, claimed, marked sent
    assert await sync.pooled() == not_waited  # a pooled connection, as it was
