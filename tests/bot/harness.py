"""A running SupportApp on the test database, the fake DeepSeek and a recording outlet."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import SupportApp
from bot.config import load_settings
from bot.events import Actor, MessagePosted, Place, Platform, Reply, Seen
from bot.store.db import Database
from tests.conftest import FAKE_KEY
from tests.fakes.deepseek import FakeDeepSeek
from tests.settle import wait_settled

ANSWER = "You can export your data from Settings > Export. A person will follow up if needed."


class RecordingOutlet:
    """Stands in for a platform: keeps every reply it was asked to deliver."""

    def __init__(self, *, fail_times: int = 0) -> None:
        self.sent: list[Reply] = []
        self.seen: list[Seen] = []
        """The seen signs shown and taken away, apart: they are no message in a thread."""
        self.fail_times = fail_times
        self.failures = 0

    async def deliver(self, reply: Reply) -> str | None:
        """Record `reply`, or fail while `fail_times` lasts (a seen sign never fails)."""
        if isinstance(reply, Seen):
            self.seen.append(reply)
            return None
        if self.failures < self.fail_times:
            self.failures += 1
            raise ConnectionError("platform unreachable")
        self.sent.append(reply)
        return f"posted-{len(self.sent)}"

    def texts(self) -> list[str]:
        """Plain-text replies posted in threads."""
        return [r.text for r in self.sent if r.kind == "post_reply" and r.text]

    def cards(self) -> list[Reply]:
        """Replies carrying a ticket card (thread cards and leads' cards)."""
        return [r for r in self.sent if r.kind in ("post_reply", "notify") and r.card]


def triage_json(
    *,
    category: str = "feature_request",
    urgency: str = "low",
    needs_human: bool = False,
    confidence: float = 0.92,
    summary: str = "Asks how to export data",
) -> str:
    """A valid triage answer as the model would send it."""
    return json.dumps(
        {
            "category": category,
            "urgency": urgency,
            "summary": summary,
            "needs_human": needs_human,
            "confidence": confidence,
        }
    )


def responder(triage: str | None = None, answer: str = ANSWER) -> Any:
    """Answer JSON-mode requests with `triage`, everything else with `answer`."""

    def reply(body: dict[str, Any]) -> str:
        if body.get("response_format", {}).get("type") == "json_object":
            return triage or triage_json()
        return answer

    return reply


def triage_requests(fake: FakeDeepSeek) -> list[dict[str, Any]]:
    """The JSON-mode (triage and correction) requests the fake received."""
    return [b for b in fake.chat_requests if b.get("response_format")]


def mention(
    text: str,
    *,
    message_id: str = "1700000000.000100",
    event_id: str | None = None,
    thread_id: str | None = None,
    user: str = "U_ALICE",
    mentions_bot: bool = True,
    platform: Platform = Platform.SLACK,
    channel: str = "C_HELP",
    posted_at: datetime | None = None,
) -> MessagePosted:
    """A message mentioning the bot, as an adapter would translate it."""
    return MessagePosted(
        event_id=event_id or f"Ev{message_id}",
        message_id=message_id,
        place=Place(
            platform=platform, workspace_id="T_ACME", channel_id=channel, thread_id=thread_id
        ),
        author=Actor(platform=platform, user_id=user, display_name=user.lower()),
        text=text,
        mentions_bot=mentions_bot,
        posted_at=posted_at or datetime.now(UTC),
    )


@asynccontextmanager
async def running_app(
    db: Database,
    fake: FakeDeepSeek | None,
    outlet: RecordingOutlet,
    *,
    start: bool = True,
    clock: Callable[[], datetime] | None = None,
    **overrides: Any,
) -> AsyncIterator[SupportApp]:
    """A started app; `fake=None` runs it with no API key (offline rules)."""
    values: dict[str, Any] = {
        "database_url": db.url,
        "slack_leads_channel": "T_ACME:C_LEADS",
        "inbox_retry_base_seconds": 0.05,
        "llm_deadline_seconds": 20,
        "lead_user_ids": ["U_LEAD"],
        # Answers are posted whole unless a test is about streaming them.
        "stream_answers": False,
    }
    if fake is not None:
        values.update(deepseek_api_key=FAKE_KEY, deepseek_base_url=fake.base_url)
    values.update(overrides)
    extra = {"clock": clock} if clock is not None else {}
    app = SupportApp(load_settings(**values), database=Database(db.url), **extra)
    app.attach(Platform.SLACK, outlet)
    app.attach(Platform.CONSOLE, outlet)
    if start:
        await app.start()
    try:
        yield app
    finally:
        await app.stop()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)


async def settle(app: SupportApp, event_id: str, platform: str = "slack") -> str | None:
    """Wait for one event to be done or failed; return its status."""
    return await wait_settled(app, platform, event_id, within=30)
