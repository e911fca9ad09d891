"""`durable`: its commit waits for the disk, a failure inside it writes nothing, and
either way the pooled connection goes back not waiting, as every other commit does;
an erasure is one of them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from bot.events import Place, Platform
from bot.store.db import Database, durable
from bot.store.models import AuditEntry, Message
from bot.tickets.erasure import apply_edit
from bot.tickets.queries import add_message, get_or_open_ticket
from tests.bot.store.commit_sync import CommitSync

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def test_a_failure_inside_writes_nothing_and_leaves_the_connection_as_it_was(
    db: Database,
) -> None:
    sync = CommitSync(db)

    async def write(target: str, *, then_fail: bool = False) -> None:
        async with durable(db.sessions) as session:
            row = {"actor": "bot", "action": "ticket.opened", "target": target, "detail": {}}
            await session.execute(insert(AuditEntry.__table__), {**row, "at": NOW})
            if then_fail:
                raise RuntimeError("the platform went away")

    with pytest.raises(RuntimeError, match="the platform went away"):
        await write("ticket:1", then_fail=True)
    assert await sync.pooled() == sync.not_waited
    await write("ticket:2")

    async with db.sessions() as session:
        targets = (await session.scalars(select(AuditEntry.target))).all()
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 1
    assert targets == ["ticket:2"]
    assert await sync.pooled() == sync.not_waited


async def test_erasing_a_message_is_on_disk_when_it_returns(db: Database) -> None:
    """A deleted message's text is gone for good: a power cut must not bring it back."""
    place = Place(platform=Platform.SLACK, workspace_id="T1", channel_id="C1")
    async with db.sessions.begin() as session:
        ticket, _ = await get_or_open_ticket(session, place, "1700.1", "U1", "1700.1", NOW)
        await add_message(
            session,
            ticket,
            message_id="1700.1",
            author_id="U1",
            text="my card is 4111 1111 1111 1111",
            is_bot=False,
            posted_at=NOW,
        )
    sync = CommitSync(db)

    await apply_edit(db.sessions, place, "1700.1", None, NOW)

    async with db.sessions() as session:
        assert await session.scalar(select(Message.text)) is None
    assert sync.levels == [sync.synced]
