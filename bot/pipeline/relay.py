"""The outbox relay: delivers every unsent reply, one lane per channel.

Producers (the handlers, the periodic jobs) only add rows to the outbox inside their
own transaction; when one commits, the relay wakes. It reads the due rows oldest
first, claims them under a lease, and hands each to its thread's lane: a lane sends in
order, one at a time, so a channel's pacing (Slack's one message a second) waits in
the lanes and never in a worker, while other channels go on. A lane holds only a few
replies ahead; the rest wait in the table, unclaimed, for another instance or the
next round. Leases of held rows are renewed; a crashed relay's rows come back due
when its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from bot.pipeline.outbox import Outbox
from bot.store.models import OutboxItem

__all__ = ["OutboxRelay", "lane_of"]

log = logging.getLogger(__name__)


def lane_of(row: OutboxItem) -> str:
    """The thread (or channel, for a top-level reply) a reply goes to: its lane, in
    which order is kept. A channel's posting budget is the outlet's to keep (Slack's
    per-channel token bucket, discord.py's per-route limits), so the threads of one
    busy channel, 200 new tickets in a row, each have a lane and none waits behind
    another's send. Read from the stored payload as it is (every round reads up to a
    batch of rows)."""
    payload = row.payload
    place = payload["ref"]["place"] if payload.get("kind") == "update_card" else payload["place"]
    thread = place.get("thread_id") or ""
    return f"{row.platform}:{place['workspace_id']}:{place['channel_id']}:{thread}"


class OutboxRelay:
    """Delivers the outbox's due rows, a lane per channel."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        poll_seconds: float = 1.0,
        ahead: int = 4,
        batch: int = 500,
        before_round: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`before_round`: awaited before each round of claims (the app passes the
        inbox's `quiet`, so a burst's acks go out before its replies)."""
        self._outbox = outbox
        self._before_round = before_round
        self._poll = poll_seconds
        self._ahead = ahead
        self._batch = batch
        self._lanes: dict[str, deque[OutboxItem]] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}
        self._held: set[int] = set()
        self._more = asyncio.Event()
        self._renewed_at = time.monotonic()

    @property
    def idle(self) -> bool:
        """True when this relay holds nothing to send."""
        return not self._held

    async def run(self) -> None:
        """Deliver until cancelled; a failing database is logged and retried."""
        try:
            while True:
                try:
                    if self._before_round is not None:
                        await self._before_round()
                    await self._fill()
                    await self._renew()
                except Exception as exc:  # the database is down: try again next round
                    log.warning("relay.round_failed error=%s", type(exc).__name__)
                await self._wait()
        finally:
            await self._stop_lanes()

    async def shutdown(self, task: asyncio.Task[None], *, grace_seconds: float) -> None:
        """Stop `task` (this relay's `run`): first let it send what is due, for up to
        `grace_seconds` (the replies of the events that just finished), then cancel;
        what it still holds goes back to the outbox for the next relay."""
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline and not task.done():
            try:
                if self.idle and not await self._outbox.due(1):
                    break
            except Exception:  # the database is gone: nothing more can be sent
                break
            await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _wait(self) -> None:
        added, more = self._outbox.added, self._more
        waits = [asyncio.ensure_future(added.wait()), asyncio.ensure_future(more.wait())]
        try:
            await asyncio.wait(waits, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        added.clear()
        more.clear()

    async def _fill(self) -> None:
        """Claim due rows into their lanes, up to `ahead` a lane, in one statement."""
        wanted: list[tuple[str, OutboxItem]] = []
        room: dict[str, int] = {}
        for row in await self._outbox.due(self._batch):
            if row.id in self._held:
                continue
            lane = lane_of(row)
            left = room.setdefault(lane, self._ahead - len(self._lanes.get(lane, ())))
            if left <= 0:
                continue  # it waits in the table; the lane asks for more when it drains
            room[lane] = left - 1
            wanted.append((lane, row))
        taken = await self._outbox.claim([row.id for _, row in wanted])
        for lane, row in wanted:
            if row.id not in taken:
                continue  # another relay has it
            self._held.add(row.id)
            self._lanes.setdefault(lane, deque()).append(row)
            if lane not in self._senders or self._senders[lane].done():
                self._senders[lane] = asyncio.create_task(self._drain(lane), name=f"lane {lane}")

    async def _drain(self, lane: str) -> None:
        queued = self._lanes[lane]
        while queued:
            row = queued[0]
            try:
                await self._outbox.send(row)
            except Exception as exc:  # recording the outcome failed: the lease brings it back
                log.warning("relay.send_failed key=%s error=%s", row.key, type(exc).__name__)
            queued.popleft()
            self._held.discard(row.id)
            if len(queued) < self._ahead:
                self._more.set()  # rows of this channel may be waiting in the table

    async def _renew(self) -> None:
        if time.monotonic() - self._renewed_at < self._outbox.send_lease.total_seconds() / 3:
            return
        self._renewed_at = time.monotonic()
        await self._outbox.renew(sorted(self._held))

    async def _stop_lanes(self) -> None:
        """Cancel the lanes and hand back what they hold, for the next relay to send."""
        senders = list(self._senders.values())
        for sender in senders:
            sender.cancel()
        for sender in senders:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
        for row_id in sorted(self._held):
            with contextlib.suppress(Exception):
                await self._outbox.release(row_id)
        self._held.clear()
        self._lanes.clear()
        self._senders.clear()
