"""Waiting, in tests, for an event to be handled: poll its inbox row until it settles,
then the outbox until the relay has tried every reply it wrote."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, or_, select

from bot.app import SupportApp
from bot.store.models import InboxItem, OutboxItem


async def inbox_status(app: SupportApp, platform: str, event_id: str) -> str | None:
    """The event's inbox status, or None if it was never accepted."""
    async with app.database.sessions() as session:
        return await session.scalar(
            select(InboxItem.status).where(
                InboxItem.platform == platform, InboxItem.event_id == event_id
            )
        )


async def wait_settled(
    app: SupportApp, platform: str, event_id: str, within: float = 30.0
) -> str | None:
    """Wait until the event is done or failed and every reply in the outbox has had
    its first try; the event's status then (None: never arrived)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    status = await inbox_status(app, platform, event_id)
    while status not in ("done", "failed") and loop.time() < deadline:
        await asyncio.sleep(0.05)
        status = await inbox_status(app, platform, event_id)
    await wait_delivered(app, within=max(0.0, deadline - loop.time()), retries=False)
    return status


async def unsent(app: SupportApp, *, retries: bool = True) -> int:
    """Replies the relay still owes: never tried, being sent, or (with `retries`)
    waiting to be tried again."""
    waiting = OutboxItem.status == "sending"
    if retries:
        waiting = or_(waiting, OutboxItem.status == "pending")
    else:
        waiting = or_(waiting, (OutboxItem.status == "pending") & (OutboxItem.attempts == 0))
    async with app.database.sessions() as session:
        return int(await session.scalar(select(func.count()).where(waiting)) or 0)


async def wait_delivered(app: SupportApp, within: float = 30.0, *, retries: bool = True) -> int:
    """Wait until the relay has sent (or given up on) every reply; how many are left."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    left = await unsent(app, retries=retries)
    while left and loop.time() < deadline:
        await asyncio.sleep(0.05)
        left = await unsent(app, retries=retries)
    return left
