"""Bad input never crashes the worker: the user hears back and nothing accepted is lost."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import InboxItem, Message, Ticket, TriageRun
from tests.bot.harness import (
    RecordingOutlet,
    mention,
    responder,
    running_app,
    settle,
    triage_requests,
)
from tests.fakes.deepseek import FakeDeepSeek


async def test_an_empty_mention_gets_help_and_opens_no_ticket(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        for i, text in enumerate(["", "   \n\t  "]):
            event = mention(text, message_id=f"1700000200.00010{i}")
            await app.intake.submit(event)
            assert await settle(app, event.event_id) == "done"
    assert len(outlet.texts()) == 2
    assert all("Tell me what you need help with" in t for t in outlet.texts())
    async with db.sessions() as session:
        assert (await session.scalars(select(Ticket))).all() == []
    assert fake_deepseek.chat_requests == []


async def test_control_characters_and_broken_unicode_are_cleaned_not_fatal(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    event = mention("Login\x00 fails\x1b[31m with \ud800 odd bytes\x07")
    async with running_app(db, fake_deepseek, outlet) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    async with db.sessions() as session:
        stored = (await session.scalars(select(Message.text).where(~Message.is_bot))).one()
    assert stored is not None
    assert "\x00" not in stored
    assert "\x1b" not in stored
    assert "\x07" not in stored
    assert stored.startswith("Login fails")
    assert len(outlet.texts()) == 1


async def test_an_oversized_message_is_truncated_for_the_model_with_a_note(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    huge = "My export fails. " + "x" * 60_000
    event = mention(huge)
    async with running_app(db, fake_deepseek, RecordingOutlet(), max_message_chars=2000) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    user_message = triage_requests(fake_deepseek)[0]["messages"][-1]["content"]
    payload = json.loads(user_message[user_message.index("{") :])
    assert payload["truncated"] is True
    assert len(payload["ticket"]) == 2000
    async with db.sessions() as session:
        assert (await session.scalars(select(Ticket))).one().category is not None


async def test_model_output_of_any_shape_ends_in_a_ticket_for_a_person(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    for junk in ["<html>oops</html>", "[1, 2, 3]", "", "   ", '{"category": 7}', "null"]:
        fake_deepseek.reply(junk, json_mode=True)  # malformed verdicts, for triage
    fake_deepseek.reply("still not json", json_mode=True)
    outlet = RecordingOutlet()
    events = [mention(f"Billing question {i}", message_id=f"1700000300.00010{i}") for i in range(3)]
    async with running_app(db, fake_deepseek, outlet) as app:
        for event in events:
            await app.intake.submit(event)
            assert await settle(app, event.event_id) == "done"
    async with db.sessions() as session:
        tickets = (await session.scalars(select(Ticket))).all()
        runs = (await session.scalars(select(TriageRun))).all()
        statuses = (await session.scalars(select(InboxItem.status))).all()
    assert set(statuses) == {"done"}
    assert len(tickets) == 3
    assert all(t.status == "escalated" for t in tickets)
    assert all(r.source == "fallback" for r in runs)
    assert len(triage_requests(fake_deepseek)) == 6  # one correction per ticket, never more
