"""Shared fixtures: the loopback-only socket guard, a fresh migrated database per
test (SQLite always; PostgreSQL when SUPPORTBOT_TEST_DATABASE_URL is set), and the
fake DeepSeek server."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.store.db import Database
from bot.store.ledger import SqlCallRecorder
from bot.store.migrate import upgrade
from bot.store.models import Base

if TYPE_CHECKING:
    from tests.fakes.deepseek import FakeDeepSeek

PG_ENV = "SUPPORTBOT_TEST_DATABASE_URL"
FAKE_KEY = "sk-test-fake-key"


# --- No internet: only loopback and unix sockets ------------------------------


class NetworkAccessDenied(OSError):
    """A test tried to reach beyond this machine."""


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX path
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_loopback(address):
        raise NetworkAccessDenied(f"tests may only use loopback, not {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_loopback(address):
        raise NetworkAccessDenied(f"tests may only use loopback, not {address!r}")
    return _real_connect_ex(self, address)


def pytest_configure(config: pytest.Config) -> None:
    """Install the socket guard before any test or fixture runs."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


# --- Databases ----------------------------------------------------------------


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()


async def _admin(url: str, statement: str) -> None:
    """Run CREATE/DROP DATABASE on the server's maintenance connection."""
    import asyncpg

    target = make_url(url).set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(target.render_as_string(hide_password=False))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_pg_database(base_url: str) -> str:
    """Create an empty, uniquely named database on the test server; return its URL."""
    name = f"supportbot_test_{uuid.uuid4().hex[:12]}"
    await _admin(base_url, f'CREATE DATABASE "{name}"')
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database."""
    name = make_url(url).database
    await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database made once per run: a SQLite file to copy, or a PG database."""
    pg = os.environ.get(PG_ENV)
    if pg:
        url = asyncio.run(create_pg_database(pg))
        asyncio.run(_migrate(url))
        yield url
        asyncio.run(drop_pg_database(url))
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    yield str(path)


@pytest.fixture
async def db(migrated_template: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database for one test."""
    if migrated_template.startswith("postgresql"):
        database = Database(migrated_template)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with database.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    else:
        path = tmp_path / "supportbot.db"
        shutil.copyfile(migrated_template, path)
        database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def ledger(db: Database) -> SqlCallRecorder:
    """The real cost ledger, writing llm_calls rows into the test database."""
    return SqlCallRecorder(db.sessions)


# --- Fakes --------------------------------------------------------------------


@pytest.fixture
async def fake_deepseek() -> AsyncIterator[FakeDeepSeek]:
    """A running fake DeepSeek API on 127.0.0.1 that accepts FAKE_KEY."""
    from tests.fakes.deepseek import FakeDeepSeek

    async with FakeDeepSeek(api_key=FAKE_KEY) as fake:
        yield fake
