"""Where the bot listens on Discord: forum posts, help channels and denied channels,
with the real discord.py against the fake gateway and REST API."""

from __future__ import annotations

from sqlalchemy import select

from bot.config.playbook import Listening, Playbook, Playbooks
from bot.store.db import Database
from bot.store.models import Message, Ticket
from tests.adapters.discord.harness import ALICE, BOT, CHANNEL, DiscordStack, discord_stack
from tests.bot.harness import ANSWER, responder, triage_requests
from tests.fakes import discord_payloads as dp
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.discord import FakeDiscord

FORUM = 302
DENIED = 303


def _world(fake: FakeDiscord) -> None:
    """Two more channels in the guild: a forum (type 15) and a text channel."""
    forum = dp.channel_object(FORUM, "help-forum", position=2, topic="One post per question")
    forum.update(type=15, available_tags=[], default_forum_layout=1)
    fake.channels[FORUM] = forum
    fake.channels[DENIED] = dp.channel_object(DENIED, "general", position=3)


def _listening(**lists: tuple[str, ...]) -> Playbooks:
    return Playbooks(default=Playbook(listening=Listening(**lists)))


async def _forum_post(stack: DiscordStack, title: str, text: str) -> int:
    """Alice opens a post in the forum, as Discord sends it: the post (a thread in the
    forum) first, then its first message, which has the post's id."""
    post = stack.fake.next_id()
    thread = dp.thread_channel(post, FORUM, name=title)
    thread["owner_id"] = str(ALICE)
    stack.fake.threads[post] = thread  # the post exists, so the bot can write in it
    await stack.fake.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
    await stack.fake.dispatch(
        "MESSAGE_CREATE", dp.message_create(text, message_id=post, channel_id=post)
    )
    return post


async def _tickets(db: Database) -> list[Ticket]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Ticket))).all())


def _posts(fake: FakeDiscord, channel: int) -> list:
    return fake.calls_to("POST", rf"/channels/{channel}/messages")


async def test_a_forum_post_opens_a_ticket_answered_in_the_post(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    _world(fake_discord)
    playbooks = _listening(forum_channels=(str(FORUM),))
    async with discord_stack(db, fake_discord, fake_deepseek, playbooks=playbooks) as stack:
        post = await _forum_post(stack, "Export breaks accents", "Since Monday é becomes Ã©")
        assert await stack.settle(f"message:{post}") == "done"
        # A later message in the post belongs to its ticket; it asks nothing new.
        reply = fake_discord.next_id()
        later = dp.message_create("Still happening", message_id=reply, channel_id=post)
        await stack.fake.dispatch("MESSAGE_CREATE", later)
        assert await stack.settle(f"message:{reply}") == "done"
    (ticket,) = await _tickets(db)
    assert (ticket.channel_id, ticket.thread_id) == (str(FORUM), str(post))
    async with db.sessions() as session:
        people = select(Message.text).where(~Message.is_bot).order_by(Message.id)
        texts = (await session.scalars(people)).all()
    # The post's title leads its text: it is often the question itself.
    assert list(texts) == ["Export breaks accents\nSince Monday é becomes Ã©", "Still happening"]
    assert len(triage_requests(fake_deepseek)) == 1
    (answer,) = _posts(fake_discord, post)
    assert answer.json["embeds"][0]["title"] == f"Ticket #{ticket.id} · open"
    assert answer.json["content"] == ANSWER
    assert _posts(fake_discord, FORUM) == []
    # The post is its own thread: nothing tries to create one, and the 👀 is on the
    # post's first message, in the post.
    assert fake_discord.calls_to("POST", rf"/channels/{FORUM}/messages/{post}/threads") == []
    seen = rf"/channels/{post}/messages/{post}/reactions/.+/@me"
    assert fake_discord.calls_to("PUT", seen)
    assert fake_discord.calls_to("DELETE", seen)


async def test_a_message_in_a_help_channel_opens_a_ticket_without_a_mention(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    playbooks = _listening(help_channels=(str(CHANNEL),))
    question = fake_discord.next_id()
    async with discord_stack(db, fake_discord, fake_deepseek, playbooks=playbooks) as stack:
        data = dp.message_create("How do I export to CSV?", message_id=question)
        await stack.fake.dispatch("MESSAGE_CREATE", data)
        assert await stack.settle(f"message:{question}") == "done"
    (ticket,) = await _tickets(db)
    assert (ticket.channel_id, ticket.thread_id) == (str(CHANNEL), str(question))
    assert fake_discord.calls_to("POST", rf"/channels/{CHANNEL}/messages/{question}/threads")
    (answer,) = _posts(fake_discord, question)
    assert answer.json["content"] == ANSWER
    # 👀 on the question while it was answered, taken away after.
    seen = rf"/channels/{CHANNEL}/messages/{question}/reactions/.+/@me"
    assert fake_discord.calls_to("PUT", seen)
    assert fake_discord.calls_to("DELETE", seen)


async def test_a_denied_channel_opens_no_ticket_and_a_mention_there_gets_a_note(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    _world(fake_discord)
    playbooks = _listening(deny_channels=(str(DENIED),), help_channels=(str(DENIED),))
    chatter, asked = fake_discord.next_id(), fake_discord.next_id()
    async with discord_stack(db, fake_discord, fake_deepseek, playbooks=playbooks) as stack:
        said = dp.message_create("anyone around?", message_id=chatter, channel_id=DENIED)
        await stack.fake.dispatch("MESSAGE_CREATE", said)
        assert await stack.settle(f"message:{chatter}") == "done"
        mentioned = dp.message_create(
            f"<@{BOT}> can you help?", message_id=asked, channel_id=DENIED, mentions=[BOT]
        )
        await stack.fake.dispatch("MESSAGE_CREATE", mentioned)
        assert await stack.settle(f"message:{asked}") == "done"
    assert await _tickets(db) == []
    assert triage_requests(fake_deepseek) == []
    assert _posts(fake_discord, chatter) == []
    (note,) = _posts(fake_discord, asked)
    assert note.json["content"].startswith("Sorry, I don't take tickets in this channel.")
    assert _posts(fake_discord, DENIED) == []
