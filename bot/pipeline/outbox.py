"""Replies the bot owes, written down before they are sent.

Every reply gets a key derived from what caused it (`ticket:7:card`,
`msg:slack:1712.0001:answer`). Enqueueing an existing key is a no-op, so when an
event is processed again after a crash, nothing is posted twice. Delivery goes
through the `Outlet` each adapter registers for its platform. A failed send stores
the error's class and a scrubbed message, with the reply's own text cut out of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import DeliveryFailed
from bot.events import CardRef, Platform, Reply, UpdateCard, dump
from bot.pipeline.inbox import describe_error
from bot.pipeline.ports import Outlet
from bot.store.models import OutboxItem, utcnow

__all__ = ["Outbox"]

log = logging.getLogger(__name__)
_REPLY = TypeAdapter(Reply)
T = TypeVar("T")


class Outbox:
    """The `outbox` table plus the outlets that empty it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        send_lease_seconds: float = 20.0,
        scrub: Callable[[str], str] = str,
    ) -> None:
        self._sessions = sessions
        self._scrub = scrub
        self._send_lease = timedelta(seconds=send_lease_seconds)
        self._outlets: dict[Platform, Outlet] = {}

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
        """Write `reply` under `key` in the caller's transaction; False if the key exists."""
        if await session.scalar(select(OutboxItem.id).where(OutboxItem.key == key)) is not None:
            return False
        reply = reply.model_copy(update={"key": key})
        place = reply.ref.place if isinstance(reply, UpdateCard) else reply.place
        row = OutboxItem(
            key=key,
            platform=place.platform.value,
            ticket_id=ticket_id,
            kind=reply.kind,
            payload=dump(reply),
            is_card=is_card,
        )
        try:
            # Another worker may write the same key (a shared notice) at the same moment.
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:
            return False
        return True

    async def has(self, key: str) -> bool:
        """True when a reply under `key` was already written (sent or not)."""
        async with self._sessions() as session:
            return (
                await session.scalar(select(OutboxItem.id).where(OutboxItem.key == key)) is not None
            )

    async def card_refs(self, ticket_id: int) -> list[CardRef]:
        """Every card posted for a ticket (its thread card, the leads' card)."""
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(OutboxItem)
                    .where(
                        OutboxItem.ticket_id == ticket_id,
                        OutboxItem.is_card.is_(True),
                        OutboxItem.status == "sent",
                    )
                    .order_by(OutboxItem.id)
                )
            ).all()
        refs = []
        for row in rows:
            reply = _REPLY.validate_python(row.payload)
            if reply.kind in ("post_reply", "notify") and row.sent_message_id:
                refs.append(CardRef(place=reply.place, message_id=row.sent_message_id))
        return refs

    async def flush(self, keys: list[str]) -> None:
        """Send the still-unsent replies among `keys`, in the order they were written.

        Raises:
            DeliveryFailed: an outlet failed; the rest stay pending for the retry.
        """
        if not keys:
            return
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(OutboxItem)
                    .where(OutboxItem.key.in_(keys), OutboxItem.status != "sent")
                    .order_by(OutboxItem.id)
                )
            ).all()
        busy = []
        for row in rows:
            if await _to_the_end(self._claim(row.id), undo=self._unclaim(row.id)):
                await self._send(row)
            else:
                busy.append(row.key)
        if busy:
            # Another worker holds them, or held them and died: retry the event later
            # rather than call it done while its replies may never go out.
            raise DeliveryFailed(f"being sent elsewhere: {', '.join(busy[:3])}")

    def _unclaim(self, row_id: int) -> Callable[[bool], Awaitable[None]]:
        async def undo(claimed: bool) -> None:
            if claimed:
                await self._release(row_id)

        return undo

    async def _release(self, row_id: int) -> None:
        """Give a claimed reply back (a shutdown), so the next worker sends it at once."""
        async with self._sessions.begin() as session:
            item = await session.get_one(OutboxItem, row_id)
            if item.status == "sending":
                item.status, item.lease_until = "pending", None

    async def _claim(self, row_id: int) -> bool:
        """Take a reply for sending; False when another worker is sending (or sent) it."""
        now = utcnow()
        async with self._sessions.begin() as session:
            taken = await session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.id == row_id,
                    or_(
                        OutboxItem.status == "pending",
                        and_(OutboxItem.status == "sending", OutboxItem.lease_until < now),
                    ),
                )
                .values(status="sending", lease_until=now + self._send_lease)
            )
        return bool(taken.rowcount)  # type: ignore[attr-defined]

    async def _send(self, row: OutboxItem) -> None:
        reply = _REPLY.validate_python(row.payload)
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
            error = describe_error(exc, self._scrub, hide=_texts_of(reply))
            async with self._sessions.begin() as session:
                item = await session.get_one(OutboxItem, row.id)
                item.status, item.lease_until = "pending", None
                item.attempts += 1
                item.last_error = error
            log.warning("reply.failed key=%s error=%s", row.key, type(exc).__name__)
            raise DeliveryFailed(f"{row.key}: {error[:300]}") from exc
        await _to_the_end(self._mark_sent(row.id, message_id))
        log.info("reply.sent key=%s kind=%s", row.key, row.kind)

    async def _mark_sent(self, row_id: int, message_id: str | None) -> None:
        async with self._sessions.begin() as session:
            item = await session.get_one(OutboxItem, row_id)
            item.status, item.sent_at, item.sent_message_id = "sent", utcnow(), message_id
            item.lease_until = None
            item.attempts += 1


def _texts_of(reply: Reply) -> list[str]:
    """What a reply says, whole and line by line: never kept in an error message."""
    texts = [getattr(reply, "text", None) or ""]
    card = getattr(reply, "card", None)
    if card is not None:
        texts.append(card.summary)
    for section in getattr(reply, "sections", ()):
        texts += [section.title, *section.lines]
    return [part for text in texts for part in (text, *text.splitlines()) if part.strip()]


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
