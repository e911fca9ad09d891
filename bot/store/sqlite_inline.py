"""SQLite statements run on the event loop's own thread, not in aiosqlite's.

aiosqlite runs every call in its thread and hands the result back through the event
loop. Under a burst each hand-back waits its turn behind every other ready task, and
the one connection the pipeline shares stays held meanwhile: with 200 tickets at once
it was busy about 90 % of the time, 3.6 ms a transaction, for statements SQLite itself
runs in microseconds (`bench/burst.py`: all answered in 6.1 s before, 4.4 s after).

So the pipeline's statements run in place. What could hold the loop up still goes to
aiosqlite's thread, as before:

- a statement that finds the database locked by another process (a `supportbot kb`
  command beside the bot): the inline connection never waits for the lock
  (`busy_timeout` 0); that statement is then run again in the thread, where the busy
  handler may wait;
- everything run inside `offloaded()`: knowledge-base search, the dashboard's pages,
  the periodic jobs, whose statements may take tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import aiosqlite

__all__ = ["BUSY_TIMEOUT_MS", "InlineConnection", "connect_inline", "offloaded"]

BUSY_TIMEOUT_MS = 10_000
"""How long a statement run in the thread waits for another process's write lock."""

_OFFLOADED: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_offloaded", default=False)


@contextlib.contextmanager
def offloaded() -> Iterator[None]:
    """Run this task's SQLite statements in aiosqlite's thread while inside (statements
    that may take long: searches, reports, jobs)."""
    token = _OFFLOADED.set(True)
    try:
        yield
    finally:
        _OFFLOADED.reset(token)


def _locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _waiting(connection: sqlite3.Connection, call: Callable[[], Any]) -> Any:
    """`call` with the busy handler on (run in the thread, where waiting blocks nothing)."""
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        return call()
    finally:
        connection.execute("PRAGMA busy_timeout=0")


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in place unless they must not."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if not _OFFLOADED.get():
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
            # Another process holds the lock: wait for it in the thread, not on the loop.
        call = functools.partial(fn, *args, **kwargs)
        return await super()._execute(_waiting, self._connection, call)


async def connect_inline(path: str) -> InlineConnection:
    """An open `InlineConnection` to the SQLite file at `path` (for
    `create_async_engine`'s `async_creator`)."""

    def connector() -> sqlite3.Connection:
        # The thread opens it; calls then come from both threads, never at once.
        connection = sqlite3.connect(path, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout=0")
        return connection

    connection = InlineConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does for its own aiosqlite threads
    return await connection
