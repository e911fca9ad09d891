"""Periodic jobs on a frozen clock: SLA reminders, stale tickets, digest, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bot.app import SupportApp
from bot.jobs.digest import run_digest
from bot.jobs.retention import run_retention
from bot.jobs.sla_reminders import run_sla_reminders
from bot.jobs.stale import run_stale_tickets
from bot.llm.types import AttemptRecord, CallContext, Usage
from bot.store.db import Database
from bot.store.ledger import SqlCallRecorder
from bot.store.models import JobRun, LlmCall, Message, Summary, Ticket, TriageRun
from tests.bot.harness import Clock, RecordingOutlet, mention, responder, running_app, triage_json
from tests.fakes.deepseek import FakeDeepSeek
from tests.settle import wait_delivered, wait_settled

MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _submit(app: SupportApp, text: str, ts: str, clock: Clock) -> None:
    event = mention(text, message_id=ts, posted_at=clock())
    await app.intake.submit(event)
    assert await wait_settled(app, "slack", event.event_id, within=30) == "done"


def _leads_pings(outlet: RecordingOutlet) -> list[str]:
    return [r.text for r in outlet.sent if r.kind == "notify" and "SLA breached" in r.text]


async def test_sla_reminders_once_per_threshold_and_none_after_a_claim(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(triage_json(urgency="high", needs_human=True))
    clock, outlet = Clock(MONDAY_9AM), RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, clock=clock) as app:
        await _submit(app, "Production is down", "1700000000.000001", clock)
        await _submit(app, "Also down for me", "1700000000.000002", clock)
        clock.advance(minutes=10)
        assert await run_sla_reminders(app.jobs) == 0  # within the 15-minute SLA
        await wait_delivered(app)
        clock.advance(minutes=6)
        assert await run_sla_reminders(app.jobs) == 2  # both breached: threshold 1
        await wait_delivered(app)
        assert await run_sla_reminders(app.jobs) == 0  # same minute: the period is taken
        await wait_delivered(app)
        clock.advance(minutes=1)
        await run_sla_reminders(app.jobs)  # still threshold 1: no new ping
        await wait_delivered(app)
        assert len(_leads_pings(outlet)) == 2
        async with db.sessions.begin() as session:
            ticket = await session.get_one(Ticket, 1)
            ticket.status, ticket.claimed_at, ticket.assignee_id = "claimed", clock(), "U_LEAD"
        clock.advance(minutes=15)  # threshold 2 for the unclaimed one only
        await run_sla_reminders(app.jobs)
        await wait_delivered(app)
    pings = _leads_pings(outlet)
    assert len(pings) == 3
    assert "ticket #2" in pings[-1]


async def test_stale_ticket_is_warned_then_closed_and_a_new_message_resets_the_clock(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    clock, outlet = Clock(MONDAY_9AM), RecordingOutlet()
    async with running_app(
        db, fake_deepseek, outlet, clock=clock, stale_warn_days=3, stale_close_days=2
    ) as app:
        await _submit(app, "How do I export?", "1700000000.000001", clock)
        clock.advance(days=3, hours=1)
        assert await run_stale_tickets(app.jobs) == 1
        await wait_delivered(app)
        warnings = [t for t in outlet.texts() if "quiet for 3 days" in t]
        assert len(warnings) == 1
        # The user answers: the clock starts again and nothing closes.
        async with db.sessions.begin() as session:
            ticket = await session.get_one(Ticket, 1)
            ticket.last_activity_at = clock()
        clock.advance(days=2, hours=1)
        await run_stale_tickets(app.jobs)
        await wait_delivered(app)
        async with db.sessions() as session:
            assert (await session.get_one(Ticket, 1)).status == "open"
        clock.advance(days=1, hours=1)  # 3 days quiet again: a fresh warning
        await run_stale_tickets(app.jobs)
        await wait_delivered(app)
        clock.advance(days=2, hours=1)  # warned and 2 more days: closed
        await run_stale_tickets(app.jobs)
        await wait_delivered(app)
    async with db.sessions() as session:
        ticket = await session.get_one(Ticket, 1)
    assert ticket.status == "closed"
    assert len([t for t in outlet.texts() if "quiet for" in t]) == 2
    assert any("Closing this ticket" in t for t in outlet.texts())


async def test_digest_numbers_match_a_seeded_database(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    clock, outlet = Clock(MONDAY_9AM), RecordingOutlet()
    fake_deepseek.reply(triage_json(category="billing", urgency="high", needs_human=True))
    fake_deepseek.reply(triage_json(category="bug", urgency="medium", needs_human=True))
    fake_deepseek.reply(triage_json(category="feature_request", urgency="low"))
    fake_deepseek.responder = lambda _body: "Sure, here is how."  # every answer, drafts too
    async with running_app(db, fake_deepseek, outlet, clock=clock) as app:
        for i, text in enumerate(["refund please", "crash on save", "dark mode?"]):
            await _submit(app, text, f"1700000000.00000{i}", clock)
        async with db.sessions.begin() as session:
            one, two = await session.get_one(Ticket, 1), await session.get_one(Ticket, 2)
            one.status, one.claimed_at = "claimed", clock() + timedelta(minutes=20)
            two.status, two.claimed_at = "resolved", clock() + timedelta(minutes=30)
            session.add(
                TriageRun(
                    ticket_id=3,
                    source="human",
                    result={"category": "bug", "urgency": "low"},
                    created_at=clock(),
                )
            )
        clock.advance(hours=1)
        assert await run_digest(app.jobs) == 1
        await wait_delivered(app)
        assert await run_digest(app.jobs) == 0  # once a day
        await wait_delivered(app)
    (digest,) = [r.text for r in outlet.sent if r.kind == "notify" and "Daily digest" in r.text]
    assert "Tickets by category: billing 1, bug 1, feature_request 1" in digest
    assert "Tickets by urgency: high 1, low 1, medium 1" in digest
    assert "Escalations: claimed 1, resolved 1" in digest
    assert "SLA breaches: 1" in digest  # high: claimed after 20 min, its SLA is 15
    assert "median time to claim: 25 min" in digest
    assert "Fallback rate: 0%" in digest
    assert "triage accuracy: 67% (1 relabelled by leads)" in digest
    assert "deepseek-chat $" in digest


async def test_retention_erases_old_text_and_keeps_costs_and_labels(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    clock = Clock(MONDAY_9AM)
    async with running_app(
        db, fake_deepseek, RecordingOutlet(), clock=clock, retention_days=30
    ) as app:
        await _submit(app, "old question with my@email.example", "1700000000.000001", clock)
        await app.summaries.refresh(1)
        await SqlCallRecorder(db.sessions).record(
            AttemptRecord(
                context=CallContext(purpose="answer"),
                model="deepseek-chat",
                status="ok",
                error=None,
                usage=Usage(),
                cost_usd=Decimal("0.5"),
                latency_ms=1,
                attempt=1,
                request_id=None,
                started_at=clock(),
            )
        )
        clock.advance(days=31)
        await _submit(app, "new question", "1700000000.000002", clock)
        erased = await run_retention(app.jobs)
        await wait_delivered(app)
    async with db.sessions() as session:
        texts = dict((await session.execute(select(Message.message_id, Message.text))).all())
        summaries = (await session.scalars(select(Summary.text))).all()
        tickets = (await session.scalars(select(Ticket).order_by(Ticket.id))).all()
        spend = await session.scalar(select(func.sum(LlmCall.cost_usd)))
        runs = (await session.scalars(select(JobRun.job))).all()
        labels = (await session.scalars(select(TriageRun.result).order_by(TriageRun.id))).all()
    assert erased >= 2  # the old question and the bot's old answer
    assert texts["1700000000.000001"] is None
    assert texts["1700000000.000002"] == "new question"
    assert all(text is None for text in summaries)
    assert tickets[0].category is not None
    assert tickets[0].summary is None
    assert tickets[1].summary is not None
    assert spend is not None
    assert Decimal(spend) >= Decimal("0.5")
    assert runs == ["retention"]
    assert "summary" not in labels[0]  # the old verdict keeps its labels, not its summary
    assert labels[0]["category"] is not None
    assert "summary" in labels[1]
