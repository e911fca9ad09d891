"""The inbox: durable, de-duplicated events waiting to be handled.

`Inbox.accept(event)` commits the row before the adapter acknowledges the platform,
so an event the platform was told we have is never lost. A second delivery of the
same (platform, event_id) is dropped by the unique key. Workers claim rows with a
lease; a crashed worker's rows are taken again when the lease runs out.

Stored errors (`last_error`) are `bot.pipeline.errors.describe_error`'s, through the
scrubber the wiring gives (the app's redactor).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.events import Event, dump
from bot.ops.metrics import Metrics
from bot.pipeline.errors import describe_error
from bot.pipeline.seen import seen_row
from bot.pipeline.waiting import wait_set
from bot.store.db import Prepared, durable
from bot.store.group_commit import GroupCommit
from bot.store.models import InboxItem, OutboxItem, utcnow

__all__ = ["ClaimedEvent", "Inbox"]

log = logging.getLogger(__name__)
_EVENT = TypeAdapter(Event)


@dataclass(frozen=True)
class ClaimedEvent:
    """An inbox row a worker holds the lease on."""

    row_id: int
    event: Event
    attempts: int


_SEEN = "_seen"  # a row's seen sign rides along to the insert, not into the inbox

# Run for every event (`Prepared` says why they are built once). Accepts go on the
# table, not the ORM class (whose bulk path costs ~0.3 ms a row), with the rows as
# parameters (sent in batches), not a VALUES clause of N rows compiled anew each time.
_ACCEPT = Prepared(
    lambda upsert: (
        upsert(InboxItem.__table__)
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        .returning(InboxItem.__table__.c.platform, InboxItem.__table__.c.event_id)
    )
)
_SIGNS = Prepared(
    lambda upsert: upsert(OutboxItem.__table__).on_conflict_do_nothing(index_elements=["key"])
)
_COMPLETE = Prepared(
    lambda _: (
        update(InboxItem.__table__)
        .where(InboxItem.__table__.c.id == bindparam("row_id"))
        .values(status="done", done_at=bindparam("at"), lease_until=None)
    )
)


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
        scrub: Callable[[str], str] = str,
        on_seen: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._on_seen = on_seen
        """Given: a mention's 👀 is written with it (`bot.pipeline.seen`), and this is
        called once such a transaction commits (the outbox relay wakes)."""
        self.scrub = scrub
        """Applied to every stored error message (the app's redactor)."""
        self.metrics = metrics
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self._clock = clock
        self.arrived = asyncio.Event()
        """Set when a new row is accepted, so an idle worker wakes at once."""
        self._group: GroupCommit[dict[str, Any], bool] = GroupCommit(self._insert)
        self._accepting = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    async def quiet(self, most_seconds: float) -> None:
        """Wait until no accept is being written, for at most `most_seconds`.

        Workers claim after a burst's accepts rather than between them: an accept is
        what the platform waits for (Slack's 3 s), a claim is not.
        """
        if self._accepting:
            await wait_set(self._quiet, most_seconds)

    async def accept(self, event: Event) -> bool:
        """Commit `event`; False when this (platform, event_id) was seen before.

        Accepts that arrive while another is being written are committed together in
        the next transaction (group commit): a burst costs a few commits, not one each,
        and every caller still returns only once its own row is durable.
        """
        row = {
            "platform": event.place.platform.value,
            "event_id": event.event_id,
            "kind": event.kind,
            "payload": dump(event),
            "received_at": self._clock(),
        }
        if self._on_seen is not None:
            row[_SEEN] = seen_row(event, row["received_at"])
        self._accepting += 1
        self._quiet.clear()
        try:
            accepted = await self._group.submit(row)
        finally:
            self._accepting -= 1
            if not self._accepting:
                self._quiet.set()
        if not accepted:
            log.info("inbox.duplicate platform=%s event_id=%s", row["platform"], row["event_id"])
            if self.metrics:
                self.metrics.events_deduplicated.labels(row["platform"]).inc()
            return False
        if self.metrics:
            self.metrics.events_received.labels(row["platform"], row["kind"]).inc()
        self.arrived.set()
        log.debug(  # one per event, as the inbox row says; the ticket's lines follow at INFO
            "inbox.accepted platform=%s event_id=%s kind=%s",
            row["platform"],
            row["event_id"],
            row["kind"],
        )
        return True

    async def _insert(self, rows: list[dict[str, Any]]) -> list[bool]:
        """Insert `rows` in one transaction, on disk when it returns; per row, True if
        it was new."""
        async with durable(self._sessions) as session:
            signs = [row.pop(_SEEN) for row in rows if _SEEN in row]
            result = await session.execute(_ACCEPT.on(session), rows)
            added = {(platform, event_id) for platform, event_id in result}
            signs = [sign for sign in signs if sign is not None]
            if signs:  # a repeat delivery's sign is already there: its key says so
                await session.execute(_SIGNS.on(session), signs)
        if signs and self._on_seen is not None:
            self._on_seen()
        results = []
        for row in rows:  # the same event twice in one batch: the first one is new
            key = (row["platform"], row["event_id"])
            results.append(key in added)
            added.discard(key)
        return results

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
            if not rows:
                return []
            taken = await session.scalars(
                update(InboxItem)
                .where(InboxItem.id.in_([row.id for row in rows]), self._claimable(now))
                .values(
                    status="processing",
                    lease_until=now + self.lease,
                    attempts=InboxItem.attempts + 1,
                )
                .returning(InboxItem.id)
                .execution_options(synchronize_session=False)
            )
            ours = set(taken)
        return [self._decode(row) for row in rows if row.id in ours]

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

    async def complete(self, item: ClaimedEvent) -> None:
        """Mark an event done, and take its seen sign away (after every reply it wrote),
        in one transaction.

        Not group-committed: that was tried, and a worker's stop then hung in 1 of 6
        PostgreSQL runs of tests/bot/pipeline/test_worker_resilience.py (0 of 12
        without). Those tests also hung now and then without it, from a cancel lost in
        `asyncio.wait_for` (`bot.pipeline.waiting`), which may have been the cause;
        not tried again since.
        """
        now = self._clock()
        sign_off = seen_row(item.event, now, done=True) if self._on_seen is not None else None
        async with self._sessions.begin() as session:
            await session.execute(_COMPLETE.on(session), {"row_id": item.row_id, "at": now})
            if sign_off is not None:
                await session.execute(_SIGNS.on(session), [sign_off])
        if sign_off is not None and self._on_seen is not None:
            self._on_seen()

    async def fail(self, row_id: int, attempts: int, error: BaseException | str) -> str:
        """Record a failed attempt: retry later with backoff, or give up. Returns the status.

        The stored `last_error` is `describe_error(error)` with this inbox's scrubber.
        """
        text = describe_error(error, self.scrub)
        if attempts >= self.max_attempts:
            await self._set(
                row_id,
                status="failed",
                last_error=text,
                lease_until=None,
                done_at=self._clock(),
            )
            log.error("inbox.failed row=%s attempts=%s error=%s", row_id, attempts, text[:200])
            return "failed"
        delay = self.retry_base_seconds * 2 ** (attempts - 1) * random.uniform(0.8, 1.2)
        await self._set(
            row_id,
            status="pending",
            last_error=text,
            lease_until=None,
            next_attempt_at=self._clock() + timedelta(seconds=delay),
        )
        log.warning(
            "inbox.retry row=%s attempt=%s in=%.1fs error=%s", row_id, attempts, delay, text[:200]
        )
        return "pending"

    async def release(self, row_id: int) -> None:
        """Hand a row back untouched (the worker is shutting down), not counting the attempt.

        Only a row still being processed: one whose outcome was stored stays as it is.
        """
        await self._set(
            row_id,
            InboxItem.status == "processing",
            status="pending",
            lease_until=None,
            attempts=InboxItem.attempts - 1,
        )

    async def _set(self, row_id: int, *where: Any, **values: object) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(InboxItem).where(InboxItem.id == row_id, *where).values(**values)
            )
