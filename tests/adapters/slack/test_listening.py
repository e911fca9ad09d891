"""Where the bot listens on Slack: help channels, allow and deny lists, over real HTTP."""

from __future__ import annotations

from sqlalchemy import select

from bot.config.playbook import Listening, Playbook, Playbooks
from bot.store.db import Database
from bot.store.models import InboxItem, Message, Ticket
from tests.adapters.slack.harness import mention_envelope, slack_stack
from tests.bot.harness import responder, triage_requests
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_payloads import app_mention, event_envelope, message

TS = "1700001000.000100"


def _listening(**lists: tuple[str, ...]) -> Playbooks:
    return Playbooks(default=Playbook(listening=Listening(**lists)))


def _message_envelope(
    text: str, *, channel: str, event_id: str, ts: str = TS, thread_ts: str | None = None
) -> dict:
    """A `message` event as `message.channels` delivers it."""
    event = message(text, user="U_ALICE", channel=channel, ts=ts, thread_ts=thread_ts)
    return event_envelope(event, event_id=event_id)


async def _tickets(db: Database) -> list[Ticket]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Ticket))).all())


async def test_a_top_level_message_in_a_help_channel_opens_a_ticket_answered_in_its_thread(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    playbooks = _listening(help_channels=("C_ASK",))
    async with slack_stack(db, fake_slack, fake_deepseek, playbooks=playbooks) as stack:
        body = _message_envelope("How do I export to CSV?", channel="C_ASK", event_id="EvAsk")
        assert (await stack.post_json(body)).status_code == 200
        assert await stack.settle("EvAsk") == "done"
        # The same words in a channel that is no help channel are chatter.
        chatter = _message_envelope(
            "How do I export?", channel="C_RANDOM", event_id="EvChat", ts="1700001001.000100"
        )
        assert (await stack.post_json(chatter)).status_code == 200
        assert await stack.settle("EvChat") == "done"
    (ticket,) = await _tickets(db)
    assert (ticket.channel_id, ticket.thread_id) == ("C_ASK", TS)
    assert len(triage_requests(fake_deepseek)) == 1
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert (post.params["channel"], post.params["thread_ts"]) == ("C_ASK", TS)
    assert post.blocks[0]["text"]["text"] == f"Ticket #{ticket.id} · open"
    # 👀 on the question while it was answered, taken away after.
    (added,) = fake_slack.calls_to("reactions.add")
    assert (added.params["channel"], added.params["timestamp"]) == ("C_ASK", TS)
    assert fake_slack.calls_to("reactions.remove")


async def test_app_mention_and_message_for_one_message_make_one_ticket(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    playbooks = _listening(help_channels=("C_ASK",))
    text = "<@U_BOT> my invoice is wrong"
    both = [
        event_envelope(app_mention(text, channel="C_ASK", ts=TS), event_id="EvMention"),
        _message_envelope(text, channel="C_ASK", event_id="EvMessage"),
    ]
    async with slack_stack(db, fake_slack, fake_deepseek, playbooks=playbooks) as stack:
        for body in both:
            assert (await stack.post_json(body)).status_code == 200
        assert await stack.settle("EvMention") == "done"
    assert len(await _tickets(db)) == 1
    async with db.sessions() as session:
        stored = (await session.scalars(select(Message.message_id).where(~Message.is_bot))).all()
        events = (await session.scalars(select(InboxItem.event_id))).all()
    assert list(stored) == [TS]
    assert list(events) == ["EvMention"]  # the message event is the mention's echo
    assert len(triage_requests(fake_deepseek)) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_a_mention_in_a_denied_channel_gets_a_polite_note_and_no_ticket(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    playbooks = _listening(deny_channels=("C_HELP",), help_channels=("C_ASK", "C_ASK2"))
    async with slack_stack(db, fake_slack, fake_deepseek, playbooks=playbooks) as stack:
        assert (await stack.post_json(mention_envelope("can you help?"))).status_code == 200
        assert await stack.settle("Ev0001") == "done"
    assert await _tickets(db) == []
    assert triage_requests(fake_deepseek) == []
    (note,) = fake_slack.calls_to("chat.postMessage")
    assert (note.params["channel"], note.params["thread_ts"]) == ("C_HELP", TS)
    shown = " ".join(str(b["text"]["text"]) for b in note.blocks if "text" in b)
    assert "don't take tickets in this channel" in shown
    assert "one of the help channels" in shown


async def test_an_allow_list_excludes_every_other_channel(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    playbooks = _listening(allow_channels=("C_SUPPORT",))
    elsewhere = mention_envelope("help here?")  # in C_HELP
    allowed = event_envelope(
        app_mention("help there?", channel="C_SUPPORT", ts="1700001002.000100"),
        event_id="EvAllowed",
    )
    async with slack_stack(db, fake_slack, fake_deepseek, playbooks=playbooks) as stack:
        for body in (elsewhere, allowed):
            assert (await stack.post_json(body)).status_code == 200
            assert await stack.settle(body["event_id"]) == "done"
    (ticket,) = await _tickets(db)
    assert ticket.channel_id == "C_SUPPORT"
    note, card = fake_slack.calls_to("chat.postMessage")
    assert (note.params["channel"], note.params["thread_ts"]) == ("C_HELP", TS)
    assert not note.blocks or note.blocks[0].get("type") != "header"
    assert card.params["channel"] == "C_SUPPORT"
    assert card.blocks[0]["text"]["text"] == f"Ticket #{ticket.id} · open"
