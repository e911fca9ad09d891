"""Thread follow-ups, edits and deletes, slash commands and lead actions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.app import SupportApp
from bot.events import (
    ActionInvoked,
    Actor,
    CommandInvoked,
    Event,
    HomeOpened,
    MessageDeleted,
    MessageEdited,
    Place,
    Platform,
)
from bot.store.db import Database
from bot.store.models import AuditEntry, Message, Summary, Ticket, TriageRun
from tests.bot.harness import (
    RecordingOutlet,
    mention,
    responder,
    running_app,
    settle,
    triage_json,
)
from tests.fakes.deepseek import FakeDeepSeek

ROOT = "1700000100.000100"
LEAD = Actor(platform=Platform.SLACK, user_id="U_LEAD", display_name="lee")
USER = Actor(platform=Platform.SLACK, user_id="U_ALICE", display_name="alice")
_counter = iter(range(10_000))


def _place(thread: str | None = ROOT, channel: str = "C_HELP") -> Place:
    return Place(
        platform=Platform.SLACK, workspace_id="T_ACME", channel_id=channel, thread_id=thread
    )


async def _run(app: SupportApp, event: Event) -> None:
    assert await app.intake.submit(event)
    assert await settle(app, event.event_id) == "done"


def _command(
    name: str, *args: str, actor: Actor = LEAD, thread: str | None = ROOT
) -> CommandInvoked:
    return CommandInvoked(
        event_id=f"cmd-{next(_counter)}", place=_place(thread), actor=actor, name=name, args=args
    )  # type: ignore[arg-type]


def _action(
    action: str, ticket_id: int, *, actor: Actor = LEAD, value: str | None = None
) -> ActionInvoked:
    return ActionInvoked(
        event_id=f"act-{next(_counter)}",
        place=_place(None, "C_LEADS"),
        actor=actor,
        action=action,
        ticket_id=ticket_id,
        value=value,
    )  # type: ignore[arg-type]


async def _open(app: SupportApp) -> int:
    await _run(app, mention("Export to CSV loses accents", message_id=ROOT))
    async with app.database.sessions() as session:
        return (await session.scalars(select(Ticket.id))).one()


async def test_thread_messages_are_stored_and_only_mentions_answered(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        await _open(app)
        before = len(outlet.sent)
        await _run(
            app,
            mention(
                "it's the é and ñ",
                message_id="1700000100.000200",
                thread_id=ROOT,
                mentions_bot=False,
            ),
        )
        assert len(outlet.sent) == before  # stored, not answered
        await _run(app, mention("any update?", message_id="1700000100.000300", thread_id=ROOT))
        assert len(outlet.sent) == before + 1
        await _run(
            app, mention("chatter elsewhere", message_id="1700000100.000400", mentions_bot=False)
        )  # top level, no mention: ignored
    async with db.sessions() as session:
        texts = (
            await session.scalars(select(Message.text).where(~Message.is_bot).order_by(Message.id))
        ).all()
        tickets = (await session.scalars(select(Ticket))).all()
    assert texts == ["Export to CSV loses accents", "it's the é and ñ", "any update?"]
    assert len(tickets) == 1


async def test_edits_update_and_deletes_erase_text_and_summaries(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with running_app(db, fake_deepseek, RecordingOutlet()) as app:
        ticket_id = await _open(app)
        await _run(
            app,
            MessageEdited(
                event_id="ed-1",
                place=_place(None),
                message_id=ROOT,
                new_text="Export to CSV loses accents (Excel)",
            ),
        )
        await app.summaries.refresh(ticket_id)
        await _run(app, MessageDeleted(event_id="del-1", place=_place(None), message_id=ROOT))
    async with db.sessions() as session:
        root = (await session.scalars(select(Message).where(Message.message_id == ROOT))).one()
        summaries = (await session.scalars(select(Summary.text))).all()
        audit = (await session.scalars(select(AuditEntry))).all()
    assert root.text is None
    assert root.deleted_at is not None
    assert root.edited_at is not None
    assert summaries
    assert all(text is None for text in summaries)
    erased = [a for a in audit if a.action == "message.erased"]
    assert len(erased) == 1
    assert "accents" not in str(erased[0].detail)


async def test_summary_in_a_thread_and_in_a_channel(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(answer="- Wants CSV export with accents kept")
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        await _run(app, _command("summary", actor=USER))
        await _run(app, _command("summary", actor=USER, thread=None))
    in_thread, in_channel = [r for r in outlet.sent if r.kind == "ephemeral"]
    assert f"Ticket #{ticket_id}" in in_thread.text
    assert "Wants CSV export with accents kept" in in_thread.text
    assert in_thread.actor.user_id == "U_ALICE"
    assert f"#{ticket_id}" in in_channel.text
    assert "Open tickets in this channel" in in_channel.text
    async with db.sessions() as session:
        assert (await session.scalars(select(Summary))).one().ticket_id == ticket_id


async def test_lead_commands_refuse_non_leads_and_audit_it(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        await _run(app, _command("escalations", actor=USER))
        await _run(app, _command("costs", "7d", actor=LEAD))
    refusal, costs = [r for r in outlet.sent if r.kind == "ephemeral"]
    assert "Only support leads" in refusal.text
    assert "Spend in the last 7d" in costs.text
    async with db.sessions() as session:
        refused = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "command.refused"))
        ).one()
    assert refused.actor == "slack:U_ALICE"


async def test_claim_by_a_lead_updates_ticket_cards_and_audit_and_non_leads_are_refused(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(triage_json(needs_human=True, urgency="high"))
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        await _run(app, _action("claim", ticket_id, actor=USER))
        async with db.sessions() as session:
            assert (await session.get_one(Ticket, ticket_id)).status == "escalated"
        await _run(app, _action("claim", ticket_id))
        await _run(app, _action("claim", ticket_id))  # a second press: told, not re-claimed
        await _run(app, _action("resolve", ticket_id))
    async with db.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        audit = [
            (a.actor, a.action)
            for a in (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        ]
    assert (ticket.status, ticket.assignee_id) == ("resolved", "U_LEAD")
    assert ticket.claimed_at is not None
    assert ticket.resolved_at is not None
    assert ("slack:U_ALICE", "action.refused") in audit
    assert ("slack:U_LEAD", "ticket.claimed") in audit
    assert ("slack:U_LEAD", "ticket.resolved") in audit
    updates = [r for r in outlet.sent if r.kind == "update_card"]
    assert {u.ref.place.channel_id for u in updates} == {"C_HELP", "C_LEADS"}  # both cards
    assert [u.card.status for u in updates] == ["claimed", "claimed", "resolved", "resolved"]
    ephemerals = [r.text for r in outlet.sent if r.kind == "ephemeral"]
    assert any("Only support leads" in t for t in ephemerals)
    assert any("can't be claimed now" in t for t in ephemerals)


async def test_reclassify_is_stored_as_a_human_triage_run(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with running_app(db, fake_deepseek, RecordingOutlet()) as app:
        ticket_id = await _open(app)
        await _run(app, _action("reclassify", ticket_id, value="bug:high"))
        await _run(app, _action("reclassify", ticket_id, value="nonsense"))
    async with db.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        runs = (await session.scalars(select(TriageRun).order_by(TriageRun.id))).all()
    assert (ticket.category, ticket.urgency) == ("bug", "high")
    assert [r.source for r in runs] == ["llm", "human"]
    assert runs[1].result["previous"] == {"category": "feature_request", "urgency": "low"}


async def test_forget_me_erases_only_the_callers_text(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        await _open(app)
        await _run(
            app,
            mention(
                "me too!",
                message_id="1700000100.000900",
                thread_id=ROOT,
                user="U_BOB",
                mentions_bot=False,
            ),
        )
        await _run(app, _command("forget-me", actor=USER))
    async with db.sessions() as session:
        rows = {
            (m.author_id, m.text)
            for m in (await session.scalars(select(Message))).all()
            if not m.is_bot
        }
    assert rows == {("U_ALICE", None), ("U_BOB", "me too!")}
    assert "erased the text of 1" in next(r for r in outlet.sent if r.kind == "ephemeral").text


async def test_unknown_ticket_action_gets_a_clear_answer(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        await _run(app, _action("claim", 999))
    assert "no longer exists" in outlet.sent[0].text


async def test_rolling_summary_refreshes_after_n_messages(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(answer="- summary line")
    async with running_app(db, fake_deepseek, RecordingOutlet(), summary_every_messages=3) as app:
        await _open(app)
        for i in range(2):
            await _run(
                app,
                mention(
                    f"detail {i}",
                    message_id=f"1700000100.00{i}500",
                    thread_id=ROOT,
                    mentions_bot=False,
                ),
            )
    async with db.sessions() as session:
        summaries = (await session.scalars(select(Summary))).all()
        ticket = (await session.scalars(select(Ticket))).one()
    assert len(summaries) == 1
    assert summaries[0].text == "- summary line"
    assert ticket.messages_since_summary == 0
    assert datetime.now(UTC) >= summaries[0].created_at


async def test_home_shows_leads_their_queue_and_others_a_how_to(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(triage_json(needs_human=True, urgency="high"))
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        ticket_id = await _open(app)
        await _run(app, HomeOpened(event_id="home-1", place=_place(None, "D_HOME"), actor=LEAD))
        await _run(app, HomeOpened(event_id="home-2", place=_place(None, "D_HOME"), actor=USER))
    lead_home, user_home = [r for r in outlet.sent if r.kind == "publish_home"]
    titles = [s.title for s in lead_home.sections]
    assert titles == ["Open escalations (1)", "Today's tickets by category", "Today's spend"]
    assert f"#{ticket_id} high feature_request" in lead_home.sections[0].lines[0]
    assert "due in" in lead_home.sections[0].lines[0]
    assert lead_home.sections[1].lines == ("feature_request: 1",)
    assert user_home.sections[0].title == "Getting help"


async def test_public_asks_for_an_answer_everyone_sees(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet) as app:
        await _run(app, _command("help", "public", actor=USER, thread=None))
    (reply,) = outlet.sent
    assert reply.kind == "post_reply"
    assert "supportbot commands" in (reply.text or "")
