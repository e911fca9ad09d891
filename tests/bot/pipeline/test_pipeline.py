"""The pipeline end to end: event -> inbox -> triage -> route -> replies, on a real database."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from bot.events import Platform
from bot.store.db import Database
from bot.store.models import (
    AuditEntry,
    InboxItem,
    LlmCall,
    Message,
    OutboxItem,
    Ticket,
    TriageRun,
)
from tests.bot.harness import (
    ANSWER,
    RecordingOutlet,
    mention,
    responder,
    running_app,
    settle,
    triage_json,
    triage_requests,
)
from tests.fakes.deepseek import FakeDeepSeek
from tests.settle import wait_delivered


async def _count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_mention_opens_a_ticket_triages_it_and_answers_in_its_thread(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    event = mention("How do I export all my data to CSV?")
    async with running_app(db, fake_deepseek, outlet) as app:
        assert await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"

    async with db.sessions() as session:
        ticket = (await session.scalars(select(Ticket))).one()
        run = (await session.scalars(select(TriageRun))).one()
        calls = (await session.scalars(select(LlmCall).order_by(LlmCall.id))).all()
    assert (ticket.category, ticket.urgency, ticket.route) == ("feature_request", "low", "answer")
    assert ticket.thread_id == event.message_id  # the thread hangs off the mention
    assert ticket.status == "open"
    assert (run.source, run.prompt_version) == ("llm", "triage.v3")
    assert [c.purpose for c in calls] == ["triage", "answer"]
    assert all(c.ticket_id == ticket.id and c.workspace_id == "T_ACME" for c in calls)
    assert calls[0].prompt_version == "triage.v3"
    assert len(triage_requests(fake_deepseek)) == 1
    (first,) = outlet.sent  # one message: the card and the answer
    assert first.card is not None
    assert first.card.ticket_id == ticket.id
    assert first.text == ANSWER
    assert first.place.thread_id == event.message_id


async def test_the_same_event_four_times_two_at_once_makes_one_ticket_one_call_one_reply(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    event = mention("Where can I change my billing email?")
    async with running_app(db, fake_deepseek, outlet) as app:
        first = await app.intake.submit(event)
        together = await asyncio.gather(app.intake.submit(event), app.intake.submit(event))
        last = await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
        await asyncio.sleep(0.3)  # give a wrongly queued duplicate the chance to run

    assert [first, *together, last].count(True) == 1
    assert await _count(db, InboxItem) == 1
    assert await _count(db, Ticket) == 1
    assert len(triage_requests(fake_deepseek)) == 1
    assert len(outlet.cards()) == 1
    assert outlet.texts() == [ANSWER]


async def test_worker_cancelled_mid_flight_then_restarted_finishes_everything_once(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_deepseek.responder_delay = 0.5  # every answer takes a while: the stop lands mid-call
    events = [
        mention(f"Question number {i} about exports", message_id=f"17000000{i:02d}.0001")
        for i in range(8)
    ]
    first_outlet, second_outlet = RecordingOutlet(), RecordingOutlet()
    async with running_app(db, fake_deepseek, first_outlet, worker_concurrency=3) as app:
        for event in events:
            assert await app.intake.submit(event)
        await asyncio.sleep(0.6)
    async with db.sessions() as session:
        unfinished = await session.scalar(
            select(func.count()).select_from(InboxItem).where(InboxItem.status != "done")
        )
    assert unfinished, "the stop should have interrupted some events"

    async with running_app(db, fake_deepseek, second_outlet) as app:
        for event in events:
            assert await settle(app, event.event_id) == "done"

    sent = first_outlet.sent + second_outlet.sent
    assert await _count(db, Ticket) == len(events)
    for event in events:
        in_thread = [r for r in sent if r.place.thread_id == event.message_id]
        assert len([r for r in in_thread if r.card]) == 1, event.message_id
        assert len([r for r in in_thread if r.text]) == 1, event.message_id


async def test_a_failed_delivery_is_retried_and_nothing_is_posted_or_paid_twice(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet(fail_times=1)  # the card fails once, then the platform is back
    event = mention("Can I add a teammate to my workspace?")
    async with running_app(db, fake_deepseek, outlet, reply_retry_base_seconds=0.05) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"  # the event's work was done once
        assert await wait_delivered(app) == 0  # and the relay tried the card again
    assert len(outlet.cards()) == 1
    assert outlet.texts() == [ANSWER]
    assert len(fake_deepseek.chat_requests) == 2  # one triage, one answer: no second answer
    async with db.sessions() as session:
        event_row = (await session.scalars(select(InboxItem))).one()
        card = (await session.scalars(select(OutboxItem).where(OutboxItem.is_card))).first()
    assert event_row.attempts == 1
    assert card is not None
    assert (card.status, card.attempts) == ("sent", 2)
    assert "ConnectionError" in (card.last_error or "")


async def test_a_reply_that_keeps_failing_is_given_up_with_its_error_and_shown(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet(fail_times=100)
    event = mention("Is there an API rate limit?")
    overrides = {"reply_max_attempts": 2, "reply_retry_base_seconds": 0.05}
    async with running_app(db, fake_deepseek, outlet, **overrides) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
        assert await wait_delivered(app) == 0
        await app.metrics.refresh(app.database.sessions)
        exposition = app.metrics.render().decode()
    async with db.sessions() as session:
        replies = (await session.scalars(select(OutboxItem).where(OutboxItem.kind != "seen"))).all()
    assert replies  # (the seen sign never fails: it is shown or let go)
    assert {(r.status, r.attempts) for r in replies} == {("failed", 2)}
    assert all("platform unreachable" in (r.last_error or "") for r in replies)
    assert f'supportbot_outbox_rows{{status="failed"}} {float(len(replies))}' in exposition
    assert 'supportbot_replies_failed_total{platform="slack"}' in exposition


async def test_needs_human_escalates_to_the_leads_channel_with_an_sla(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(
        triage_json(category="billing", urgency="high", needs_human=True, summary="Charged twice")
    )
    outlet = RecordingOutlet()
    event = mention("You charged my card twice, I want a refund now")
    async with running_app(db, fake_deepseek, outlet) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    async with db.sessions() as session:
        ticket = (await session.scalars(select(Ticket))).one()
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert (ticket.status, ticket.route) == ("escalated", "human")
    assert ticket.sla_due_at is not None
    assert ticket.escalated_at is not None
    assert 14 <= (ticket.sla_due_at - ticket.escalated_at).total_seconds() / 60 <= 15
    assert "ticket.escalated" in actions
    leads = [r for r in outlet.sent if r.kind == "notify"]
    assert len(leads) == 1
    assert leads[0].place.channel_id == "C_LEADS"
    assert leads[0].ping_leads
    assert leads[0].card is not None
    assert leads[0].card.status == "escalated"
    # The answer drafted beside triage is dropped on the human route: never posted
    # (the thread gets the card with the hand-over note, the leads their card), and
    # its one ledger row keeps whatever it cost.
    assert len(triage_requests(fake_deepseek)) == 1
    assert [r.kind for r in outlet.sent] == ["post_reply", "notify"]
    async with db.sessions() as session:
        answers = (await session.scalars(select(LlmCall).where(LlmCall.purpose == "answer"))).all()
    assert len(answers) <= 1
    assert any("a person will follow up" in t for t in outlet.texts())


async def test_reasoner_route_keeps_the_thinking_for_leads_and_never_posts_it(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(
        triage_json(
            category="bug", urgency="medium", confidence=0.4, summary="Sync fails intermittently"
        )
    )
    fake_deepseek.reply(
        "Try re-linking the integration; a person will follow up.",
        reasoning_content="SECRET-THOUGHTS: the token likely expired",
        for_model="deepseek-reasoner",
    )
    outlet = RecordingOutlet()
    event = mention("Sync fails sometimes, no idea why")
    async with running_app(db, fake_deepseek, outlet) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    answer_request = fake_deepseek.chat_requests[-1]
    assert answer_request["model"] == "deepseek-reasoner"
    assert "reasoning_content" not in json.dumps(answer_request["messages"])
    assert all("SECRET-THOUGHTS" not in (r.text or "") for r in outlet.sent)
    async with db.sessions() as session:
        bot_message = (await session.scalars(select(Message).where(Message.is_bot))).one()
        ticket = (await session.scalars(select(Ticket))).one()
    assert bot_message.reasoning == "SECRET-THOUGHTS: the token likely expired"
    assert ticket.route == "reasoner"
    assert "0.4" in (ticket.route_reason or "")


async def test_without_an_api_key_the_rules_triage_and_a_person_gets_the_ticket(
    db: Database,
) -> None:
    outlet = RecordingOutlet()
    event = mention("The app crashes with error 500 when I upload a file", platform=Platform.SLACK)
    async with running_app(db, None, outlet) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    async with db.sessions() as session:
        ticket = (await session.scalars(select(Ticket))).one()
        run = (await session.scalars(select(TriageRun))).one()
    assert run.source == "fallback"
    assert (ticket.category, ticket.status, ticket.route) == ("bug", "escalated", "human")
    assert await _count(db, LlmCall) == 0


async def test_human_route_can_send_the_leads_a_reasoner_brief(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json(category="account", needs_human=True))
    fake_deepseek.reply(
        "Likely a stale SSO session; check the IdP logs.", for_model="deepseek-reasoner"
    )
    outlet = RecordingOutlet()
    event = mention("Our whole team is locked out after the SSO change")
    async with running_app(db, fake_deepseek, outlet, human_brief=True) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    brief_request = fake_deepseek.chat_requests[-1]
    assert brief_request["model"] == "deepseek-reasoner"
    notices = [r.text for r in outlet.sent if r.kind == "notify"]
    assert any("Likely a stale SSO session" in t for t in notices)
    assert all("stale SSO" not in t for t in outlet.texts())  # the user never sees the brief
