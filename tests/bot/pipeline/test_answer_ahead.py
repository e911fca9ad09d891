"""The chat answer drafted while triage runs: one model round trip per answered ticket.

The fake model makes each call wait, so the two calls of a new ticket overlap only
if the answer was asked for before triage came back (`most_in_flight`).
"""

from __future__ import annotations

from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import LlmCall, Ticket
from tests.bot.harness import RecordingOutlet, mention, running_app, settle, triage_json
from tests.fakes.deepseek import FakeDeepSeek

ANSWER = "Open Settings, then Export, and pick CSV."


async def _ledger(db: Database) -> dict[str, list[str]]:
    async with db.sessions() as session:
        rows = (await session.scalars(select(LlmCall).order_by(LlmCall.id))).all()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.purpose, []).append(row.status)
    return found


async def test_a_new_ticket_asks_triage_and_the_answer_at_once(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json(), delay=0.4)
    fake_deepseek.reply(ANSWER, delay=0.4)
    outlet = RecordingOutlet()
    event = mention("How do I export my data to CSV?")
    async with running_app(db, fake_deepseek, outlet) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    assert fake_deepseek.most_in_flight == 2  # the answer did not wait for the verdict
    assert [r.text for r in outlet.sent if r.kind == "post_reply"] == [ANSWER]
    assert outlet.sent[0].card is not None  # one message: the card and the answer
    assert await _ledger(db) == {"triage": ["ok"], "answer": ["ok"]}
    async with db.sessions() as session:
        ticket = (await session.scalars(select(Ticket))).one()
    assert (ticket.route, ticket.category) == ("answer", "feature_request")  # the verdict kept


async def test_with_the_setting_off_the_answer_waits_for_the_verdict(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json(), delay=0.2)
    fake_deepseek.reply(ANSWER, delay=0.2)
    outlet = RecordingOutlet()
    event = mention("How do I export my data to CSV?")
    async with running_app(db, fake_deepseek, outlet, answer_while_triaging=False) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    assert fake_deepseek.most_in_flight == 1
    answer_request = fake_deepseek.chat_requests[1]
    assert '"category": "feature_request"' in answer_request["messages"][-1]["content"]
    assert [r.text for r in outlet.sent if r.kind == "post_reply"] == [ANSWER]


async def test_a_verdict_for_a_person_cancels_the_draft_and_records_it(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json(category="billing", needs_human=True))
    fake_deepseek.reply("A draft nobody should see.", delay=5)
    outlet = RecordingOutlet()
    event = mention("You charged my card twice")
    async with running_app(db, fake_deepseek, outlet) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    texts = outlet.texts()
    assert all("nobody should see" not in text for text in texts)
    assert any("a person will follow up" in text for text in texts)
    assert await _ledger(db) == {"triage": ["ok"], "answer": ["cancelled"]}


async def test_a_verdict_for_the_reasoner_posts_only_the_reasoner_answer(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json(category="bug", confidence=0.3))
    fake_deepseek.reply("The quick chat draft.", for_model="deepseek-chat", delay=5)
    fake_deepseek.reply("The reasoned answer.", for_model="deepseek-reasoner")
    outlet = RecordingOutlet()
    event = mention("Sync fails sometimes, no idea why")
    async with running_app(db, fake_deepseek, outlet) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    assert [r.text for r in outlet.sent if r.kind == "post_reply"] == ["The reasoned answer."]
    assert await _ledger(db) == {
        "triage": ["ok"],
        "answer": ["cancelled"],
        "reasoner": ["ok"],
    }
