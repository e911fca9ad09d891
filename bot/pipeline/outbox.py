"""Replies the bot owes, written down before they are sent.

Every reply gets a key derived from what caused it (`ticket:7:card`,
`msg:slack:1712.0001:answer`). Enqueueing an existing key is a no-op, so when an
event is processed again after a crash, nothing is posted twice. Producers only add
rows, inside their own transaction; the relay (`bot.pipeline.relay`) delivers every
unsent row through the `Outlet` each adapter registers for its platform, whatever
became of the work that wrote it. A failed send is tried again with backoff, and after
`max_attempts` marked failed; it stores the error's class and a scrubbed message,
with the reply's own text cut out of it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, event, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import DeliveryFailed
from bot.events import Platform, Reply, UpdateCard, dump, load_reply
from bot.ops.metrics import Metrics
from bot.pipeline.errors import describe_error, reply_texts
from bot.pipeline.ports import Outlet
from bot.store.db import Prepared, durable
from bot.store.group_commit import GroupCommit
from bot.store.models import OutboxItem, utcnow

__all__ = ["Outbox"]

log = logging.getLogger(__name__)
_ADD = Prepared(  # every reply; `Prepared` says why it is built once
    lambda upsert: (
        upsert(OutboxItem.__table__)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxItem.__table__.c.id)
    )
)
T = TypeVar("T")


class Outbox:
    """The `outbox` table plus the outlets that empty it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        send_lease_seconds: float = 20.0,
        max_attempts: int = 8,
        retry_base_seconds: float = 2.0,
        scrub: Callable[[str], str] = str,
        metrics: Metrics | None = None,
    ) -> None:
        self._sessions = sessions
        self._scrub = scrub
        self._metrics = metrics
        self.send_lease = timedelta(seconds=send_lease_seconds)
        self._max_attempts = max_attempts
        self._retry_base = retry_base_seconds
        self._outlets: dict[Platform, Outlet] = {}
        self.added = asyncio.Event()
        """Set when a transaction that added a reply commits: the relay wakes at once."""
        self._on_commit = self._committed
        # Replies sent while one batch is being marked are marked together.
        self._sent: GroupCommit[dict[str, Any], None] = GroupCommit(self._write_sent)

    def _committed(self, _session: object) -> None:
        self.added.set()

    def attach(self, platform: Platform, outlet: Outlet) -> None:
        """Register the adapter that delivers replies for `platform`."""
        self._outlets[platform] = outlet

    async def add(
        self,
        session: AsyncSession,
        key: str,
        reply: Reply,
        *,
        ticket_id: int | None = None,
        is_card: bool = False,
    ) -> bool:
        """Write `reply` under `key` in the caller's transaction; False if the key exists.

        One `INSERT ... ON CONFLICT (key) DO NOTHING`: another worker writing the same
        key (a shared notice) at the same moment loses quietly, without a savepoint.
        """
        reply = reply.model_copy(update={"key": key})
        place = reply.ref.place if isinstance(reply, UpdateCard) else reply.place
        added = await session.scalar(
            _ADD.on(session),
            {
                "key": key,
                "platform": place.platform.value,
                "ticket_id": ticket_id,
                "kind": reply.kind,
                "payload": dump(reply),
                "is_card": is_card,
                "status": "pending",
                "attempts": 0,
                "created_at": utcnow(),
            },
        )
        if added is None:
            return False
        sync = session.sync_session
        if not event.contains(sync, "after_commit", self._on_commit):
            event.listen(sync, "after_commit", self._on_commit, once=True)
        return True

    async def has(self, key: str) -> bool:
        """True when a reply under `key` was already written (sent or not)."""
        async with self._sessions() as session:
            return (
                await session.scalar(select(OutboxItem.id).where(OutboxItem.key == key)) is not None
            )

    async def due(self, limit: int) -> list[OutboxItem]:
        """Unsent replies whose time has come, oldest first: pending ones (past their
        retry time) and ones whose sender's lease ran out (it crashed)."""
        now = utcnow()
        async with self._sessions() as session:
            rows = await session.scalars(
                select(OutboxItem)
                .where(
                    or_(
                        and_(
                            OutboxItem.status == "pending",
                            or_(
                                OutboxItem.next_attempt_at.is_(None),
                                OutboxItem.next_attempt_at <= now,
                            ),
                        ),
                        and_(OutboxItem.status == "sending", OutboxItem.lease_until < now),
                    )
                )
                .order_by(OutboxItem.id)
                .limit(limit)
            )
            return list(rows.all())

    async def claim(self, row_ids: list[int]) -> set[int]:
        """Take replies for sending, in one statement; the ids taken (another relay may
        be sending, or have sent, the rest)."""
        if not row_ids:
            return set()
        return await _to_the_end(self._claim(row_ids), undo=self._unclaim)

    async def renew(self, row_ids: list[int]) -> None:
        """Extend the lease of replies this relay holds and has not sent yet."""
        if not row_ids:
            return
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(row_ids), OutboxItem.status == "sending")
                .values(lease_until=utcnow() + self.send_lease)
            )

    async def release(self, row_id: int) -> None:
        """Give a claimed reply back (a shutdown), so the next relay sends it at once."""
        await self._release(row_id)

    async def send(self, row: OutboxItem) -> bool:
        """Deliver a claimed reply; True when it was sent. A failure is stored: the reply
        is tried again after a backoff, or, past `max_attempts`, marked failed."""
        reply = load_reply(row.payload)
        outlet = self._outlets.get(Platform(row.platform))
        try:
            if outlet is None:
                raise DeliveryFailed(f"no adapter is running for {row.platform}")
            message_id = await outlet.deliver(reply)
        except asyncio.CancelledError:
            # Shutting down mid-send: free the reply now, not after the lease (it may
            # arrive twice if the platform already had it; the reply key lets it dedupe).
            await self._release(row.id)
            raise
        except Exception as exc:
            await _to_the_end(
                self._failed(row, describe_error(exc, self._scrub, hide=reply_texts(reply)))
            )
            return False
        await _to_the_end(self._mark_sent(row.id, message_id))
        # A seen sign (👀 on, 👀 off) is not news to an operator: DEBUG.
        level = logging.DEBUG if row.kind == "seen" else logging.INFO
        log.log(level, "reply.sent key=%s kind=%s", row.key, row.kind)
        return True

    async def _failed(self, row: OutboxItem, error: str) -> None:
        async with self._sessions.begin() as session:
            item = await session.get_one(OutboxItem, row.id)
            item.attempts += 1
            item.last_error, item.lease_until = error, None
            if item.attempts >= self._max_attempts:
                item.status, item.next_attempt_at = "failed", None
            else:
                delay = self._retry_base * 2 ** (item.attempts - 1) * random.uniform(0.8, 1.2)
                item.status = "pending"
                item.next_attempt_at = utcnow() + timedelta(seconds=min(delay, 900.0))
            attempts, status = item.attempts, item.status
        if status == "failed":
            log.error("reply.failed key=%s attempts=%s error=%s", row.key, attempts, error[:200])
            if self._metrics is not None:
                self._metrics.replies_failed.labels(row.platform).inc()
        else:
            log.warning("reply.retry key=%s attempt=%s error=%s", row.key, attempts, error[:200])

    async def _unclaim(self, claimed: set[int]) -> None:
        for row_id in sorted(claimed):
            await self._release(row_id)

    async def _release(self, row_id: int) -> None:
        """Give a claimed reply back (a shutdown), so the next worker sends it at once."""
        async with self._sessions.begin() as session:
            item = await session.get_one(OutboxItem, row_id)
            if item.status == "sending":
                item.status, item.lease_until = "pending", None

    async def _claim(self, row_ids: list[int]) -> set[int]:
        now = utcnow()
        table = OutboxItem.__table__
        async with self._sessions.begin() as session:
            taken = await session.execute(
                update(table)
                .where(
                    table.c.id.in_(row_ids),
                    or_(
                        table.c.status == "pending",
                        and_(table.c.status == "sending", table.c.lease_until < now),
                    ),
                )
                .values(status="sending", lease_until=now + self.send_lease)
                .returning(table.c.id)
            )
            return set(taken.scalars())

    async def _mark_sent(self, row_id: int, message_id: str | None) -> None:
        await self._sent.submit({"row_id": row_id, "message_id": message_id})

    async def _write_sent(self, sent: list[dict[str, Any]]) -> list[None]:
        """Mark replies sent (each with its platform message id), in one transaction,
        on disk when it returns: what the platform shows is never sent again, even
        after a power cut (`durable`)."""
        table = OutboxItem.__table__
        async with durable(self._sessions) as session:
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values(
                    status="sent",
                    sent_at=utcnow(),
                    sent_message_id=bindparam("message_id"),
                    lease_until=None,
                    attempts=table.c.attempts + 1,
                ),
                sent,
            )
        return [None] * len(sent)


async def _to_the_end(
    step: Coroutine[Any, Any, T], undo: Callable[[T], Awaitable[None]] | None = None
) -> T:
    """Run a database step to completion even if we are cancelled meanwhile.

    A shutdown must not leave a reply half-claimed or sent-but-unrecorded; on cancel
    the step still finishes, `undo` (if any) gets its result, then the cancel goes on.
    """
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        result = await task
        if undo is not None:
            await undo(result)
        raise
