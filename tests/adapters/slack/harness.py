"""A running bot with the real Slack adapter in HTTP mode, against the fake Slack."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from adapters.runner import bind_leads_channel
from adapters.slack.adapter import SlackAdapter
from adapters.slack.settings import SlackSettings
from bot.app import SupportApp
from bot.config import load_section, load_settings
from bot.events import Platform
from bot.store.db import Database
from tests.conftest import FAKE_KEY
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_interactive import form_headers, json_headers
from tests.fakes.slack_payloads import app_mention, event_envelope
from tests.settle import wait_settled

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5-test"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slack"


def load_fixture(name: str) -> dict[str, Any]:
    """A recorded Slack payload from tests/fixtures/slack, fresh for each call."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class SlackStack:
    """The app, its Slack adapter and the URL Slack would post to."""

    app: SupportApp
    adapter: SlackAdapter
    url: str
    http: httpx.AsyncClient

    async def post_json(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        """POST an Events API body signed like Slack signs it."""
        raw = json.dumps(body)
        return await self.http.post(
            self.url, content=raw, headers={**json_headers(SIGNING_SECRET, raw), **headers}
        )

    async def post_form(self, raw: str, **headers: str) -> httpx.Response:
        """POST a form body (slash command or interaction) signed like Slack."""
        return await self.http.post(
            self.url, content=raw, headers={**form_headers(SIGNING_SECRET, raw), **headers}
        )

    async def settle(self, event_id: str) -> str | None:
        """Wait until the core finished (or failed) an event."""
        return await wait_settled(self.app, "slack", event_id, within=30)


@asynccontextmanager
async def slack_stack(
    db: Database,
    fake_slack: FakeSlack,
    fake_deepseek: FakeDeepSeek | None,
    *,
    start: bool = True,
    **overrides: Any,
) -> AsyncIterator[SlackStack]:
    """Start the app and the adapter's HTTP endpoint on a free port.

    With `start=False` the adapter's `web_app()` is served as it is, without
    `start_http` (so without authorizing first).
    """
    values: dict[str, Any] = {
        "database_url": db.url,
        "slack_bot_token": fake_slack.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake_slack.base_url,
        "slack_leads_channel": "C_LEADS",
        "lead_user_ids": ["U_LEAD"],
        "inbox_retry_base_seconds": 0.05,
        "slack_messages_per_second": 50.0,
        # Answers are posted whole unless a test is about streaming them.
        "stream_answers": False,
    }
    if fake_deepseek is not None:
        values.update(deepseek_api_key=FAKE_KEY, deepseek_base_url=fake_deepseek.base_url)
    values.update(overrides)
    settings = load_settings(**values)
    app = SupportApp(settings, database=Database(db.url))
    adapter = SlackAdapter.from_settings(
        load_section(SlackSettings, **values),
        leads=settings.leads,
        intake=app.intake,
        playbooks=settings.playbooks,
    )
    app.attach(Platform.SLACK, adapter.outlet)
    await app.start()
    runner: web.AppRunner | None = None
    try:
        if start:
            port = await adapter.start_http("127.0.0.1", 0)
            # As the runner does once the adapter knows its team: the bare leads channel
            # (SLACK_LEADS_CHANNEL) lives in the bot token's workspace.
            assert adapter.team_id is not None
            team = adapter.team_id
            bind_leads_channel(app, Platform.SLACK, lambda _channel: team)  # as `run` does
        else:
            runner = web.AppRunner(adapter.web_app())
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            port = runner.addresses[0][1]
        async with httpx.AsyncClient(timeout=30) as http:
            yield SlackStack(app, adapter, f"http://127.0.0.1:{port}/slack/events", http)
    finally:
        if runner is not None:
            await runner.cleanup()
        await adapter.stop()
        await app.stop()
        await adapter.close()


def mention_envelope(
    text: str,
    *,
    ts: str = "1700001000.000100",
    event_id: str = "Ev0001",
    thread_ts: str | None = None,
    user: str = "U_ALICE",
) -> dict[str, Any]:
    """An app_mention delivered over the Events API."""
    return event_envelope(
        app_mention(f"<@U_BOT> {text}", ts=ts, thread_ts=thread_ts, user=user),
        event_id=event_id,
        event_time=int(time.time()),
    )
