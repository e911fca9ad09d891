"""Answers streamed on Slack while the model writes them: chat.startStream, appendStream
in timed batches, stopStream, then the whole answer with its card in place; through
bolt and slack-sdk against the fake Slack and a streaming fake DeepSeek."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from bot.llm.types import AttemptRecord
from bot.store.db import Database
from bot.store.models import LlmCall, Message
from tests.adapters.slack.harness import mention_envelope, slack_stack
from tests.bot.harness import ANSWER, responder, triage_json
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.deepseek_stream import StreamShape
from tests.fakes.slack import FakeSlack

THREAD = "1700001000.000100"
SLOW = StreamShape(words_per_chunk=2, first_token_delay=0.3, chunk_gap=0.15)


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def _answer_rows(db: Database) -> list[LlmCall]:
    async with db.sessions() as session:
        rows = await session.scalars(
            select(LlmCall).where(LlmCall.purpose == "answer").order_by(LlmCall.id)
        )
        return list(rows.all())


async def _bot_texts(db: Database) -> list[str | None]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Message.text).where(Message.is_bot))).all())


async def test_an_answer_streams_in_pieces_then_lands_whole_with_its_card_and_buttons(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_deepseek.stream_shape = SLOW
    async with slack_stack(db, fake_slack, fake_deepseek, stream_answers=True) as stack:
        await stack.post_json(mention_envelope("How do I export?"))
        assert await stack.settle("Ev0001") == "done"
    (started,) = fake_slack.calls_to("chat.startStream")
    assert started.params["thread_ts"] == THREAD
    assert started.params["recipient_user_id"] == "U_ALICE"
    assert started.params["recipient_team_id"] == "T_ACME"
    ((channel, ts), stream) = next(iter(fake_slack.streams.items()))
    assert channel == "C_HELP"
    assert len(stream.pieces) >= 3  # in pieces, batched in time rather than per word
    assert len(stream.pieces) < len(ANSWER.split()) / 2 + 2
    assert stream.text == _escaped(ANSWER)
    assert stream.stopped
    (final,) = fake_slack.calls_to("chat.update")
    assert final.params["ts"] == ts
    blocks = json.dumps(final.params["blocks"])
    assert "Ticket #1" in blocks
    assert "ticket:solved" in blocks
    assert fake_slack.calls_to("chat.postMessage") == []  # one message in all
    (row,) = await _answer_rows(db)
    assert row.status == "ok"
    assert row.completion_tokens > 0
    assert row.cost_usd > 0
    assert await _bot_texts(db) == [ANSWER]  # stored once, whole


async def test_the_first_words_show_within_half_a_second_of_the_models_first_token(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_deepseek.stream_shape = StreamShape(first_token_delay=1.0, chunk_gap=0.2)
    async with slack_stack(db, fake_slack, fake_deepseek, stream_answers=True) as stack:
        await stack.post_json(mention_envelope("How do I export?"))
        assert await stack.settle("Ev0001") == "done"
    answer_call = next(r for r in fake_deepseek.requests if r.json and r.json.get("stream"))
    (started,) = fake_slack.calls_to("chat.startStream")
    first_token_at = answer_call.at + 1.0
    assert started.at - first_token_at < 0.5


async def test_a_stream_cut_midway_is_completed_and_put_in_place(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json())
    cut = StreamShape(words_per_chunk=2, cut_after=3, first_token_delay=0.3, chunk_gap=0.1)
    fake_deepseek.reply(ANSWER, stream=cut)
    fake_deepseek.reply(ANSWER)  # asked again, in one piece
    async with slack_stack(db, fake_slack, fake_deepseek, stream_answers=True) as stack:
        await stack.post_json(mention_envelope("How do I export?"))
        assert await stack.settle("Ev0001") == "done"
    ((_, ts), stream) = next(iter(fake_slack.streams.items()))
    assert 0 < len(stream.text) < len(_escaped(ANSWER))  # part of it was shown
    (final,) = fake_slack.calls_to("chat.update")
    assert final.params["ts"] == ts
    assert "Settings" in json.dumps(final.params["blocks"])
    assert [(r.status, r.error is not None) for r in await _answer_rows(db)] == [
        ("stream_cut", True),
        ("ok", False),
    ]
    assert all("Settings" not in (r.error or "") for r in await _answer_rows(db))
    assert await _bot_texts(db) == [ANSWER]


async def test_an_answer_written_at_once_is_posted_whole_with_no_streaming_calls(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()  # the whole answer within milliseconds
    async with slack_stack(db, fake_slack, fake_deepseek, stream_answers=True) as stack:
        await stack.post_json(mention_envelope("How do I export?"))
        assert await stack.settle("Ev0001") == "done"
    assert fake_slack.calls_to("chat.startStream") == []
    assert fake_slack.calls_to("chat.update") == []
    (posted,) = fake_slack.calls_to("chat.postMessage")  # the answer and its card, once
    assert posted.params["thread_ts"] == THREAD
    blocks = json.dumps(posted.params["blocks"])
    assert "Ticket #1" in blocks
    assert "ticket:solved" in blocks
    assert await _bot_texts(db) == [ANSWER]


async def test_an_answer_written_at_once_is_posted_whole_while_its_cost_is_slow_to_store(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    # A busy bot stores the cost of a call late (here 0.5 s); the model had finished
    # writing by then, so the answer is still one message, not a stream and an edit.
    fake_deepseek.responder = responder()
    async with slack_stack(db, fake_slack, fake_deepseek, stream_answers=True) as stack:
        ledger = stack.app.recorder
        record = ledger.record

        async def slow_record(attempt: AttemptRecord) -> None:
            await asyncio.sleep(0.5)
            await record(attempt)

        ledger.record = slow_record  # type: ignore[method-assign]
        await stack.post_json(mention_envelope("How do I export?"))
        assert await stack.settle("Ev0001") == "done"
    assert fake_slack.calls_to("chat.startStream") == []
    assert fake_slack.calls_to("chat.update") == []
    (posted,) = fake_slack.calls_to("chat.postMessage")
    assert "Ticket #1" in json.dumps(posted.params["blocks"])
    (row,) = await _answer_rows(db)
    assert row.status == "ok"  # its cost is stored all the same
    assert await _bot_texts(db) == [ANSWER]


async def test_a_ticket_for_a_person_streams_nothing(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(triage_json(needs_human=True))
    fake_deepseek.stream_shape = SLOW
    async with slack_stack(db, fake_slack, fake_deepseek, stream_answers=True) as stack:
        await stack.post_json(mention_envelope("I want a refund"))
        assert await stack.settle("Ev0001") == "done"
    assert fake_slack.calls_to("chat.startStream") == []
    assert fake_slack.streams == {}
