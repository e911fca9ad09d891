"""SQLite statements run on the event loop's thread; one that finds another process's
write lock waits for it in aiosqlite's thread, so the loop keeps running meanwhile;
and what runs inside `offloaded()` goes to that thread from the start."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.store.db import Database
from bot.store.models import AuditEntry
from bot.store.sqlite_inline import offloaded


@pytest.fixture
def sqlite_db(db: Database) -> Database:
    if not db.is_sqlite:
        pytest.skip("SQLite's own connection handling")
    return db


def _file(db: Database) -> Path:
    return Path(str(db.engine.url.database))


async def _thread_of_a_statement(db: Database) -> int:
    """The thread a statement runs on, as SQLite itself sees it (a function it calls)."""
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        seen: list[int] = []
        await raw.driver_connection.create_function(
            "whose_thread", 0, lambda: seen.append(threading.get_ident()) or 1
        )
        await conn.execute(text("SELECT whose_thread()"))
        return seen[0]


async def test_statements_run_on_the_loops_thread_unless_offloaded(sqlite_db: Database) -> None:
    loop_thread = threading.get_ident()
    assert await _thread_of_a_statement(sqlite_db) == loop_thread
    with offloaded():
        assert await _thread_of_a_statement(sqlite_db) != loop_thread


@pytest.mark.parametrize("in_thread", [False, True], ids=["inline", "offloaded"])
async def test_another_processs_write_lock_is_waited_for_without_stopping_the_loop(
    sqlite_db: Database, in_thread: bool
) -> None:
    other = sqlite3.connect(_file(sqlite_db), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process, mid-write
    released = threading.Timer(0.6, lambda: other.execute("COMMIT"))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    started = time.monotonic()
    released.start()
    try:
        with offloaded() if in_thread else contextlib.nullcontext():
            async with sqlite_db.sessions.begin() as session:
                session.add(AuditEntry(actor="U1", action="test.write", target="ticket:1"))
    finally:
        ticking.cancel()
        released.join()
        other.close()
    waited = time.monotonic() - started
    assert waited >= 0.5  # it did wait for the lock, and then wrote
    assert ticks >= 10  # while the loop went on (a blocked loop would tick once or not)
    async with sqlite_db.sessions() as session:
        assert await session.scalar(select(AuditEntry.action)) == "test.write"
