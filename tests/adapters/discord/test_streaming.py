"""Answers streamed on Discord: the first words posted at once, the rest edited in at
most about once a second, then the card and whole answer put in the same message."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import Message
from tests.adapters.discord.harness import BOT, discord_stack
from tests.bot.harness import ANSWER, responder, triage_json
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.deepseek_stream import StreamShape
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import message_create

ROOT = 910000000000000099


async def _mention(stack: object, fake: FakeDiscord) -> None:
    body = message_create(f"<@{BOT}> how do I export?", message_id=ROOT, mentions=[BOT])
    await fake.dispatch("MESSAGE_CREATE", body)
    assert await stack.settle(f"message:{ROOT}") == "done"  # type: ignore[attr-defined]


async def test_an_answer_is_posted_then_edited_as_it_is_written_then_lands_with_its_card(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_deepseek.stream_shape = StreamShape(first_token_delay=0.2, chunk_gap=0.15)
    async with discord_stack(db, fake_discord, fake_deepseek, stream_answers=True) as stack:
        await _mention(stack, fake_discord)
    (post,) = fake_discord.calls_to("POST", rf"/channels/{ROOT}/messages")
    assert post.json["content"]  # the first words
    assert len(post.json["content"]) < len(ANSWER)
    assert "embeds" not in post.json or not post.json["embeds"]
    edits = fake_discord.calls_to("PATCH", rf"/channels/{ROOT}/messages/\d+")
    growing, final = edits[:-1], edits[-1]
    seconds = (final.at - post.at) or 1.0
    assert len(growing) <= seconds / 1.0 + 1  # about once a second at most
    assert final.json["content"] == ANSWER
    assert final.json["embeds"][0]["title"] == "Ticket #1 · open"
    ids = [c["custom_id"] for row in final.json["components"] for c in row["components"]]
    assert "ticket:solved:1" in ids
    async with db.sessions() as session:
        texts = (await session.scalars(select(Message.text).where(Message.is_bot))).all()
    assert texts == [ANSWER]


async def test_a_cut_stream_is_completed_in_the_same_message(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json())
    fake_deepseek.reply(
        ANSWER, stream=StreamShape(words_per_chunk=3, cut_after=2, first_token_delay=0.3)
    )
    fake_deepseek.reply(ANSWER)
    async with discord_stack(db, fake_discord, fake_deepseek, stream_answers=True) as stack:
        await _mention(stack, fake_discord)
    assert len(fake_discord.calls_to("POST", rf"/channels/{ROOT}/messages")) == 1
    (message_id,) = fake_discord.messages[ROOT]  # one message in the thread
    final = fake_discord.calls_to("PATCH", rf"/channels/{ROOT}/messages/\d+")[-1]
    assert final.path == f"/channels/{ROOT}/messages/{message_id}"
    assert final.json["content"] == ANSWER
