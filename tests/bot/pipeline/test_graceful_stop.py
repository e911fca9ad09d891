"""Stopping the app lets sends in flight finish, so a restart posts nothing twice."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import SupportApp
from bot.config import load_settings
from bot.events import Platform, Reply
from bot.store.db import Database
from bot.store.models import InboxItem, OutboxItem
from tests.adapters.slack.harness import SIGNING_SECRET, mention_envelope
from tests.adapters.test_runner import running
from tests.bot.harness import mention
from tests.bot.pipeline.flaky import until
from tests.cli_runner import clean_env
from tests.fakes.slack import FakeSlack, SlackCall
from tests.fakes.slack_interactive import json_headers
from tests.net import free_port
from tests.settle import wait_settled

pytestmark = pytest.mark.timeout(90)


class SlowPlatform:
    """A platform API that posts a message as soon as the request arrives and answers
    `seconds` later, with no idempotency key (Slack): a repeated send is a second post."""

    def __init__(self, posted: list[str], *, seconds: float = 1.0) -> None:
        self.posted = posted  # shared by every outlet: the one platform behind them
        self.mine: list[str] = []
        self.seconds = seconds
        self.sending = asyncio.Event()

    async def deliver(self, reply: Reply) -> str | None:
        """Post at once, then take `seconds` to say so (a seen sign is no post)."""
        if reply.kind == "seen":
            return None
        self.posted.append(reply.key)
        self.mine.append(reply.key)
        self.sending.set()
        await asyncio.sleep(self.seconds)
        return f"m-{len(self.posted)}"


def _app(db: Database, outlet: Any, **kwargs: Any) -> SupportApp:
    settings = load_settings(
        database_url=db.url,
        slack_leads_channel="T_ACME:C_LEADS",
        inbox_retry_base_seconds=0.05,
        lead_user_ids=["U_LEAD"],
        user_messages_per_minute=1000,
    )
    app = SupportApp(settings, database=Database(db.url), **kwargs)
    app.attach(Platform.SLACK, outlet)
    return app


async def _statuses(db: Database) -> dict[str, str]:
    async with db.sessions() as session:
        rows = await session.execute(select(InboxItem.event_id, InboxItem.status))
        return dict(rows.all())


async def _all_taken(db: Database, events: list[Any]) -> None:
    """Until no event of `events` is still waiting to be claimed (the database says)."""
    while True:
        statuses = await _statuses(db)
        if all(statuses.get(e.event_id) != "pending" for e in events):
            return
        await asyncio.sleep(0.01)


async def test_stop_mid_send_then_restart_delivers_every_reply_exactly_once(
    db: Database,
) -> None:
    posted: list[str] = []
    events = [mention(f"Question {i}", message_id=f"1700007000.{i:06d}") for i in range(3)]
    late = mention("Arrives while the first instance stops", message_id="1700007000.999999")

    first_outlet = SlowPlatform(posted)
    first = _app(db, first_outlet)
    await first.start()
    for event in events:
        assert await first.intake.submit(event)
    await asyncio.wait_for(first_outlet.sending.wait(), 20)
    # Every question taken by this worker before the stop (on a busy machine the first
    # send can start before the last is claimed; an unclaimed one rightly stays pending).
    await asyncio.wait_for(_all_taken(db, events), 20)
    stopping = asyncio.create_task(first.stop())  # SIGTERM lands while sends are in flight
    await asyncio.sleep(0.2)
    assert await first.intake.submit(late)  # the inbox still takes it; this worker must not
    await stopping

    drained = await _statuses(db)
    assert all(drained[e.event_id] == "done" for e in events), drained
    assert drained[late.event_id] == "pending"
    assert not any(late.message_id in key for key in first_outlet.mine)

    second_outlet = SlowPlatform(posted, seconds=0.0)
    second = _app(db, second_outlet)
    await second.start()
    try:
        for event in [*events, late]:
            assert await wait_settled(second, "slack", event.event_id) == "done"
    finally:
        await second.stop()

    twice = {key: n for key, n in Counter(posted).items() if n > 1}
    assert not twice, f"posted more than once: {twice}"
    assert len(posted) == 4 * 2  # every event: thread card with its note, leads' card
    assert all(late.message_id not in key for key in first_outlet.mine)
    async with db.sessions() as session:
        unsent = (
            await session.scalars(select(OutboxItem.key).where(OutboxItem.status != "sent"))
        ).all()
    assert not unsent


class HangingPlatform:
    """A platform that never answers."""

    def __init__(self) -> None:
        self.sending = asyncio.Event()

    async def deliver(self, reply: Reply) -> str | None:
        """Wait forever."""
        self.sending.set()
        await asyncio.Event().wait()
        return None


async def test_stop_waits_no_longer_than_its_grace_then_hands_the_work_back(
    db: Database,
) -> None:
    outlet = HangingPlatform()
    app = _app(db, outlet, stop_grace_seconds=0.5)
    event = mention("This send never finishes")
    await app.start()
    assert await app.intake.submit(event)
    await asyncio.wait_for(outlet.sending.wait(), 20)
    started = time.monotonic()
    await app.stop()
    assert time.monotonic() - started < 5
    # The event's work is done; the reply the relay could not finish is handed back
    # for the next instance (pending, its attempt not counted), not failed.
    assert (await _statuses(db))[event.event_id] == "done"
    async with db.sessions() as session:
        replies = (await session.execute(select(OutboxItem.status, OutboxItem.attempts))).all()
    assert ("pending", 0) in replies
    assert all(status != "sending" for status, _ in replies)


class SlowSlack(FakeSlack):
    """The fake Slack, posting each message at once and answering a second later."""

    async def _api(self, request: web.Request) -> web.StreamResponse:
        response = await super()._api(request)
        if request.match_info["method"] == "chat.postMessage":
            await asyncio.sleep(1.0)
        return response


def _post_key(call: SlackCall) -> str:
    params = call.params
    fields = ("channel", "thread_ts", "text", "blocks", "attachments")
    return json.dumps({f: params.get(f) for f in fields}, sort_keys=True, default=str)


async def test_sigterm_mid_send_then_restart_posts_each_slack_message_once(tmp_path: Path) -> None:
    async with SlowSlack() as slack, httpx.AsyncClient() as http:
        port = free_port()
        env = clean_env(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.base_url,
            SLACK_LEADS_CHANNEL="T_ACME:C_LEADS",
            SUPPORTBOT_LOG_LEVEL="WARNING",
        )
        base = f"http://127.0.0.1:{port}"
        args = ["run", "--http", "--port", str(port)]

        async def up() -> bool:
            try:
                return (await http.get(f"{base}/healthz")).status_code == 200
            except httpx.HTTPError:
                return False

        async with running(args, env, tmp_path):
            assert await until(up, within=30)
            raw = json.dumps(mention_envelope("my export loses accents"))
            ack = await http.post(
                f"{base}/slack/events", content=raw, headers=json_headers(SIGNING_SECRET, raw)
            )
            assert ack.status_code == 200
            assert await until(lambda: slack.calls_to("chat.postMessage"), within=30)
        # SIGTERM landed while the first message was being posted; the process is gone.
        first_run = len(slack.calls_to("chat.postMessage"))

        async with running(args, env, tmp_path):
            assert await until(up, within=30)
            await asyncio.sleep(4.0)  # time for anything handed back to be sent again
        posts = Counter(_post_key(call) for call in slack.calls_to("chat.postMessage"))
    twice = [key for key, n in posts.items() if n > 1]
    assert not twice, f"posted more than once: {twice}"
    assert first_run == 2  # the first instance finished its thread card (with the note) and
    assert sum(posts.values()) == 2  # the leads' card
