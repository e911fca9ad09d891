"""A real session factory that fails like a database that is down, for as long as told.

Every session and transaction is a real one on the test database; only while `down`
is set (or for the next `fail_next` openings) does opening one raise the
`OperationalError` a locked, dropped or restarting database gives.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = ["FlakySessions", "until"]


class FlakySessions:
    """Wraps an `async_sessionmaker`; `begin()` and `()` fail while the database is "down"."""

    def __init__(self, real: async_sessionmaker[AsyncSession]) -> None:
        self._real = real
        self.down = False
        self.fail_next = 0
        self.refused = 0

    def begin(self) -> _Gated:
        """A transaction, as `async_sessionmaker.begin()`."""
        return _Gated(self, self._real.begin)

    def __call__(self, **kwargs: Any) -> _Gated:
        return _Gated(self, lambda: self._real(**kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def check(self) -> None:
        """Raise as a database that does not answer would."""
        if not self.down and self.fail_next <= 0:
            return
        self.fail_next = max(self.fail_next - 1, 0)
        self.refused += 1
        raise OperationalError("BEGIN", None, sqlite3.OperationalError("database is locked"))


class _Gated:
    def __init__(self, flaky: FlakySessions, open_: Callable[[], Any]) -> None:
        self._flaky = flaky
        self._open = open_
        self._inner: Any = None

    async def __aenter__(self) -> Any:
        self._flaky.check()
        self._inner = self._open()
        return await self._inner.__aenter__()

    async def __aexit__(self, *exc_info: Any) -> Any:
        return await self._inner.__aexit__(*exc_info)


async def until(check: Callable[[], Any], within: float = 15.0, step: float = 0.02) -> bool:
    """Poll `check` (sync or async) until it is truthy; False when time ran out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(step)
