"""The requester's side: Solved / I need a person under answers, the rating, `csat`,
and the seen sign while an answer is written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.app import SupportApp
from bot.events import ActionInvoked, Actor, CommandInvoked, Event, Place, Platform, TicketAction
from bot.flow import copy
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import AuditEntry, OutboxItem, Ticket
from tests.bot.harness import (
    ANSWER,
    RecordingOutlet,
    mention,
    responder,
    running_app,
    settle,
    triage_json,
)
from tests.fakes.deepseek import FakeDeepSeek

ROOT = "1700000300.000100"
REQUESTER = Actor(platform=Platform.SLACK, user_id="U_ALICE", display_name="alice")
LEAD = Actor(platform=Platform.SLACK, user_id="U_LEAD", display_name="lee")
STRANGER = Actor(platform=Platform.SLACK, user_id="U_MALLORY", display_name="mallory")
_counter = iter(range(10_000))


async def _run(app: SupportApp, event: Event) -> None:
    assert await app.intake.submit(event)
    assert await settle(app, event.event_id) == "done"


def _press(action: TicketAction, ticket_id: int, actor: Actor, event_id: str = "") -> ActionInvoked:
    return ActionInvoked(
        event_id=event_id or f"press-{next(_counter)}",
        place=Place(
            platform=Platform.SLACK, workspace_id="T_ACME", channel_id="C_HELP", thread_id=ROOT
        ),
        actor=actor,
        action=action,
        ticket_id=ticket_id,
    )


async def _open(app: SupportApp) -> int:
    await _run(app, mention("How do I export my data to CSV?", message_id=ROOT))
    async with app.database.sessions() as session:
        return (await session.scalars(select(Ticket.id))).one()


async def _ticket(app: SupportApp, ticket_id: int) -> Ticket:
    async with app.database.sessions() as session:
        return await session.get_one(Ticket, ticket_id)


async def _audit(app: SupportApp) -> list[tuple[str, str]]:
    async with app.database.sessions() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [(a.actor, a.action) for a in rows]


def _private(outlet: RecordingOutlet) -> list[str]:
    return [r.text for r in outlet.sent if r.kind == "ephemeral"]


def _thread_posts(outlet: RecordingOutlet) -> list[Any]:
    return [r for r in outlet.sent if r.kind == "post_reply"]


async def test_every_answer_offers_the_requester_solved_and_i_need_a_person(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        follow_up = mention("and for PDF?", message_id="1700000300.000200", thread_id=ROOT)
        await _run(app, follow_up)
    first, second = [r for r in _thread_posts(outlet) if r.text == ANSWER]
    for answer in (first, second):
        assert answer.buttons is not None
        assert answer.buttons.ticket_id == ticket_id
        assert answer.buttons.actions == (TicketAction.SOLVED, TicketAction.NEED_PERSON)
    assert first.card is not None  # the new ticket's answer and card are one message


async def test_solved_by_the_requester_resolves_counts_as_deflected_and_asks_once_for_a_rating(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        solved = _press(TicketAction.SOLVED, ticket_id, REQUESTER, event_id="press-solved")
        await _run(app, solved)
        await _run(app, _press(TicketAction.SOLVED, ticket_id, REQUESTER))  # pressed again
        ticket = await _ticket(app, ticket_id)
        audit = await _audit(app)
    assert ticket.status == "resolved"
    assert ticket.resolved_at is not None
    assert ticket.escalated_at is None
    assert ticket.claimed_at is None
    assert ("slack:U_ALICE", "ticket.resolved") in audit
    posts = _thread_posts(outlet)
    assert copy.solved_note("alice") in [p.text for p in posts]
    asks = [p for p in posts if p.text == copy.rating_ask(ticket_id)]
    assert len(asks) == 1
    assert asks[0].buttons.actions == (TicketAction.RATE_GOOD, TicketAction.RATE_BAD)
    # The thread card shows the resolved state and keeps the answer's buttons.
    update = next(r for r in outlet.sent if r.kind == "update_card" and r.ref.text == ANSWER)
    assert update.card.status == "resolved"
    assert update.ref.buttons is not None
    assert copy.already_solved(ticket_id) in _private(outlet)


async def test_the_requester_rates_and_nobody_else_may(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        await _run(app, _press(TicketAction.SOLVED, ticket_id, REQUESTER))
        await _run(app, _press(TicketAction.RATE_GOOD, ticket_id, LEAD))  # a lead may not
        assert (await _ticket(app, ticket_id)).satisfaction is None
        await _run(app, _press(TicketAction.RATE_BAD, ticket_id, REQUESTER))
        await _run(app, _press(TicketAction.RATE_GOOD, ticket_id, REQUESTER))  # changed mind
        ticket = await _ticket(app, ticket_id)
        audit = await _audit(app)
    assert ticket.satisfaction == "good"
    assert ticket.rated_at is not None
    assert copy.RATING_REQUESTER_ONLY in _private(outlet)
    assert copy.rating_thanks(False) in _private(outlet)
    assert ("slack:U_LEAD", "action.refused") in audit
    assert audit.count(("slack:U_ALICE", "ticket.rated")) == 2


async def test_a_stranger_pressing_the_requesters_buttons_changes_nothing(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        await _run(app, _press(TicketAction.SOLVED, ticket_id, STRANGER))
        await _run(app, _press(TicketAction.NEED_PERSON, ticket_id, STRANGER))
        ticket = await _ticket(app, ticket_id)
        audit = await _audit(app)
    assert ticket.status == "open"
    assert _private(outlet).count(copy.REQUESTER_BUTTONS_ONLY) == 2
    assert audit.count(("slack:U_MALLORY", "action.refused")) == 2
    assert not [r for r in outlet.sent if r.kind == "notify"]


async def test_i_need_a_person_escalates_with_the_requesters_reason_and_pings_the_leads(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        await _run(app, _press(TicketAction.NEED_PERSON, ticket_id, REQUESTER))
        await _run(app, _press(TicketAction.NEED_PERSON, ticket_id, REQUESTER))  # again
        ticket = await _ticket(app, ticket_id)
        audit = await _audit(app)
    assert ticket.status == "escalated"
    assert ticket.route_reason == copy.REQUESTER_ASKED
    assert ticket.sla_due_at is not None
    assert ("slack:U_ALICE", "ticket.person_requested") in audit
    (notice,) = [r for r in outlet.sent if r.kind == "notify"]
    assert notice.place.channel_id == "C_LEADS"
    assert notice.ping_leads
    assert notice.card is not None
    assert notice.card.ticket_id == ticket_id
    assert copy.person_asked_note(ticket_id) in [p.text for p in _thread_posts(outlet)]
    assert copy.already_with_person(ticket_id) in _private(outlet)


async def test_a_lead_may_hand_a_resolved_ticket_back_to_a_person(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        await _run(app, _press(TicketAction.SOLVED, ticket_id, LEAD))
        await _run(app, _press(TicketAction.NEED_PERSON, ticket_id, LEAD))
        ticket = await _ticket(app, ticket_id)
        audit = await _audit(app)
    assert ticket.status == "escalated"
    assert ticket.resolved_at is None
    assert [a for _, a in audit if a.startswith("ticket.")][-3:] == [
        "ticket.reopened",
        "ticket.escalated",
        "ticket.person_requested",
    ]


async def test_a_leads_resolve_asks_for_a_rating_once_per_ticket(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(triage_json(needs_human=True))
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        for action in (TicketAction.RESOLVE, TicketAction.REOPEN, TicketAction.RESOLVE):
            await _run(app, _press(action, ticket_id, LEAD))
    asks = [p for p in _thread_posts(outlet) if p.text == copy.rating_ask(ticket_id)]
    assert len(asks) == 1
    assert asks[0].place.thread_id == ROOT


async def test_csat_is_for_leads_and_counts_this_workspaces_ratings(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        await _run(app, _press(TicketAction.SOLVED, ticket_id, REQUESTER))
        await _run(app, _press(TicketAction.RATE_GOOD, ticket_id, REQUESTER))
        place = Place(platform=Platform.SLACK, workspace_id="T_ACME", channel_id="C_LEADS")
        other = place.model_copy(update={"workspace_id": "T_OTHER"})
        for actor, where in ((REQUESTER, place), (LEAD, place), (LEAD, other)):
            command = CommandInvoked(
                event_id=f"csat-{next(_counter)}", place=where, actor=actor, name="csat"
            )  # type: ignore[arg-type]
            await _run(app, command)
    refused, ours, theirs = _private(outlet)[-3:]
    assert refused == copy.leads_only_command("csat")
    assert ours == copy.satisfaction(30, good=1, bad=0, unrated=0)
    assert theirs == copy.satisfaction(30, good=0, bad=0, unrated=0)


async def test_a_mention_is_shown_seen_before_its_answer_and_the_sign_goes_after(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        async with db.sessions() as session:
            rows = (await session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all()
    keys = [r.key for r in rows]
    seen, card, done = (
        keys.index(f"msg:slack:{ROOT}:seen"),
        keys.index(f"ticket:{ticket_id}:card"),
        keys.index(f"msg:slack:{ROOT}:seen-done"),
    )
    assert seen < card < done  # one thread, one lane: the relay keeps this order
    assert [(s.message_id, s.done) for s in outlet.seen] == [(ROOT, False), (ROOT, True)]
    assert all(r.status == "sent" for r in rows)


async def test_the_seen_sign_is_written_with_the_mention_before_any_worker_runs(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, start=False) as app:
        await upgrade(app.database)  # the schema, but no worker and no relay
        assert await app.intake.submit(mention("How do I export?", message_id=ROOT))
        assert await app.intake.submit(mention("   ", message_id="1700000300.000999"))
        async with db.sessions() as session:
            rows = (await session.scalars(select(OutboxItem))).all()
    # Only the mention with a question gets one; an empty mention gets a hint instead.
    assert [(r.key, r.kind, r.status) for r in rows] == [
        (f"msg:slack:{ROOT}:seen", "seen", "pending")
    ]
