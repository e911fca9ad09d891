"""Budgets and rate limits: no model calls past the budget or the per-user rate."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from bot.llm.types import AttemptRecord, CallContext, Usage
from bot.store.db import Database
from bot.store.ledger import SqlCallRecorder
from bot.store.models import Ticket, TriageRun
from tests.bot.harness import RecordingOutlet, mention, responder, running_app, settle
from tests.fakes.deepseek import FakeDeepSeek


async def test_over_budget_means_rules_no_model_calls_and_one_notice(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    await SqlCallRecorder(db.sessions).record(
        AttemptRecord(
            context=CallContext(purpose="answer", workspace_id="T_ACME"),
            model="deepseek-chat",
            status="ok",
            error=None,
            usage=Usage(),
            cost_usd=Decimal("0.0200"),
            latency_ms=1,
            attempt=1,
            request_id=None,
            started_at=datetime.now(UTC),
        )
    )
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, daily_budget_usd="0.01") as app:
        for i in range(3):
            event = mention(f"Question {i}", message_id=f"1700000400.00010{i}")
            await app.intake.submit(event)
            assert await settle(app, event.event_id) == "done"
        await app.summaries.refresh(1)  # a summary asked for while over budget: no call
    assert fake_deepseek.chat_requests == []
    async with db.sessions() as session:
        runs = (await session.scalars(select(TriageRun))).all()
        tickets = (await session.scalars(select(Ticket))).all()
    assert {r.source for r in runs} == {"fallback"}
    assert {t.status for t in tickets} == {"escalated"}
    notices = [r for r in outlet.sent if r.kind == "notify" and "daily model budget" in r.text]
    assert len(notices) == 1
    assert notices[0].place.channel_id == "C_LEADS"


async def test_the_eleventh_message_in_a_minute_makes_no_model_call(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, user_messages_per_minute=10) as app:
        for i in range(11):
            event = mention(f"Question {i}", message_id=f"1700000500.0001{i:02d}")
            await app.intake.submit(event)
            assert await settle(app, event.event_id) == "done"
        calls_after_ten = len(fake_deepseek.chat_requests)
        other = mention("I am someone else", message_id="1700000500.000999", user="U_BOB")
        await app.intake.submit(other)
        assert await settle(app, other.event_id) == "done"
    assert calls_after_ten == 20  # ten triages and ten answers; the 11th made none
    assert len(fake_deepseek.chat_requests) == 22  # another user is not slowed down
    polite = [t for t in outlet.texts() if "faster than I can keep up" in t]
    assert len(polite) == 1
    async with db.sessions() as session:
        eleventh = (
            await session.scalars(
                select(Ticket).where(Ticket.root_message_id == "1700000500.000110")
            )
        ).one()
    assert eleventh.status == "escalated"  # kept and handed to a person, not dropped


async def test_a_long_thread_is_summarised_before_answering_not_cut(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(answer="- earlier: user explained the CSV issue")
    async with running_app(
        db, fake_deepseek, RecordingOutlet(), max_context_chars=1000, summary_every_messages=50
    ) as app:
        root = mention("CSV export breaks " + "a" * 900, message_id="1700000600.000100")
        await app.intake.submit(root)
        assert await settle(app, root.event_id) == "done"
        more = mention(
            "still broken " + "b" * 900,
            message_id="1700000600.000200",
            thread_id="1700000600.000100",
        )
        await app.intake.submit(more)
        assert await settle(app, more.event_id) == "done"
    systems = [b["messages"][0]["content"] for b in fake_deepseek.chat_requests]
    assert len(systems) == 4  # triage, answer, then a summary before the second answer
    assert "rolling summary" in systems[2]
    last_answer = fake_deepseek.chat_requests[-1]["messages"][-1]["content"]
    assert "earlier: user explained the CSV issue" in last_answer
