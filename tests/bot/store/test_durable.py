"""`durable`: its commit waits for the disk, a failure inside it writes nothing, and
either way the pooled connection goes back not waiting, as every other commit does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from bot.store.db import Database, durable
from bot.store.models import AuditEntry

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _setting(db: Database) -> str:
    return "PRAGMA synchronous" if db.is_sqlite else "SHOW synchronous_commit"


async def _pooled_setting(db: Database) -> object:
    async with db.engine.connect() as connection:
        return (await connection.exec_driver_sql(_setting(db))).scalar()


async def test_a_failure_inside_writes_nothing_and_leaves_the_connection_as_it_was(
    db: Database,
) -> None:
    not_waited = 1 if db.is_sqlite else "off"

    async def write(target: str, *, then_fail: bool = False) -> None:
        async with durable(db.sessions) as session:
            row = {"actor": "bot", "action": "ticket.opened", "target": target, "detail": {}}
            await session.execute(insert(AuditEntry.__table__), {**row, "at": NOW})
            if then_fail:
                raise RuntimeError("the platform went away")

    with pytest.raises(RuntimeError, match="the platform went away"):
        await write("ticket:1", then_fail=True)
    assert await _pooled_setting(db) == not_waited
    await write("ticket:2")

    async with db.sessions() as session:
        targets = (await session.scalars(select(AuditEntry.target))).all()
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 1
    assert targets == ["ticket:2"]
    assert await _pooled_setting(db) == not_waited
