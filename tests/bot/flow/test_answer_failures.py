"""A failed answer escalates; answers are bounded and a cut is marked.

Issue 10, items 10 (if triage succeeded but the answer call fails after retries, the
ticket goes to the leads with its card) and 11 (answers are capped; an answer that
stopped at the token limit is not posted as complete).
"""

from __future__ import annotations

from sqlalchemy import select

from bot.flow import copy
from bot.store.db import Database
from bot.store.models import AuditEntry, LlmCall, Ticket
from tests.bot.harness import RecordingOutlet, mention, running_app, settle, triage_json
from tests.fakes.deepseek import FakeDeepSeek

ROOT = "1700000300.000100"


async def test_a_failed_answer_escalates_with_the_card_and_tells_the_requester_so(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json(needs_human=False, confidence=0.95))
    for _ in range(3):  # every attempt of the answer call fails
        fake_deepseek.fail(503)
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, llm_max_attempts=3) as app:
        event = mention("How do I export my data?", message_id=ROOT)
        assert await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    async with db.sessions() as session:
        ticket = (await session.scalars(select(Ticket))).one()
        actions = [a.action for a in (await session.scalars(select(AuditEntry))).all()]
    assert ticket.status == "escalated"
    assert ticket.sla_due_at is not None
    assert ticket.route_reason == copy.NO_ANSWER
    assert "ticket.escalated" in actions
    leads = [r for r in outlet.sent if r.kind == "notify"]
    assert len(leads) == 1
    assert leads[0].place.channel_id == "C_LEADS"
    assert leads[0].card is not None
    assert leads[0].card.ticket_id == ticket.id
    texts = outlet.texts()
    assert texts == [copy.escalated_note(ticket.id)]  # not "a person will follow up" alone
    assert copy.fallback_answer(ticket.id) not in texts


async def test_a_long_answer_is_one_bounded_message_that_says_it_was_cut(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json(needs_human=False, confidence=0.95))
    fake_deepseek.reply(("All the steps, one by one. " * 800).strip())  # ~21,000 characters
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, answer_max_chars=3000) as app:
        event = mention("Walk me through setup", message_id=ROOT)
        assert await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    (answer,) = outlet.texts()
    assert len(answer) <= 3000
    assert answer.endswith(copy.CUT_SHORT)
    body = answer.removesuffix(copy.CUT_SHORT).rstrip()
    assert body.endswith("…")  # cut at a word, and marked
    assert body[:-1].split()[-1] in {"All", "the", "steps,", "one", "by", "one."}


async def test_an_answer_stopped_by_the_token_limit_is_marked_as_cut(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json(needs_human=False, confidence=0.95))
    fake_deepseek.reply("First, open Settings and then", finish_reason="length")
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        event = mention("How do I export?", message_id=ROOT)
        assert await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    assert outlet.texts() == [f"First, open Settings and then\n\n{copy.CUT_SHORT}"]
    async with db.sessions() as session:
        ledger = dict((await session.execute(select(LlmCall.purpose, LlmCall.status))).all())
    assert ledger == {"triage": "ok", "answer": "ok_cut_off"}  # the ledger marks the cut
