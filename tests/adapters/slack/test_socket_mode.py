"""Socket Mode: the same events over the WebSocket, acknowledged after the inbox has them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import yaml
from sqlalchemy import select

from adapters.slack.adapter import SlackAdapter
from adapters.slack.settings import SlackSettings
from bot.app import SupportApp
from bot.config import load_section, load_settings
from bot.events import Platform
from bot.store.db import Database
from bot.store.models import InboxItem, Ticket
from tests.adapters.slack.harness import mention_envelope
from tests.bot.harness import responder
from tests.conftest import FAKE_KEY
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.slack import FakeSlack
from tests.settle import wait_settled

MANIFEST = Path(__file__).parents[3] / "slack-manifest.yml"


@asynccontextmanager
async def socket_app(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> AsyncIterator[SupportApp]:
    settings = load_settings(
        database_url=db.url, deepseek_api_key=FAKE_KEY, deepseek_base_url=fake_deepseek.base_url
    )
    slack = load_section(
        SlackSettings,
        slack_bot_token=fake_slack.bot_token,
        slack_app_token=fake_slack.app_token,
        slack_api_url=fake_slack.base_url,
        slack_messages_per_second=50.0,
    )
    app = SupportApp(settings, database=Database(db.url))
    adapter = SlackAdapter.from_settings(slack, leads=settings.leads, intake=app.intake)
    app.attach(Platform.SLACK, adapter.outlet)
    await app.start()
    await adapter.start_socket_mode()
    try:
        yield app
    finally:
        await adapter.stop()
        await app.stop()
        await adapter.close()


async def test_a_mention_over_socket_mode_is_acked_and_answered_once(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    body = mention_envelope("socket question", event_id="EvSock")
    async with socket_app(db, fake_slack, fake_deepseek) as app:
        await fake_slack.wait_socket_connected()
        first = await fake_slack.socket_send("events_api", body)
        await fake_slack.wait_ack(first)
        # Slack may deliver the same event again (e.g. after a reconnect).
        again = await fake_slack.socket_send(
            "events_api", body, retry_attempt=1, retry_reason="timeout"
        )
        await fake_slack.wait_ack(again)
        assert await wait_settled(app, "slack", "EvSock", within=30) == "done"
        await asyncio.sleep(0.3)
    async with db.sessions() as session:
        assert len((await session.scalars(select(Ticket))).all()) == 1
    # A model that answers at once is posted whole: one message with the card, no
    # streaming calls, never a second post.
    (posted,) = fake_slack.calls_to("chat.postMessage")
    assert (posted.params["channel"], posted.params["thread_ts"]) == (
        "C_HELP",
        "1700001000.000100",
    )
    assert fake_slack.calls_to("chat.startStream") == []
    assert fake_slack.calls_to("chat.update") == []


def test_the_manifest_subscribes_to_what_the_adapter_handles() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert {"app_mention", "app_home_opened", "message.channels"} <= set(
        settings["event_subscriptions"]["bot_events"]
    )
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "chat:write",
        "commands",
        "channels:history",
        "usergroups:read",
    } <= scopes
    assert manifest["features"]["slash_commands"][0]["command"] == "/support"
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


async def test_a_malformed_envelope_over_socket_mode_is_acked_and_skipped(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    good = mention_envelope("after the odd ones", event_id="EvGood")
    odd = [
        {**mention_envelope("x", event_id="EvOdd1"), "event": "not an object"},
        {**mention_envelope("x", event_id="EvOdd2"), "authorizations": "T_ACME"},
        {**mention_envelope("x", event_id="EvOdd3"), "event": {"type": ["app_mention"]}},
    ]
    async with socket_app(db, fake_slack, fake_deepseek) as app:
        await fake_slack.wait_socket_connected()
        for body in odd:  # acked, so Slack does not deliver them again and again
            await fake_slack.wait_ack(await fake_slack.socket_send("events_api", body))
        await fake_slack.wait_ack(await fake_slack.socket_send("events_api", good))
        assert await wait_settled(app, "slack", "EvGood", within=30) == "done"
    async with db.sessions() as session:
        events = (await session.scalars(select(InboxItem.event_id))).all()
    assert events == ["EvGood"]
