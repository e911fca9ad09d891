"""Waiting, in tests, for an event to be handled: poll its inbox row until it settles."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.app import SupportApp
from bot.store.models import InboxItem


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
    """Wait until the event is done or failed; its status then (None: never arrived)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    status = await inbox_status(app, platform, event_id)
    while status not in ("done", "failed") and loop.time() < deadline:
        await asyncio.sleep(0.05)
        status = await inbox_status(app, platform, event_id)
    return status
