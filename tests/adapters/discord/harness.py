"""A running bot with the real Discord adapter (discord.py) against the fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.settings import DiscordSettings
from adapters.runner import bind_leads_channel
from bot.app import SupportApp
from bot.config import load_section, load_settings
from bot.events import Platform
from bot.pipeline.ports import Drafts
from bot.store.db import Database
from tests.conftest import FAKE_KEY
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.discord import FakeDiscord, point_discord_py_at
from tests.settle import wait_settled

BOT = 1001
GUILD = 2000
CHANNEL = 300
LEADS = 301
LEAD_ROLE = 400
ALICE = 5001
LEE = 5002


@dataclass
class DiscordStack:
    """The app and its Discord adapter, connected to the fake."""

    app: SupportApp
    adapter: DiscordAdapter
    fake: FakeDiscord

    async def settle(self, event_id: str) -> str | None:
        """Wait until the core finished (or failed) an event."""
        return await wait_settled(self.app, "discord", event_id, within=30)

    async def settle_interaction(self, interaction_id: int) -> str | None:
        """Wait for an interaction's event."""
        return await self.settle(f"interaction:{interaction_id}")


def values_for(
    db: Database, fake: FakeDiscord, fake_deepseek: FakeDeepSeek | None, **overrides: Any
) -> dict[str, Any]:
    """Setting values (by short name) pointing every client at the fakes."""
    values: dict[str, Any] = {
        "database_url": db.url,
        "discord_bot_token": fake.token,
        "discord_api_url": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
        "discord_leads_channel": str(LEADS),
        "lead_role_ids": [str(LEAD_ROLE)],
        "inbox_retry_base_seconds": 0.05,
        # Answers are posted whole unless a test is about streaming them.
        "stream_answers": False,
    }
    if fake_deepseek is not None:
        values.update(deepseek_api_key=FAKE_KEY, deepseek_base_url=fake_deepseek.base_url)
    values.update(overrides)
    return values


@asynccontextmanager
async def discord_stack(
    db: Database,
    fake: FakeDiscord,
    fake_deepseek: FakeDeepSeek | None,
    *,
    drafts: Drafts | None = None,
    **overrides: Any,
) -> AsyncIterator[DiscordStack]:
    """Start the app and a connected, ready Discord adapter (with `drafts` for the
    "Save as answer" form, as the runner passes the app's)."""
    values = values_for(db, fake, fake_deepseek, **overrides)
    settings = load_settings(**values)
    with point_discord_py_at(fake):
        app = SupportApp(settings, database=Database(db.url))
        adapter = DiscordAdapter.from_settings(
            load_section(DiscordSettings, **values),
            leads=settings.leads,
            intake=app.intake,
            guild_ready_timeout=0.1,
            drafts=drafts,
        )
        app.attach(Platform.DISCORD, adapter.outlet)
        await app.start()
        try:
            await adapter.start(ready_within=15)
            bind_leads_channel(app, Platform.DISCORD, adapter.workspace_of_channel)
            yield DiscordStack(app, adapter, fake)
        finally:
            await adapter.stop()
            await app.stop()
