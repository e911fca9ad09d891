"""Migrations build the schema on an empty database, and the store behaves on it."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from bot.llm.types import AttemptRecord, CallContext, Usage
from bot.store.db import Database
from bot.store.kb_tables import is_search_object
from bot.store.ledger import SqlCallRecorder
from bot.store.migrate import current_revision, head_revision, upgrade
from bot.store.models import Base, LlmCall
from tests.conftest import PG_ENV, create_pg_database, drop_pg_database

TABLES = {
    "inbox",
    "tickets",
    "messages",
    "triage_runs",
    "llm_calls",
    "summaries",
    "audit_log",
    "job_runs",
    "kb_sources",
    "kb_documents",
    "kb_chunks",
    "retrievals",
}


async def _tables(database: Database) -> set[str]:
    async with database.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_builds_every_table_on_empty_sqlite(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        assert await current_revision(database) is None
        await upgrade(database)
        assert await current_revision(database) == head_revision()
        assert await _tables(database) >= TABLES
        await upgrade(database)  # a second run is a no-op, not an error
    finally:
        await database.dispose()


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} not set")
async def test_upgrade_builds_every_table_on_empty_postgres() -> None:
    url = await create_pg_database(os.environ[PG_ENV])
    database = Database(url)
    try:
        assert await current_revision(database) is None
        await upgrade(database)
        assert await current_revision(database) == head_revision()
        assert await _tables(database) >= TABLES
    finally:
        await database.dispose()
        await drop_pg_database(url)


def _not_search(name: str | None, type_: str, parents: dict[str, str | None]) -> bool:
    return not is_search_object(name, type_, parents.get("table_name"))


async def test_migrations_match_the_models(db: Database) -> None:
    """Autogenerate finds nothing to add: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"include_name": _not_search}), Base.metadata
            )
        )
    assert diff == []


async def test_sqlite_runs_in_wal_mode(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("WAL is a SQLite setting")
    async with db.engine.connect() as conn:
        mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
    assert mode == "wal"


async def test_ledger_keeps_exact_cost_and_context(db: Database) -> None:
    recorder = SqlCallRecorder(db.sessions)
    started = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    await recorder.record(
        AttemptRecord(
            context=CallContext(
                purpose="triage", workspace_id="T1", user_id="U1", prompt_version="triage.v1"
            ),
            model="deepseek-chat",
            status="ok",
            error=None,
            usage=Usage(cache_hit_tokens=64, cache_miss_tokens=100, completion_tokens=30),
            cost_usd=Decimal("0.0000452920"),
            latency_ms=120,
            attempt=1,
            request_id="req-1",
            started_at=started,
        )
    )
    async with db.sessions() as session:
        row = (await session.scalars(select(LlmCall))).one()
    assert row.cost_usd == Decimal("0.0000452920")
    assert (row.purpose, row.workspace_id, row.user_id) == ("triage", "T1", "U1")
    assert row.created_at == started
    assert row.prompt_cache_hit_tokens == 64


def test_database_repr_hides_password() -> None:
    database = Database("postgresql+asyncpg://bot:hunter2secret@127.0.0.1/x")
    assert "hunter2secret" not in repr(database)
