"""The worker pool that drains the inbox, a bounded number of events at a time.

A database that fails (locked, connection dropped, restarting) never stops the
worker: a failed claim is logged and retried with bounded, jittered backoff, and a
row whose outcome could not be stored is let go, so its lease lapses and it is
handled once more (handlers are idempotent). `running` says whether the worker is
alive and its claims succeed.

`stop()` ends claiming and gives the events in flight a grace period to finish, so a
reply being sent is not cut off and re-sent by the next instance; what is left then
is cancelled and handed back at once (a crash leaves it to the lease). Each settled
event (done, or failed for good) is reported to `on_settled`, so a caller can wait
for its own event without polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable

from bot.events import Event
from bot.ops.logs import bind_log_context, reset_log_context
from bot.pipeline.errors import describe_error
from bot.pipeline.inbox import ClaimedEvent, Inbox
from bot.pipeline.waiting import wait_set

__all__ = ["InboxWorker"]

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]
_SHUTDOWN_MARGIN_SECONDS = 5.0  # past the grace: the cancel and hand-back of what is left
_QUIET_WAIT_SECONDS = 0.25  # the most a claim yields to accepts being written


class InboxWorker:
    """Drains the inbox with at most `concurrency` events in flight.

    Every row this worker has claimed and not yet finished is in `_held` (its lease is
    renewed); on shutdown those rows are handed back at once.
    """

    def __init__(
        self,
        inbox: Inbox,
        handler: Handler,
        *,
        concurrency: int = 16,
        poll_seconds: float = 0.5,
        on_settled: Callable[[Event, str], None] | None = None,
        stop_grace_seconds: float = 10.0,
        backoff_max_seconds: float = 15.0,
        health_window_seconds: float = 30.0,
    ) -> None:
        self._inbox = inbox
        self._on_settled = on_settled
        self._handler = handler
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._grace = stop_grace_seconds
        self._backoff_max = backoff_max_seconds
        self._health_window = health_window_seconds
        self._running: dict[int, asyncio.Task[None]] = {}
        self._held: set[int] = set()
        self._alive = False
        self._stopping = False
        self._wake = asyncio.Event()
        self._claim_failures = 0
        self._claimed_ok_at: float | None = None

    @property
    def running(self) -> bool:
        """True while `run()` works and its last claim attempt succeeded recently."""
        return (
            self._alive
            and not self._stopping
            and self._claim_failures == 0
            and self._claimed_ok_at is not None
            and time.monotonic() - self._claimed_ok_at < self._health_window
        )

    def stop(self) -> None:
        """Stop claiming; `run()` lets the events in flight finish (within the grace
        period given at construction), cancels the rest and returns."""
        self._stopping = True
        self._wake.set()
        self._inbox.arrived.set()

    async def shutdown(self, task: asyncio.Task[None]) -> None:
        """`stop()`, then wait for `task` (running `run()`) to drain and return; cancel
        it should it overstay the grace (the hand-back then happens at once)."""
        self.stop()
        try:
            await asyncio.wait({task}, timeout=self._grace + _SHUTDOWN_MARGIN_SECONDS)
        finally:
            task.cancel()  # a no-op once it has returned
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Work until `stop()` (graceful) or cancelled; unfinished rows go back to the inbox."""
        self._alive = True
        renewer = asyncio.create_task(self._renew_leases())
        try:
            while not self._stopping:
                await self._step()
            await self._drain()
        finally:
            self._alive = False
            renewer.cancel()
            await self._stop_tasks()
            for row_id in sorted(self._held):
                with contextlib.suppress(Exception):
                    await self._inbox.release(row_id)
            self._held.clear()

    async def _step(self) -> None:
        free = self._concurrency - len(self._running)
        if free <= 0:
            if self._claim_failures == 0:
                self._claimed_ok_at = time.monotonic()  # busy, not broken
            await self._idle()
            return
        await self._inbox.quiet(_QUIET_WAIT_SECONDS)
        try:
            claimed = await self._claim(free)
        except Exception as exc:
            await self._back_off(exc)
            return
        if self._claim_failures:
            log.info("inbox.claim_recovered after_failures=%d", self._claim_failures)
        self._claim_failures, self._claimed_ok_at = 0, time.monotonic()
        for item in claimed:
            task = asyncio.create_task(self._process(item))
            self._running[item.row_id] = task
            task.add_done_callback(lambda _t, rid=item.row_id: self._running.pop(rid, None))
        if len(claimed) < free:  # the inbox has nothing more due: wait for an arrival
            await self._idle()

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

    async def _back_off(self, exc: Exception) -> None:
        self._claim_failures += 1
        ceiling = min(self._backoff_max, self._poll * 2 ** min(self._claim_failures - 1, 16))
        delay = ceiling * random.uniform(0.5, 1.0)
        log.error(
            "inbox.claim_failed failures=%d retry_in_s=%.2f error=%s",
            self._claim_failures, delay, describe_error(exc, self._inbox.scrub, limit=300),
        )  # fmt: skip
        await wait_set(self._wake, delay)

    async def _idle(self) -> None:
        self._inbox.arrived.clear()
        if self._stopping:
            return
        await wait_set(self._inbox.arrived, self._poll)

    async def _process(self, item: ClaimedEvent) -> None:
        started = time.monotonic()
        metrics = self._inbox.metrics
        token = bind_log_context(
            event_id=item.event.event_id, platform=item.event.place.platform.value
        )
        try:
            try:
                await self._handler(item.event)
            except Exception as exc:
                log.exception("event.failed row=%s event_id=%s", item.row_id, item.event.event_id)
                if metrics:
                    platform = item.event.place.platform.value
                    metrics.events_failed.labels(platform, item.event.kind).inc()
                await self._store_outcome(item, exc)
            else:
                await self._store_outcome(item, None)
        finally:
            if metrics:
                metrics.processing_seconds.labels(item.event.kind).observe(
                    time.monotonic() - started
                )
            reset_log_context(token)
            self._inbox.arrived.set()  # a slot is free: look for more work

    async def _store_outcome(self, item: ClaimedEvent, error: Exception | None) -> None:
        """Mark the row done, or failed/retried; if the database will not take it, let the
        row go (no more lease renewals), so it is handled again once its lease lapses."""
        try:
            if error is None:
                await self._inbox.complete(item)
                status = "done"
            else:
                status = await self._inbox.fail(item.row_id, item.attempts, error)
        except Exception as exc:
            log.error(
                "inbox.%s_failed row=%s error=%s; the row is retried when its lease lapses",
                "complete" if error is None else "fail", item.row_id,
                describe_error(exc, self._inbox.scrub, limit=300),
            )  # fmt: skip
            return
        finally:
            self._held.discard(item.row_id)  # stored or not, no more lease renewals
        self._settled(item.event, status)

    def _settled(self, event: Event, status: str) -> None:
        if self._on_settled is not None and status in ("done", "failed"):
            self._on_settled(event, status)

    async def _renew_leases(self) -> None:
        interval = max(self._inbox.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                await self._inbox.renew(list(self._held))
            except Exception as exc:
                log.warning(
                    "inbox.renew_failed rows=%d error=%s", len(self._held), type(exc).__name__
                )

    async def _drain(self) -> None:
        tasks = list(self._running.values())
        if not tasks:
            return
        log.info("worker.draining events=%d grace_s=%.1f", len(tasks), self._grace)
        _, left = await asyncio.wait(tasks, timeout=self._grace)
        if left:
            log.warning("worker.drain_timeout cancelled=%d", len(left))

    async def _stop_tasks(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
