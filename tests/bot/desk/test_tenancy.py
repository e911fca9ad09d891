"""Tenants stay apart, tickets stay private, odd numbers get answers, retries finish.

Issue 10, items 1 (lead actions scoped to the ticket's workspace), 4 (tickets
private to the requester and leads; `public` for leads, in the ticket's channel),
12 (a ticket number beyond the database's range) and 14 (a retried lead action
completes what it started).
"""

from __future__ import annotations

from itertools import count

from sqlalchemy import select

from bot.app import SupportApp
from bot.events import ActionInvoked, Actor, CommandInvoked, Event, Place, Platform, Reply
from bot.store.db import Database
from bot.store.models import AuditEntry, Ticket
from tests.bot.harness import RecordingOutlet, mention, responder, running_app, settle, triage_json
from tests.fakes.deepseek import FakeDeepSeek
from tests.settle import wait_delivered

ROOT = "1700000200.000100"
LEAD = Actor(platform=Platform.SLACK, user_id="U_LEAD", display_name="lee")
REQUESTER = Actor(platform=Platform.SLACK, user_id="U_ALICE", display_name="alice")
STRANGER = Actor(platform=Platform.SLACK, user_id="U_BOB", display_name="bob")
SECRET = "invoice INV-7781 for the Wonka account"
_ids = count()


def _place(workspace: str = "T_ACME", channel: str = "C_HELP", thread: str | None = None) -> Place:
    return Place(
        platform=Platform.SLACK, workspace_id=workspace, channel_id=channel, thread_id=thread
    )


async def _run(app: SupportApp, event: Event) -> None:
    assert await app.intake.submit(event)
    assert await settle(app, event.event_id) == "done"


async def _open(app: SupportApp) -> int:
    await _run(app, mention(f"Charged twice, {SECRET}", message_id=ROOT))
    async with app.database.sessions() as session:
        return (await session.scalars(select(Ticket.id))).one()


def _press(action: str, ticket_id: int, *, workspace: str = "T_ACME") -> ActionInvoked:
    return ActionInvoked(
        event_id=f"act-{next(_ids)}",
        place=_place(workspace, "C_LEADS"),
        actor=LEAD,
        action=action,  # type: ignore[arg-type]
        ticket_id=ticket_id,
    )


def _ask(actor: Actor, *args: str, workspace: str = "T_ACME", channel: str = "C_HELP") -> Event:
    return CommandInvoked(
        event_id=f"cmd-{next(_ids)}",
        place=_place(workspace, channel),
        actor=actor,
        name="ticket",  # type: ignore[arg-type]
        args=args,
    )


def _answers(outlet: RecordingOutlet, since: int) -> list[Reply]:
    return [r for r in outlet.sent[since:] if r.kind in ("ephemeral", "post_reply")]


async def test_a_lead_of_another_workspace_cannot_act_on_a_ticket(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(triage_json(needs_human=True, summary=SECRET))
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, human_brief=False) as app:
        ticket_id = await _open(app)
        before = len(outlet.sent)
        calls_before = len(fake_deepseek.chat_requests)
        for action in ("claim", "resolve", "reclassify", "ask-reasoner"):
            await _run(app, _press(action, ticket_id, workspace="T_EVIL"))
    async with db.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        refused = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "action.refused"))
        ).all()
    assert (ticket.status, ticket.assignee_id) == ("escalated", None)
    sent = outlet.sent[before:]
    assert [r.kind for r in sent] == ["ephemeral"] * 4  # privately, to the one who pressed
    assert all(r.place.workspace_id == "T_EVIL" for r in sent)
    assert not any(SECRET in (r.text or "") for r in sent)  # no brief of B's content
    assert len(fake_deepseek.chat_requests) == calls_before  # the reasoner was not asked
    assert len(refused) == 4
    assert {r.detail["reason"] for r in refused} == {"another workspace"}


async def test_ticket_n_shows_a_ticket_only_to_its_requester_and_leads(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(triage_json(summary=SECRET))
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        shown: dict[str, str] = {}
        for who, event in {
            "requester": _ask(REQUESTER, str(ticket_id)),
            "lead": _ask(LEAD, str(ticket_id)),
            "stranger": _ask(STRANGER, str(ticket_id)),
            "other workspace": _ask(LEAD, str(ticket_id), workspace="T_EVIL"),
        }.items():
            before = len(outlet.sent)
            await _run(app, event)
            (answer,) = _answers(outlet, before)
            assert answer.kind == "ephemeral"
            shown[who] = answer.text or ""
    assert SECRET in shown["requester"]
    assert SECRET in shown["lead"]
    assert shown["stranger"] == f"There is no ticket #{ticket_id} here."
    assert shown["other workspace"] == f"There is no ticket #{ticket_id} here."


async def test_public_is_for_leads_and_only_in_the_tickets_channel(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(triage_json(summary=SECRET))
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        kinds = {}
        for who, event in {
            "requester here": _ask(REQUESTER, str(ticket_id), "public"),
            "lead elsewhere": _ask(LEAD, str(ticket_id), "public", channel="C_RANDOM"),
            "lead here": _ask(LEAD, str(ticket_id), "public"),
        }.items():
            before = len(outlet.sent)
            await _run(app, event)
            (answer,) = _answers(outlet, before)
            kinds[who] = (answer.kind, answer.place.channel_id, "just for you" in answer.text)
    assert kinds["requester here"] == ("ephemeral", "C_HELP", True)
    assert kinds["lead elsewhere"] == ("ephemeral", "C_RANDOM", True)
    assert kinds["lead here"] == ("post_reply", "C_HELP", False)


async def test_a_ticket_number_beyond_the_databases_range_is_no_such_ticket(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    huge = 2**40  # past PostgreSQL's INTEGER: asking for it would be an error there
    async with running_app(db, fake_deepseek, outlet) as app:
        await _run(app, _ask(LEAD, str(huge)))
        await _run(app, _press("claim", huge))
    texts = [r.text for r in outlet.sent if r.kind == "ephemeral"]
    assert texts == [f"There is no ticket #{huge} here.", f"Ticket #{huge} no longer exists."]


async def test_a_claim_whose_card_update_failed_still_updates_every_card(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(triage_json(needs_human=True))
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, reply_retry_base_seconds=0.05) as app:
        ticket_id = await _open(app)
        before = len(outlet.sent)
        outlet.fail_times, outlet.failures = 1, 0  # the first card update fails
        await _run(app, _press("claim", ticket_id))
        assert await wait_delivered(app) == 0  # the relay tried the update again
    sent = outlet.sent[before:]
    assert sorted(r.kind for r in sent) == ["post_reply", "update_card", "update_card"]
    assert all(r.card.status == "claimed" for r in sent if r.kind == "update_card")
    assert "has claimed this ticket" in next(r.text for r in sent if r.kind == "post_reply")
    assert not any("can't be claimed" in (getattr(r, "text", None) or "") for r in outlet.sent)
    async with db.sessions() as session:
        claims = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.claimed"))
        ).all()
    assert len(claims) == 1
