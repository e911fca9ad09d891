"""Group commit: writes that arrive while one is in progress share the next transaction.

A burst of 200 events would otherwise be 200 commits in a row (on SQLite, each an
fsync and the one write lock). Here the first caller writes its row; everyone who
arrives meanwhile waits, and the next writer takes all of their rows in one go. No
timer: an idle inbox writes each event at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Batches `submit` calls into calls of `write(items) -> results` (one per item)."""

    def __init__(self, write: Callable[[list[T]], Awaitable[list[R]]], *, most: int = 500):
        self._write = write
        self._most = most
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._lock = asyncio.Lock()

    async def submit(self, item: T) -> R:
        """Write `item` (with whatever else is waiting); its result once it is durable.

        Raises:
            Exception: whatever the write raised, for every item of its batch.
        """
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        async with self._lock:
            if not done.done():
                batch, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
                # Shielded: this caller giving up (a dropped request) must not cancel
                # the write of everyone else's rows.
                await asyncio.shield(self._run(batch))
        return await done

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as exc:
            for _, waiting in batch:
                if not waiting.done():
                    waiting.set_exception(exc)
            return
        for (_, waiting), result in zip(batch, results, strict=True):
            if not waiting.done():
                waiting.set_result(result)
