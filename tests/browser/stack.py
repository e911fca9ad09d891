"""A running dashboard on a seeded database: tickets in two Slack workspaces, opened
through the real pipeline (offline rules, so each goes to a person), and a lead whose
login link opens only the first workspace.

Used by the browser tests and by the dashboard's HTTP tests (tests/bot/dashboard/).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import httpx
from aiohttp import web

from bot.app import SupportApp
from bot.config import load_settings
from bot.config.sections import DASHBOARD_PATH
from bot.dashboard.app import dashboard_site, start_site
from bot.events import Actor, MessagePosted, Place, Platform
from bot.store.db import Database
from bot.store.logins import LoginLinks
from tests.bot.harness import RecordingOutlet
from tests.settle import wait_settled

LEAD = "U_LEAD"
ONE, TWO = "T_ONE", "T_TWO"
"""The lead's workspace, and another company's."""

SEED = (
    (ONE, "I was charged twice for my March invoice, please refund one"),
    (ONE, "The export button crashes with an error every time"),
    (ONE, "Please add a dark mode to the mobile app"),
    (TWO, "Our zebra account is locked after the password reset"),
)
"""(workspace, first message) of each ticket, opened in this order."""

_ts = count(1)


@dataclass
class Dashboard:
    """The app, what its Slack outlet was asked to send, and where the dashboard is."""

    app: SupportApp
    outlet: RecordingOutlet
    base: str
    """`http://127.0.0.1:PORT`: the dashboard is at `{base}/dashboard/`."""
    tickets: dict[str, int] = field(default_factory=dict)
    """Ticket number by the first words of its first message (`"I was charged"`)."""

    @property
    def url(self) -> str:
        """The dashboard's own URL (no trailing slash)."""
        return f"{self.base}{DASHBOARD_PATH}"

    def ticket(self, words: str) -> int:
        """The number of the seeded ticket whose first message starts with `words`."""
        return next(id_ for text, id_ in self.tickets.items() if text.startswith(words))

    async def login_link(
        self, user_id: str = LEAD, workspaces: tuple[str, ...] = (ONE,), **extra: Any
    ) -> str:
        """A fresh one-time login URL, as `supportbot web --link` makes one."""
        links = LoginLinks(
            self.app.database.sessions, dashboard_url=self.url, ttl=timedelta(minutes=10)
        )
        return await links.issue(
            platform="slack",
            user_id=user_id,
            workspaces=workspaces,
            now=datetime.now(UTC),
            issued_by="cli:operator",
            **extra,
        )

    @asynccontextmanager
    async def signed_in(self, user_id: str = LEAD, **link: Any) -> AsyncIterator[httpx.AsyncClient]:
        """An HTTP client whose cookie jar holds a session opened by a login link."""
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            url = await self.login_link(user_id, **link)
            opened = await client.get(url, follow_redirects=True)
            assert opened.status_code == 200, opened.text
            yield client


def posted(workspace: str, text: str, *, user: str = "U_ALICE") -> MessagePosted:
    """A new question mentioning the bot in `workspace`'s help channel."""
    ts = f"1700009000.{next(_ts):06d}"
    return MessagePosted(
        event_id=f"Ev{ts}",
        message_id=ts,
        place=Place(platform=Platform.SLACK, workspace_id=workspace, channel_id="C_HELP"),
        author=Actor(platform=Platform.SLACK, user_id=user, display_name=user.lower()),
        text=text,
        mentions_bot=True,
        posted_at=datetime.now(UTC),
    )


async def seed(app: SupportApp) -> dict[str, int]:
    """Open the `SEED` tickets through the pipeline; their numbers by text."""
    from sqlalchemy import select

    from bot.store.models import Ticket

    numbers: dict[str, int] = {}
    for workspace, text in SEED:
        event = posted(workspace, text)
        assert await app.intake.submit(event)
        assert await wait_settled(app, "slack", event.event_id) == "done"
        async with app.database.sessions() as session:
            numbers[text] = await session.scalar(
                select(Ticket.id).where(Ticket.thread_id == event.message_id)
            )
    return numbers


@asynccontextmanager
async def running_dashboard(db: Database, **overrides: Any) -> AsyncIterator[Dashboard]:
    """A started app (offline, U_LEAD a lead) with the seeded tickets, its Slack replies
    recorded, and the dashboard site served on a free port."""
    values: dict[str, Any] = {
        "database_url": db.url,
        "lead_user_ids": [LEAD],
        "slack_leads_channel": f"{ONE}:C_LEADS_ONE,{TWO}:C_LEADS_TWO",
        "inbox_retry_base_seconds": 0.05,
        "stream_answers": False,
    }
    values.update(overrides)
    app = SupportApp(load_settings(**values), database=Database(db.url))
    outlet = RecordingOutlet()
    app.attach(Platform.SLACK, outlet)
    await app.start()
    runner: web.AppRunner | None = None
    try:
        tickets = await seed(app)
        site = dashboard_site(app, public_url="http://127.0.0.1")
        runner, port = await start_site(site, "127.0.0.1", 0)
        yield Dashboard(app, outlet, f"http://127.0.0.1:{port}", tickets)
    finally:
        if runner is not None:
            await runner.cleanup()
        await app.stop()
