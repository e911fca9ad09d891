"""Resolved tickets teach the knowledge base: draft on resolve, the form's draft for
leads only, the approved Q&A searchable, and erased with its requester."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.app import SupportApp
from bot.events import ActionInvoked, Actor, AnswerApproved, Event, Place, Platform
from bot.store.db import Database
from bot.store.kb_tables import KbDocument, KbDraft
from bot.store.models import AuditEntry, Ticket
from tests.bot.harness import RecordingOutlet, mention, running_app, settle, triage_json
from tests.fakes.deepseek import FakeDeepSeek

ROOT = "1700000200.000100"
LEAD = Actor(platform=Platform.SLACK, user_id="U_LEAD", display_name="lee")
USER = Actor(platform=Platform.SLACK, user_id="U_ALICE", display_name="alice")
LEADS = Place(platform=Platform.SLACK, workspace_id="T_ACME", channel_id="C_LEADS")
DRAFT = {
    "question": "How do I move my workspace data to the EU region?",
    "answer": "Open Settings, then Data residency, and pick Frankfurt. It takes about an hour.",
}
_ids = iter(range(10_000))


def _model(body: dict[str, Any]) -> str:
    if body.get("response_format", {}).get("type") == "json_object":
        return triage_json(needs_human=True, category="account", summary="Wants EU data")
    if "knowledge base" in body["messages"][0]["content"]:
        return json.dumps(DRAFT)
    return "A person will help."


async def _run(app: SupportApp, event: Event) -> None:
    assert await app.intake.submit(event)
    assert await settle(app, event.event_id) == "done"


async def _resolved_ticket(app: SupportApp) -> int:
    await _run(app, mention("Can alice@acme.com's data live in Europe?", message_id=ROOT))
    async with app.database.sessions() as session:
        ticket_id = (await session.scalars(select(Ticket.id))).one()
    await _run(
        app,
        ActionInvoked(
            event_id=f"act-{next(_ids)}",
            place=LEADS,
            actor=LEAD,
            action="resolve",  # type: ignore[arg-type]
            ticket_id=ticket_id,
        ),
    )
    return ticket_id


def _approved(
    ticket_id: int, actor: Actor = LEAD, place: Place = LEADS, **text: str
) -> AnswerApproved:
    return AnswerApproved(
        event_id=f"form-{next(_ids)}",
        place=place,
        actor=actor,
        ticket_id=ticket_id,
        question=text.get("question", DRAFT["question"]),
        answer=text.get("answer", DRAFT["answer"] + " Edited by the lead."),
    )


async def test_resolving_drafts_a_qa_that_only_leads_of_the_workspace_get(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = _model
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _resolved_ticket(app)
        draft = await app.drafts.draft_for(LEAD, LEADS, ticket_id)
        other = LEADS.model_copy(update={"workspace_id": "T_OTHER"})
        assert await app.drafts.draft_for(USER, LEADS, ticket_id) is None
        assert await app.drafts.draft_for(LEAD, other, ticket_id) is None
        assert await app.drafts.draft_for(LEAD, LEADS, 9999) is None
    assert draft is not None
    assert (draft.question, draft.answer) == (
        DRAFT["question"],
        DRAFT["answer"],
    )
    cards = [r.card for r in outlet.sent if r.kind == "update_card"]
    assert any("save-answer" in card.actions for card in cards)
    drafting = [
        b for b in fake_deepseek.chat_requests if "knowledge base" in b["messages"][0]["content"]
    ]
    assert len(drafting) == 1
    assert "alice@acme.com" not in json.dumps(drafting[0])  # redacted on intake


async def test_an_approved_answer_becomes_a_searchable_ticket_document(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = _model
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _resolved_ticket(app)
        await _run(app, _approved(ticket_id, answer=DRAFT["answer"] + " Ask bob@acme.com."))
        hits = await app.knowledge.search(["store our data in europe"], workspace_id="T_ACME")
        elsewhere = await app.knowledge.search(["store our data in europe"], workspace_id="T_X")
    assert hits[0].kind == "ticket"
    assert hits[0].location == f"ticket:{ticket_id}"
    assert "Frankfurt" in hits[0].text
    assert "bob@acme.com" not in hits[0].text
    assert elsewhere == []
    assert any("Saved ticket" in (getattr(r, "text", "") or "") for r in outlet.sent)
    async with db.sessions() as session:
        assert await session.get(KbDraft, ticket_id) is None
        saved = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "kb.answer_saved")
        )
    assert saved is not None
    assert saved.actor.endswith("U_LEAD")


async def test_non_leads_other_workspaces_and_blank_answers_save_nothing(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = _model
    async with running_app(db, fake_deepseek, RecordingOutlet()) as app:
        ticket_id = await _resolved_ticket(app)
        other = LEADS.model_copy(update={"workspace_id": "T_OTHER"})
        await _run(app, _approved(ticket_id, actor=USER))
        await _run(app, _approved(ticket_id, place=other))
        await _run(app, _approved(ticket_id, answer="   "))
        await _run(app, _approved(ticket_id, question="x" * 5000))
    async with db.sessions() as session:
        assert (await session.scalars(select(KbDocument))).all() == []
        refusals = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.action == "kb.refused")
            )
        ).all()
    assert len(refusals) == 2


async def test_with_no_model_the_draft_comes_from_the_thread(db: Database) -> None:
    async with running_app(db, None, RecordingOutlet()) as app:
        ticket_id = await _resolved_ticket(app)
        draft = await app.drafts.draft_for(LEAD, LEADS, ticket_id)
    assert draft is not None
    assert draft.question
    assert "alice@acme.com" not in draft.question


async def test_erasing_the_requester_removes_their_saved_answers(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    from datetime import UTC, datetime

    from bot.tickets.erasure import erase_user

    fake_deepseek.responder = _model
    async with running_app(db, fake_deepseek, RecordingOutlet()) as app:
        ticket_id = await _resolved_ticket(app)
        await _run(app, _approved(ticket_id))
        await erase_user(db.sessions, user_id="U_ALICE", actor="test", now=datetime.now(UTC))
        hits = await app.knowledge.search(["store our data in europe"], workspace_id="T_ACME")
    assert hits == []
    async with db.sessions() as session:
        assert (await session.scalars(select(KbDocument))).all() == []
