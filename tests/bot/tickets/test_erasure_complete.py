"""Erasure is complete: after a delete, a forget-me and retention, no copy of the text
is left in any column of any table (derived text included: summaries, answers, cards,
briefs, command answers, verdicts, errors, the audit trail).

The text goes in the way the pipeline takes it (a mention, an edit, lead actions and
commands, with the fake model echoing it into everything it writes); rows the pipeline
cannot easily produce (an event that failed with the text in its error, a failed model
call, an audit note) are inserted as the code that would write them would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import JSON, String, Text, cast, func, select

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
    PostReply,
    dump,
)
from bot.jobs.retention import run_retention
from bot.store.db import Database
from bot.store.models import AuditEntry, Base, InboxItem, LlmCall, Message, OutboxItem, Ticket
from bot.tickets.erasure import erase_user
from tests.bot.harness import ANSWER, Clock, RecordingOutlet, mention, running_app, triage_json
from tests.bot.pipeline.dump import database_dump
from tests.fakes.deepseek import FakeDeepSeek
from tests.settle import wait_settled

MARK = "CANARY-4f1e9a"
TEXT = f"My export breaks on {MARK} files, please help"
EDITED = f"My export breaks on {MARK} files since Monday, please help"
ROOT = "1700000200.000100"
LEAD = Actor(platform=Platform.SLACK, user_id="U_LEAD", display_name="lee")
ALICE = Actor(platform=Platform.SLACK, user_id="U_ALICE", display_name="alice")
_ids = iter(range(10_000))

# Where the pipeline itself puts copies; the inserted rows add the rest.
PIPELINE_COPIES = {
    "inbox.payload",
    "messages.text",
    "messages.reasoning",
    "summaries.text",
    "tickets.summary",
    "triage_runs.result",
    "outbox.payload",
}
STRAY_COPIES = {"inbox.last_error", "llm_calls.error", "audit_log.detail", "outbox.last_error"}


def _place(thread: str | None = ROOT, channel: str = "C_HELP") -> Place:
    return Place(
        platform=Platform.SLACK, workspace_id="T_ACME", channel_id=channel, thread_id=thread
    )


def _echo(body: dict[str, Any]) -> str:
    """The fake model, quoting the canary in everything it writes once it has seen it."""
    seen = MARK in json.dumps(body)
    if body.get("response_format", {}).get("type") == "json_object":
        return triage_json(summary=f"Export breaks on {MARK} files" if seen else "Asks a question")
    # Every text it writes is different, so each copy has to be found for what it is.
    return f"About {MARK}: re-run the export (note {next(_ids)})." if seen else ANSWER


async def copies(db: Database, needle: str = MARK) -> dict[str, int]:
    """`table.column` -> rows holding `needle`, over every text and JSON column."""
    found: dict[str, int] = {}
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | Text | JSON):
                    continue
                hits = await conn.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(cast(column, Text).contains(needle, autoescape=True))
                )
                if hits:
                    found[f"{table.name}.{column.name}"] = hits
    return found


async def assert_erased(db: Database) -> None:
    assert await copies(db) == {}
    assert MARK not in await database_dump(db)


async def _run(app: SupportApp, event: Event) -> None:
    assert await app.intake.submit(event)
    assert await wait_settled(app, "slack", event.event_id, within=30) == "done"


def _command(name: str, *args: str, actor: Actor = LEAD, thread: str | None = ROOT) -> Event:
    return CommandInvoked(
        event_id=f"cmd-{next(_ids)}", place=_place(thread), actor=actor, name=name, args=args
    )  # type: ignore[arg-type]


def _action(action: str, ticket_id: int, value: str | None = None) -> Event:
    return ActionInvoked(
        event_id=f"act-{next(_ids)}",
        place=_place(None, "C_LEADS"),
        actor=LEAD,
        action=action,  # type: ignore[arg-type]
        ticket_id=ticket_id,
        value=value,
    )


async def _ticket_id(app: SupportApp, thread: str) -> int:
    async with app.database.sessions() as session:
        found = await session.scalar(select(Ticket.id).where(Ticket.thread_id == thread))
    assert found is not None
    return found


async def _alice_opens_a_deep_ticket(
    app: SupportApp, fake: FakeDeepSeek, now: datetime | None = None
) -> int:
    """Alice asks; the reasoner answers with thinking; she edits; Bob and the leads join."""
    fake.reply(triage_json(summary=f"Export breaks on {MARK} files", confidence=0.3))
    fake.reply(
        f"About {MARK}: re-run it.",
        reasoning_content=f"They hit {MARK}; suggest re-run",
        for_model="deepseek-reasoner",
    )
    await _run(app, mention(TEXT, message_id=ROOT, posted_at=now))
    ticket_id = await _ticket_id(app, ROOT)
    await _run(
        app,
        MessageEdited(
            event_id=f"edit-{next(_ids)}", place=_place(), message_id=ROOT, new_text=EDITED
        ),
    )
    bob = mention("any update?", message_id="1700000200.000200", thread_id=ROOT, user="U_BOB")
    await _run(app, bob if now is None else bob.model_copy(update={"posted_at": now}))
    await _run(app, _action("reclassify", ticket_id, "bug:high"))
    await _run(app, _action("ask-reasoner", ticket_id))
    await _run(app, _command("summary"))
    await _run(app, _command("ticket", str(ticket_id), thread=None))
    return ticket_id


async def _insert_strays(db: Database, text: str, ticket_id: int, at: datetime) -> None:
    """Copies the pipeline makes on bad days: a failed event, a failed call, notes."""
    place = _place()
    async with db.sessions.begin() as session:
        event = MessageEdited(event_id="Ev-broken", place=place, message_id=ROOT, new_text=text)
        session.add(
            InboxItem(
                platform="slack",
                event_id=event.event_id,
                kind=event.kind,
                payload=dump(event),
                status="failed",
                attempts=5,
                last_error=f"DataError: invalid input for query argument $3: {text!r}",
                received_at=at,
            )
        )
        other = MessageDeleted(event_id="Ev-retry", place=place, message_id="1700000999.000001")
        session.add(
            InboxItem(
                platform="slack",
                event_id=other.event_id,
                kind=other.kind,
                payload=dump(other),
                status="pending",  # waiting for its retry, far off
                attempts=1,
                next_attempt_at=datetime.now(UTC) + timedelta(days=365),
                last_error=f"ValueError: cannot file {text}",
                received_at=at,
            )
        )
        session.add(
            LlmCall(
                ticket_id=None,
                purpose="triage",
                model="deepseek-chat",
                status="http_400",
                error=json.dumps({"error": {"message": f"bad input: {text}"}}),
                created_at=at,
            )
        )
        session.add(
            AuditEntry(
                actor="bot",
                action="ticket.noted",
                target=f"ticket:{ticket_id}",
                detail={"note": f"user wrote: {text}"},
                at=at,
            )
        )
        session.add(
            OutboxItem(
                key=f"stray:{ticket_id}",
                platform="slack",
                ticket_id=ticket_id,
                kind="post_reply",
                payload=dump(PostReply(place=place, text=f"You said: {text}")),
                status="pending",
                last_error=f"SlackApiError: msg_too_long for {text}",
                created_at=at,
            )
        )


async def _insert_waiting_message(db: Database, text: str) -> None:
    """Her message the worker has not taken yet (it failed once and waits for a retry)."""
    event = mention(text, message_id="1700000600.000100")
    async with db.sessions.begin() as session:
        session.add(
            InboxItem(
                platform="slack",
                event_id=event.event_id,
                kind=event.kind,
                payload=dump(event),
                status="pending",
                attempts=1,
                next_attempt_at=datetime.now(UTC) + timedelta(days=365),
                last_error="ConnectionError: database restarting",
            )
        )


async def _kept_texts(db: Database) -> dict[str, str | None]:
    async with db.sessions() as session:
        rows = (await session.execute(select(Message.message_id, Message.text))).all()
    return {m: t for m, t in rows if not m.startswith("bot:")}


async def test_a_deleted_message_leaves_no_copy_anywhere(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = _echo
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, summary_every_messages=1) as app:
        ticket_id = await _alice_opens_a_deep_ticket(app, fake_deepseek)
        await _insert_strays(db, EDITED, ticket_id, datetime.now(UTC))
        assert set(await copies(db)) >= PIPELINE_COPIES | STRAY_COPIES
        await _run(app, MessageDeleted(event_id="del-1", place=_place(None), message_id=ROOT))
        assert await copies(db) == {}
        # Asked again, the summary is written anew from what is left.
        await _run(app, _command("summary"))
    await assert_erased(db)
    assert (await _kept_texts(db))["1700000200.000200"] == "any update?"
    async with db.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
    assert (ticket.category, ticket.urgency) == ("bug", "high")


@pytest.mark.parametrize("how", ["forget-me", "supportbot forget"])
async def test_a_forgotten_person_leaves_no_copy_anywhere(
    how: str, db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = _echo
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, summary_every_messages=1) as app:
        first = await _alice_opens_a_deep_ticket(app, fake_deepseek)
        # A second ticket of hers goes to the leads: a card with her words in the leads channel.
        fake_deepseek.reply(triage_json(summary=f"Lost {MARK} invoices", needs_human=True))
        await _run(app, mention(f"Where are my {MARK} invoices?", message_id="1700000300.000100"))
        await _run(app, HomeOpened(event_id="home-1", place=_place(None, "C_HOME"), actor=LEAD))
        # And she chimes in on Bob's ticket.
        await _run(
            app, mention("How do I rotate keys?", message_id="1700000400.000100", user="U_BOB")
        )
        await _run(
            app,
            mention(
                f"Same here, and {MARK} shows up for me too",
                message_id="1700000400.000200",
                thread_id="1700000400.000100",
            ),
        )
        await _insert_strays(db, TEXT, first, datetime.now(UTC))
        await _insert_waiting_message(db, f"One more thing about {MARK}, sorry")
        assert set(await copies(db)) >= PIPELINE_COPIES | STRAY_COPIES
        if how == "forget-me":
            await _run(app, _command("forget-me", actor=ALICE, thread=None))
            answer = next(r for r in outlet.sent if r.kind == "ephemeral" and "erased" in r.text)
            assert "erased the text of 3" in answer.text
        else:
            erased = await erase_user(
                db.sessions, user_id="U_ALICE", actor="cli", now=datetime.now(UTC)
            )
            assert erased == 3
    await assert_erased(db)
    kept = await _kept_texts(db)
    assert kept["1700000200.000200"] == "any update?"
    assert kept["1700000400.000100"] == "How do I rotate keys?"


async def test_retention_leaves_no_copy_of_old_text_anywhere(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = _echo
    clock = Clock(datetime.now(UTC) - timedelta(days=31))
    async with running_app(
        db,
        fake_deepseek,
        RecordingOutlet(),
        clock=clock,
        retention_days=30,
        summary_every_messages=1,
    ) as app:
        ticket_id = await _alice_opens_a_deep_ticket(app, fake_deepseek, now=clock())
        await _insert_strays(db, EDITED, ticket_id, clock())
        assert set(await copies(db)) >= PIPELINE_COPIES | STRAY_COPIES
        clock.advance(days=31)
        await _run(
            app, mention("A new question", message_id="1700000500.000100", posted_at=clock())
        )
        assert await run_retention(app.jobs) > 0
    await assert_erased(db)
    assert (await _kept_texts(db))["1700000500.000100"] == "A new question"


async def test_an_edit_arriving_after_the_delete_does_not_bring_the_text_back(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = _echo
    async with running_app(db, fake_deepseek, RecordingOutlet()) as app:
        await _run(app, mention("Export to CSV loses accents", message_id=ROOT))
        await _run(app, MessageDeleted(event_id="del-2", place=_place(None), message_id=ROOT))
        late = MessageEdited(event_id="edit-late", place=_place(), message_id=ROOT, new_text=EDITED)
        await _run(app, late)
    assert (await _kept_texts(db))[ROOT] is None
    await assert_erased(db)
