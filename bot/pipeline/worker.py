"""The worker pool that drains the inbox, a bounded number of events at a time.

A cancelled worker hands its unfinished rows back at once; a crashed one leaves
them to the lease. Each settled event (done, or failed for good) is reported to
`on_settled`, so a caller can wait for its own event without polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.events import Event
from bot.ops.logs import bind_log_context, reset_log_context
from bot.pipeline.inbox import ClaimedEvent, Inbox

__all__ = ["InboxWorker"]

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]


class InboxWorker:
    """Drains the inbox with at most `concurrency` events in flight.

    Every row this worker has claimed and not yet finished is in `_held`; on shutdown
    those rows are handed back at once (a crash leaves them to the lease instead).
    """

    def __init__(
        self,
        inbox: Inbox,
        handler: Handler,
        *,
        concurrency: int = 16,
        poll_seconds: float = 0.5,
        on_settled: Callable[[Event, str], None] | None = None,
    ) -> None:
        self._inbox = inbox
        self._on_settled = on_settled
        self._handler = handler
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._running: dict[int, asyncio.Task[None]] = {}
        self._held: set[int] = set()

    async def run(self) -> None:
        """Work until cancelled; on cancel, hand unfinished rows back to the inbox."""
        renewer = asyncio.create_task(self._renew_leases())
        try:
            while True:
                free = self._concurrency - len(self._running)
                claimed = await self._claim(free) if free > 0 else []
                for item in claimed:
                    task = asyncio.create_task(self._process(item))
                    self._running[item.row_id] = task
                    task.add_done_callback(lambda _t, rid=item.row_id: self._running.pop(rid, None))
                if not claimed or free <= len(claimed):
                    await self._idle()
        finally:
            renewer.cancel()
            await self._stop_tasks()
            for row_id in sorted(self._held):
                with contextlib.suppress(Exception):
                    await self._inbox.release(row_id)
            self._held.clear()

    async def _claim(self, limit: int) -> list[ClaimedEvent]:
        # A claim that committed must be remembered even if we are cancelled meanwhile.
        claiming = asyncio.ensure_future(self._inbox.claim(limit))
        try:
            claimed = await asyncio.shield(claiming)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                self._held.update(item.row_id for item in await claiming)
            raise
        self._held.update(item.row_id for item in claimed)
        return claimed

    async def _idle(self) -> None:
        self._inbox.arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._inbox.arrived.wait(), self._poll)

    async def _process(self, item: ClaimedEvent) -> None:
        started = time.monotonic()
        metrics = self._inbox.metrics
        token = bind_log_context(
            event_id=item.event.event_id, platform=item.event.place.platform.value
        )
        try:
            await self._handler(item.event)
        except Exception as exc:
            log.exception("event.failed row=%s event_id=%s", item.row_id, item.event.event_id)
            if metrics:
                metrics.events_failed.labels(item.event.place.platform.value, item.event.kind).inc()
            status = await self._inbox.fail(
                item.row_id, item.attempts, f"{type(exc).__name__}: {exc}"
            )
            self._held.discard(item.row_id)
            self._settled(item.event, status)
        else:
            await self._inbox.complete(item.row_id)
            self._held.discard(item.row_id)
            self._settled(item.event, "done")
        finally:
            if metrics:
                metrics.processing_seconds.labels(item.event.kind).observe(
                    time.monotonic() - started
                )
            reset_log_context(token)
            self._inbox.arrived.set()  # a slot is free: look for more work

    def _settled(self, event: Event, status: str) -> None:
        if self._on_settled is not None and status in ("done", "failed"):
            self._on_settled(event, status)

    async def _renew_leases(self) -> None:
        interval = max(self._inbox.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(Exception):
                await self._inbox.renew(list(self._held))

    async def _stop_tasks(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
