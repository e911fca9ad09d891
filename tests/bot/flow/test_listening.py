"""Where the bot listens: allow and deny lists, help channels, per workspace."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import SupportApp
from bot.config.playbook import Listening, Playbook, Playbooks
from bot.events import Actor, MessagePosted, Platform, PostReply
from bot.flow.listening import not_here_text
from bot.store.db import Database
from bot.store.models import Message, OutboxItem, Ticket
from tests.bot.harness import (
    ANSWER,
    RecordingOutlet,
    mention,
    responder,
    running_app,
    settle,
    triage_requests,
)
from tests.fakes.deepseek import FakeDeepSeek

ROOT = "1700000500.000100"
LATER = "1700000600.000100"


def _listening(**lists: tuple[str, ...]) -> Playbooks:
    return Playbooks(default=Playbook(listening=Listening(**lists)))


def _said(text: str, *, channel: str, message_id: str = ROOT, **kwargs: object) -> MessagePosted:
    """A message that does not mention the bot."""
    return mention(text, channel=channel, message_id=message_id, mentions_bot=False, **kwargs)  # type: ignore[arg-type]


async def _run(app: SupportApp, event: MessagePosted) -> None:
    assert await app.intake.submit(event)
    assert await settle(app, event.event_id) == "done"


async def _tickets(db: Database) -> list[Ticket]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Ticket))).all())


async def _outbox_keys(db: Database) -> list[str]:
    async with db.sessions() as session:
        return list((await session.scalars(select(OutboxItem.key).order_by(OutboxItem.id))).all())


def _posts(outlet: RecordingOutlet) -> list[PostReply]:
    return [r for r in outlet.sent if isinstance(r, PostReply)]


async def test_a_new_message_in_a_help_channel_opens_a_ticket_without_a_mention(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    playbooks = _listening(help_channels=("C_ASK",))
    async with running_app(db, fake_deepseek, outlet, playbooks=playbooks) as app:
        await _run(app, _said("How do I export to CSV?", channel="C_ASK"))
        await _run(app, _said("lunch anyone?", channel="C_RANDOM", message_id=LATER))
    (ticket,) = await _tickets(db)
    assert (ticket.channel_id, ticket.thread_id, ticket.root_message_id) == ("C_ASK", ROOT, ROOT)
    assert ticket.route is not None  # triaged as a mention's ticket would be
    assert len(triage_requests(fake_deepseek)) == 1
    (answer,) = _posts(outlet)
    assert (answer.place.channel_id, answer.place.thread_id) == ("C_ASK", ROOT)
    assert answer.text == ANSWER
    # Seen at once, the sign taken away once answered; the chatter elsewhere got nothing.
    assert [(s.message_id, s.done) for s in outlet.seen] == [(ROOT, False), (ROOT, True)]


async def test_a_help_channel_ignores_thread_replies_bots_and_empty_messages(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    robot = Actor(platform=Platform.SLACK, user_id="U_ROBOT", is_bot=True)
    playbooks = _listening(help_channels=("C_ASK",))
    async with running_app(db, fake_deepseek, outlet, playbooks=playbooks) as app:
        await _run(app, _said("a reply in someone's thread", channel="C_ASK", thread_id=LATER))
        bot_says = _said("Deploy finished", channel="C_ASK", message_id="1700000700.000100")
        await _run(app, bot_says.model_copy(update={"author": robot}))
        await _run(app, _said("   ", channel="C_ASK", message_id="1700000800.000100"))
    assert await _tickets(db) == []
    assert outlet.sent == []
    assert outlet.seen == []
    assert triage_requests(fake_deepseek) == []


async def test_a_mention_in_a_help_channel_opens_one_ticket_even_seen_twice(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    playbooks = _listening(help_channels=("C_ASK",))
    async with running_app(db, fake_deepseek, outlet, playbooks=playbooks) as app:
        # Slack sends a mention as app_mention and as message: two event ids, one message.
        await _run(app, mention("How do I export?", channel="C_ASK", message_id=ROOT))
        await _run(app, _said("How do I export?", channel="C_ASK", event_id="EvPlain"))
    assert len(await _tickets(db)) == 1
    async with db.sessions() as session:
        stored = (await session.scalars(select(Message.message_id).where(~Message.is_bot))).all()
    assert list(stored) == [ROOT]
    assert len(triage_requests(fake_deepseek)) == 1
    assert [p.text for p in _posts(outlet)] == [ANSWER]


async def test_a_mention_in_a_denied_channel_gets_one_polite_note_and_no_ticket(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    playbooks = _listening(deny_channels=("C_GENERAL",), help_channels=("C_ASK",))
    async with running_app(db, fake_deepseek, outlet, playbooks=playbooks) as app:
        await _run(app, mention("Can you help?", channel="C_GENERAL", message_id=ROOT))
        # Delivered again under another id (a replay): still one note.
        await _run(
            app, mention("Can you help?", channel="C_GENERAL", message_id=ROOT, event_id="EvAgain")
        )
        await _run(app, _said("just chatting", channel="C_GENERAL", message_id=LATER))
    assert await _tickets(db) == []
    assert triage_requests(fake_deepseek) == []
    (note,) = _posts(outlet)
    assert (note.place.channel_id, note.place.thread_id) == ("C_GENERAL", ROOT)
    assert note.text == not_here_text(1)
    assert "don't take tickets in this channel" in note.text
    assert "the help channel" in note.text
    assert f"msg:slack:{ROOT}:not-here" in await _outbox_keys(db)
    # The 👀 shown at intake does not stay behind.
    assert [(s.message_id, s.done) for s in outlet.seen] == [(ROOT, False), (ROOT, True)]


async def test_an_allow_list_keeps_the_bot_out_of_every_other_channel(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    playbooks = _listening(allow_channels=("C_SUPPORT",))
    async with running_app(db, fake_deepseek, outlet, playbooks=playbooks) as app:
        await _run(app, mention("Help me here?", channel="C_OTHER", message_id=ROOT))
        await _run(app, mention("Help me there?", channel="C_SUPPORT", message_id=LATER))
    (ticket,) = await _tickets(db)
    assert ticket.channel_id == "C_SUPPORT"
    note, answer = _posts(outlet)
    assert (note.place.channel_id, note.text) == ("C_OTHER", not_here_text(0))
    assert (answer.place.channel_id, answer.text) == ("C_SUPPORT", ANSWER)


async def test_a_ticket_already_open_keeps_working_when_its_channel_is_denied(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with running_app(db, fake_deepseek, RecordingOutlet()) as app:
        await _run(app, mention("Export loses accents", channel="C_HELP", message_id=ROOT))
    outlet = RecordingOutlet()
    playbooks = _listening(deny_channels=("C_HELP",))
    async with running_app(db, fake_deepseek, outlet, playbooks=playbooks) as app:
        follow_up = mention("Still broken", channel="C_HELP", message_id=LATER, thread_id=ROOT)
        await _run(app, follow_up)
    assert len(await _tickets(db)) == 1
    async with db.sessions() as session:
        people = select(Message.message_id).where(~Message.is_bot).order_by(Message.id)
        stored = (await session.scalars(people)).all()
    assert list(stored) == [ROOT, LATER]
    (reply,) = _posts(outlet)
    assert reply.place.thread_id == ROOT
    assert reply.text != not_here_text(0)


async def test_help_channels_are_per_workspace(db: Database, fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    theirs = Playbook(listening=Listening(help_channels=("C_ASK",)))
    playbooks = Playbooks(workspaces={"T_OTHER": theirs})
    async with running_app(db, fake_deepseek, outlet, playbooks=playbooks) as app:
        ours = _said("How do I export?", channel="C_ASK")
        await _run(app, ours)
        place = ours.place.model_copy(update={"workspace_id": "T_OTHER"})
        other = ours.model_copy(update={"place": place, "event_id": "EvOther"})
        await _run(app, other)
    (ticket,) = await _tickets(db)
    assert ticket.workspace_id == "T_OTHER"
