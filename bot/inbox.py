"""Durable, de-duplicated intake of events, and the worker pool that drains it.

An adapter calls `Inbox.accept(event)` before it acknowledges the platform: the row
is committed first, so an event the platform was told we have is never lost. A
second delivery of the same (platform, event_id) is dropped by the unique key.
Workers claim rows with a lease; a crashed worker's rows are taken again when the
lease runs out, a cancelled worker hands its rows back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import TypeAdapter
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.events import Event, dump
from bot.logs import bind_log_context, reset_log_context
from bot.metrics import Metrics
from bot.store.models import InboxItem, utcnow

__all__ = ["ClaimedEvent", "Inbox", "InboxWorker"]

log = logging.getLogger(__name__)
_EVENT = TypeAdapter(Event)


@dataclass(frozen=True)
class ClaimedEvent:
    """An inbox row a worker holds the lease on."""

    row_id: int
    event: Event
    attempts: int


class Inbox:
    """The `inbox` table as a queue."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        lease_seconds: float = 120.0,
        max_attempts: int = 5,
        retry_base_seconds: float = 2.0,
        clock: Callable[[], datetime] = utcnow,
        metrics: Metrics | None = None,
    ) -> None:
        self._sessions = sessions
        self.metrics = metrics
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self._clock = clock
        self.arrived = asyncio.Event()
        """Set when a new row is accepted, so an idle worker wakes at once."""

    async def accept(self, event: Event) -> bool:
        """Commit `event`; False when this (platform, event_id) was seen before."""
        row = InboxItem(
            platform=event.place.platform.value,
            event_id=event.event_id,
            kind=event.kind,
            payload=dump(event),
            received_at=self._clock(),
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            log.info("inbox.duplicate platform=%s event_id=%s", row.platform, row.event_id)
            if self.metrics:
                self.metrics.events_deduplicated.labels(row.platform).inc()
            return False
        if self.metrics:
            self.metrics.events_received.labels(row.platform, row.kind).inc()
        self.arrived.set()
        log.info(
            "inbox.accepted platform=%s event_id=%s kind=%s", row.platform, row.event_id, row.kind
        )
        return True

    def _claimable(self, now: datetime):
        due = or_(InboxItem.next_attempt_at.is_(None), InboxItem.next_attempt_at <= now)
        return or_(
            and_(InboxItem.status == "pending", due),
            and_(InboxItem.status == "processing", InboxItem.lease_until < now),
        )

    async def claim(self, limit: int) -> list[ClaimedEvent]:
        """Take up to `limit` due rows, oldest first, under a lease.

        On PostgreSQL, `FOR UPDATE SKIP LOCKED` keeps instances off each other's rows;
        everywhere, the conditional UPDATE is a compare-and-set, so a row that another
        worker took in between is simply skipped.
        """
        now = self._clock()
        claimed: list[ClaimedEvent] = []
        async with self._sessions.begin() as session:
            rows = (
                await session.scalars(
                    select(InboxItem)
                    .where(self._claimable(now))
                    .order_by(InboxItem.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                taken = await session.execute(
                    update(InboxItem)
                    .where(InboxItem.id == row.id, self._claimable(now))
                    .values(
                        status="processing",
                        lease_until=now + self.lease,
                        attempts=InboxItem.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(self._decode(row))
        return claimed

    def _decode(self, row: InboxItem) -> ClaimedEvent:
        return ClaimedEvent(
            row_id=row.id, event=_EVENT.validate_python(row.payload), attempts=row.attempts + 1
        )

    async def renew(self, row_ids: list[int]) -> None:
        """Extend the lease of rows still being worked on."""
        if not row_ids:
            return
        async with self._sessions.begin() as session:
            await session.execute(
                update(InboxItem)
                .where(InboxItem.id.in_(row_ids), InboxItem.status == "processing")
                .values(lease_until=self._clock() + self.lease)
            )

    async def complete(self, row_id: int) -> None:
        """Mark a row done."""
        await self._set(row_id, status="done", done_at=self._clock(), lease_until=None)

    async def fail(self, row_id: int, attempts: int, error: str) -> str:
        """Record a failed attempt: retry later with backoff, or give up. Returns the status."""
        if attempts >= self.max_attempts:
            await self._set(
                row_id,
                status="failed",
                last_error=error[:4000],
                lease_until=None,
                done_at=self._clock(),
            )
            log.error("inbox.failed row=%s attempts=%s error=%s", row_id, attempts, error[:200])
            return "failed"
        delay = self.retry_base_seconds * 2 ** (attempts - 1) * random.uniform(0.8, 1.2)
        await self._set(
            row_id,
            status="pending",
            last_error=error[:4000],
            lease_until=None,
            next_attempt_at=self._clock() + timedelta(seconds=delay),
        )
        log.warning(
            "inbox.retry row=%s attempt=%s in=%.1fs error=%s", row_id, attempts, delay, error[:200]
        )
        return "pending"

    async def release(self, row_id: int) -> None:
        """Hand a row back untouched (the worker is shutting down), not counting the attempt."""
        await self._set(row_id, status="pending", lease_until=None, attempts=InboxItem.attempts - 1)

    async def _set(self, row_id: int, **values: object) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(InboxItem).where(InboxItem.id == row_id).values(**values))

    async def status_of(self, platform: str, event_id: str) -> str | None:
        """The row's status, or None if the event was never accepted."""
        async with self._sessions() as session:
            return await session.scalar(
                select(InboxItem.status).where(
                    InboxItem.platform == platform, InboxItem.event_id == event_id
                )
            )

    async def wait_settled(self, platform: str, event_id: str, within: float = 300.0) -> str | None:
        """Wait until the event is done or failed; None if it never arrived in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        status = await self.status_of(platform, event_id)
        while status not in ("done", "failed") and loop.time() < deadline:
            await asyncio.sleep(0.05)
            status = await self.status_of(platform, event_id)
        return status


Handler = Callable[[Event], Awaitable[None]]


class InboxWorker:
    """Drains the inbox with at most `concurrency` events in flight.

    Every row this worker has claimed and not yet finished is in `_held`; on shutdown
    those rows are handed back at once (a crash leaves them to the lease instead).
    """

    def __init__(
        self, inbox: Inbox, handler: Handler, *, concurrency: int = 16, poll_seconds: float = 0.5
    ) -> None:
        self._inbox = inbox
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
            await self._inbox.fail(item.row_id, item.attempts, f"{type(exc).__name__}: {exc}")
            self._held.discard(item.row_id)
        else:
            await self._inbox.complete(item.row_id)
            self._held.discard(item.row_id)
        finally:
            if metrics:
                metrics.processing_seconds.labels(item.event.kind).observe(
                    time.monotonic() - started
                )
            reset_log_context(token)
            self._inbox.arrived.set()  # a slot is free: look for more work

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
