"""Engine and session factory for SQLite (WAL) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import event, make_url, text
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql import Executable

from bot.store.sqlite_inline import connect_inline

__all__ = ["Database", "Prepared", "Upsert", "durable"]

S = TypeVar("S", bound=Executable)

Upsert = Callable[[Any], PostgresqlInsert | SqliteInsert]
"""An `INSERT` into a model or a table that can say `ON CONFLICT` (one statement where
a read, then a write inside a savepoint, would be three or four), in one dialect."""

_UPSERTS: dict[str, Upsert] = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


class Prepared(Generic[S]):
    """A statement built once for each SQL dialect, then run with its parameters
    (`bindparam`s, or an INSERT's column values) on every call.

    SQLAlchemy caches a statement's compiled SQL, but building the statement object and
    working out its cache key again on every call cost more than SQLite takes to run it
    (an arrival's five statements: 2.4 ms of CPU built each time, 1.0 ms prepared). The
    statements a ticket runs every time are prepared; the rest are built where they are
    used, which reads better.

    `build` gets the dialect's upsert (`Upsert`); a statement that needs none ignores it.
    """

    def __init__(self, build: Callable[[Upsert], S]) -> None:
        self._build = build
        self._built: dict[str, S] = {}

    def on(self, session: AsyncSession) -> S:
        """The statement for `session`'s database."""
        dialect = session.bind.dialect.name
        if (statement := self._built.get(dialect)) is None:
            statement = self._built[dialect] = self._build(_UPSERTS.get(dialect, sqlite_insert))
        return statement


_NOT_WAITING = "PRAGMA synchronous=NORMAL"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets other processes (the CLI beside a running bot) read while one writes;
    # SQLite leaves foreign keys off by default. (The wait for another process's write
    # lock is `sqlite_inline`'s: in its thread, never on the event loop.) In WAL mode
    # NORMAL never corrupts the file and survives the process dying; the commits that
    # promise something outside (accepts, sent marks, erasures) are `durable`.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(_NOT_WAITING)
    cursor.close()


_SYNC_FULL = text("PRAGMA synchronous=FULL")
_SYNC_NORMAL = text(_NOT_WAITING)
_COMMIT_SYNCED = text("SET LOCAL synchronous_commit TO on")


@contextlib.asynccontextmanager
async def durable(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A transaction whose commit is on disk when it returns, power cut included.

    Other commits are not waited for (SQLite's `synchronous=NORMAL`, PostgreSQL's
    `synchronous_commit=off`): a crashed process loses none of them, a power cut or an
    OS crash may undo the newest. This commit syncs the write-ahead log, which holds
    every earlier commit too, so a power cut may undo the work after an accept, never
    the accept, and an undone event's work is redone from its inbox row.
    """
    async with sessions() as session:
        dialect = session.bind.dialect.name
        if dialect == "sqlite":  # before the write's BEGIN, where SQLite reads it
            await session.execute(_SYNC_FULL)
        elif dialect == "postgresql":  # for this transaction only
            await session.execute(_COMMIT_SYNCED)
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        finally:
            if dialect == "sqlite":  # the connection goes back to the pool as it came
                await session.execute(_SYNC_NORMAL)


def _sqlite_file(url: str) -> str | None:
    """The file of a plain SQLite URL (no in-memory database, no URL options)."""
    parsed = make_url(url)
    if parsed.query or not parsed.database or parsed.database == ":memory:":
        return None
    return parsed.database


class Database:
    """An async engine plus its session factory; one per process, made in the wiring."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        # A failed statement's error (logged, stored as an event's last_error) must never
        # carry its bound values: they are message text.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_postgres:
            kwargs.update(pool_size=20, max_overflow=10, pool_pre_ping=True)
            # Commits return before the WAL is flushed, except `durable` ones (the accepts):
            # PostgreSQL's asynchronous commit, which loses nothing to a crashed process.
            kwargs["connect_args"] = {"server_settings": {"synchronous_commit": "off"}}
        elif self.is_sqlite:
            # One connection, taken in turn: SQLite has one writer at a time anyway, and
            # writers on separate connections wait for its lock in the busy handler's
            # sleeps (1 ms growing to 100 ms), which under a burst cost more than the work.
            kwargs.update(pool_size=1, max_overflow=0)
            if (path := _sqlite_file(url)) is not None:
                kwargs["async_creator"] = functools.partial(connect_inline, path)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite store."""
        return self.url.startswith("sqlite")

    @property
    def is_postgres(self) -> bool:
        """True for PostgreSQL."""
        return self.url.startswith("postgresql")

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)!r})"
