"""`DeepSeekClient.chat_stream` against the fake server, with the real cost ledger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.llm.client import DeepSeekClient
from bot.llm.errors import InsufficientBalance, InvalidRequest, LLMStreamCut, LLMTimeout
from bot.llm.pricing import PriceTable
from bot.llm.types import AttemptRecord, CallContext, ChatResult
from bot.store.db import Database
from bot.store.ledger import SqlCallRecorder
from bot.store.models import LlmCall
from tests.conftest import FAKE_KEY
from tests.fakes.deepseek import FakeDeepSeek, StreamShape

CONTEXT = CallContext(purpose="answer", workspace_id="T042", user_id="U007")
SYSTEM = "You are the support assistant of Acme. Answer briefly and kindly. " * 20
MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "How do I export my invoices?"},
]
ANSWER = "Open Billing, choose Invoices, then press Export as CSV at the top right."
PRICES = PriceTable.load()

MakeClient = Callable[..., DeepSeekClient]


class Pieces:
    """An `on_text` that keeps what it was given, in order."""

    def __init__(self) -> None:
        self.got: list[str] = []

    async def __call__(self, text: str) -> None:
        """Keep one delta."""
        self.got.append(text)

    @property
    def text(self) -> str:
        """Everything received, joined."""
        return "".join(self.got)


@pytest.fixture
async def make_client(
    fake_deepseek: FakeDeepSeek, ledger: SqlCallRecorder
) -> AsyncIterator[MakeClient]:
    """Clients pointed at the fake (or `base_url=`), writing to the ledger, fast backoff."""
    clients: list[DeepSeekClient] = []

    def make(**overrides: Any) -> DeepSeekClient:
        options: dict[str, Any] = {
            "api_key": SecretStr(FAKE_KEY),
            "base_url": fake_deepseek.base_url,
            "prices": PRICES,
            "recorder": ledger,
            "timeout": 5.0,
            "deadline": 30.0,
            "backoff_initial": 0.01,
            "backoff_max": 0.05,
        }
        clients.append(DeepSeekClient(**(options | overrides)))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


async def ledger_rows(db: Database) -> list[LlmCall]:
    async with db.sessions() as session:
        return list((await session.scalars(select(LlmCall).order_by(LlmCall.id))).all())


async def stream(client: DeepSeekClient, pieces: Pieces, **options: Any) -> ChatResult:
    return await client.chat_stream(
        MESSAGES, model=options.pop("model", "deepseek-chat"), context=CONTEXT, on_text=pieces
    )


def tokens(row: LlmCall) -> tuple[int, int, int, int]:
    return (
        row.prompt_cache_hit_tokens,
        row.prompt_cache_miss_tokens,
        row.completion_tokens,
        row.reasoning_tokens,
    )


# --- a whole streamed answer ------------------------------------------------------------


async def test_a_streamed_answer_costs_and_records_what_a_plain_one_does(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    fake_deepseek.reply(ANSWER)
    pieces = Pieces()
    streamed = await stream(make_client(), pieces)
    async with FakeDeepSeek(api_key=FAKE_KEY) as other:  # a fresh cache: same figures
        other.reply(ANSWER)
        plain = await make_client(base_url=other.base_url).chat(
            MESSAGES, model="deepseek-chat", context=CONTEXT
        )

    assert len(pieces.got) > 5
    assert pieces.text == streamed.content == plain.content == ANSWER
    assert (streamed.finish_reason, streamed.reasoning_content) == ("stop", None)
    assert streamed.usage == plain.usage
    assert streamed.usage.completion_tokens > 0
    assert streamed.cost_usd == plain.cost_usd > 0
    assert streamed.request_id
    (sent,) = fake_deepseek.chat_requests
    assert (sent["stream"], sent["stream_options"]) == (True, {"include_usage": True})
    assert sent["messages"] == MESSAGES
    streamed_row, plain_row = await ledger_rows(db)
    assert (streamed_row.status, streamed_row.attempt, streamed_row.error) == ("ok", 1, None)
    assert tokens(streamed_row) == tokens(plain_row)
    assert streamed_row.cost_usd == plain_row.cost_usd
    assert streamed_row.request_id == streamed.request_id


async def test_the_end_is_told_once_the_whole_answer_is_in_before_it_is_recorded(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    fake_deepseek.fail(500)  # an attempt that fails before any text: retried
    fake_deepseek.reply(ANSWER)
    pieces, seen = Pieces(), []

    class Ledger:
        async def record(self, attempt: AttemptRecord) -> None:
            seen.append(f"recorded {attempt.status}")

    def on_end() -> None:
        seen.append(f"ended with {pieces.text!r}")

    await make_client(recorder=Ledger()).chat_stream(
        MESSAGES, model="deepseek-chat", context=CONTEXT, on_text=pieces, on_end=on_end
    )
    assert seen == ["recorded http_500", f"ended with {ANSWER!r}", "recorded ok"]


async def test_a_cut_stream_tells_no_end(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    fake_deepseek.reply(ANSWER, stream=StreamShape(cut_after=3))
    ended: list[bool] = []
    with pytest.raises(LLMStreamCut):
        await make_client().chat_stream(
            MESSAGES,
            model="deepseek-chat",
            context=CONTEXT,
            on_text=Pieces(),
            on_end=lambda: ended.append(True),
        )
    assert ended == []


@pytest.mark.parametrize("usage_chunk", [False, True], ids=["on-finish-chunk", "separate-chunk"])
async def test_usage_is_taken_wherever_it_rides(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database, usage_chunk: bool
) -> None:
    fake_deepseek.reply(ANSWER, stream=StreamShape(usage_chunk=usage_chunk, words_per_chunk=3))
    result = await stream(make_client(), Pieces())
    assert result.usage.completion_tokens == (len(ANSWER) * 3 + 9) // 10
    assert result.usage.cache_miss_tokens > 0
    (row,) = await ledger_rows(db)
    assert row.completion_tokens == result.usage.completion_tokens
    assert row.cost_usd > 0


async def test_keepalive_comments_and_blank_lines_are_skipped(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    fake_deepseek.reply(ANSWER, keepalive_lines=4, stream=StreamShape(keepalive_every=1))
    pieces = Pieces()
    result = await stream(make_client(), pieces)
    assert pieces.text == result.content == ANSWER


async def test_reasoning_is_collected_but_not_passed_on(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    thoughts = "The user wants the export path; Billing holds it."
    fake_deepseek.reply(ANSWER, reasoning_content=thoughts)
    pieces = Pieces()
    result = await stream(make_client(), pieces, model="deepseek-reasoner")
    assert pieces.text == ANSWER
    assert result.reasoning_content == thoughts
    assert result.usage.reasoning_tokens > 0
    assert not any("Billing holds" in piece for piece in pieces.got)


async def test_explicit_pieces_arrive_as_given(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    fake_deepseek.reply("Hello world", stream=StreamShape(pieces=("Hel", "lo wo", "rld")))
    pieces = Pieces()
    await stream(make_client(), pieces)
    assert pieces.got == ["Hel", "lo wo", "rld"]


# --- failures before the first token are retried ---------------------------------------


async def test_an_error_answer_before_any_text_is_retried(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    fake_deepseek.fail(503)
    fake_deepseek.reply(ANSWER)
    pieces = Pieces()
    result = await stream(make_client(), pieces)
    assert pieces.text == result.content == ANSWER
    failed, ok = await ledger_rows(db)
    assert [(failed.status, failed.attempt), (ok.status, ok.attempt)] == [
        ("http_503", 1),
        ("ok", 2),
    ]
    assert failed.request_id  # the error answer's x-request-id


async def test_a_cut_before_the_first_token_is_retried(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    fake_deepseek.reply(ANSWER, stream=StreamShape(cut_after=0))
    fake_deepseek.reply(ANSWER)
    pieces = Pieces()
    await stream(make_client(), pieces)
    assert pieces.text == ANSWER  # nothing from the first attempt reached the reader
    rows = await ledger_rows(db)
    assert [r.status for r in rows] == ["connection_error", "ok"]
    assert len(fake_deepseek.chat_requests) == 2


async def test_a_slow_first_token_times_out_and_is_retried(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    fake_deepseek.reply(ANSWER, stream=StreamShape(first_token_delay=2))
    fake_deepseek.reply(ANSWER)
    result = await stream(make_client(timeout=0.3), Pieces())
    assert result.content == ANSWER
    assert [r.status for r in await ledger_rows(db)] == ["timeout", "ok"]


@pytest.mark.parametrize(
    ("status", "model", "error_type"),
    [(402, "deepseek-chat", InsufficientBalance), (None, "deepseek-v9", InvalidRequest)],
)
async def test_error_answers_are_typed_like_plain_calls(
    fake_deepseek: FakeDeepSeek,
    make_client: MakeClient,
    db: Database,
    status: int | None,
    model: str,
    error_type: type[Exception],
) -> None:
    if status is not None:
        fake_deepseek.fail(status)
    with pytest.raises(error_type):
        await stream(make_client(), Pieces(), model=model)
    assert len(fake_deepseek.chat_requests) == 1
    assert [r.status for r in await ledger_rows(db)] == [f"http_{status or 400}"]


# --- a cut after text is not retried ------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "cause"),
    [("drop", "connection_error"), ("end", "incomplete"), ("garbage", "bad_response")],
)
async def test_a_cut_after_text_raises_with_the_partial_text_and_is_recorded(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database, how: str, cause: str
) -> None:
    fake_deepseek.reply(ANSWER, stream=StreamShape(cut_after=3, cut_how=how))  # type: ignore[arg-type]
    fake_deepseek.reply(ANSWER)  # must stay unused: the reader has shown part already
    pieces = Pieces()
    with pytest.raises(LLMStreamCut) as caught:
        await stream(make_client(), pieces)
    cut = caught.value
    assert cut.partial_text == pieces.text == "Open Billing, choose "
    assert (cut.kind, cut.cause_kind, cut.retryable) == ("stream_cut", cause, False)
    assert "Billing" not in str(cut)
    assert "Billing" not in repr(cut)
    assert fake_deepseek.pending == 1
    (row,) = await ledger_rows(db)
    assert (row.status, row.attempt) == ("stream_cut", 1)
    assert row.request_id
    assert "Billing" not in (row.error or "")
    assert cause in (row.error or "")
    assert (row.completion_tokens, row.cost_usd) == (0, Decimal(0))


async def test_a_stall_after_text_is_a_cut_by_timeout(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    fake_deepseek.reply(ANSWER, stream=StreamShape(chunk_gap=0.5))
    pieces = Pieces()
    with pytest.raises(LLMStreamCut) as caught:
        await stream(make_client(timeout=0.3), pieces)
    assert caught.value.cause_kind == "timeout"
    assert isinstance(caught.value.__cause__, LLMTimeout)
    assert pieces.got == ["Open "]
    assert [r.status for r in await ledger_rows(db)] == ["stream_cut"]


async def test_a_failing_reader_ends_the_stream_as_a_cut(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    class SlackDown(Exception):
        pass

    async def on_text(text: str) -> None:
        raise SlackDown("chat.appendStream failed")

    fake_deepseek.reply(ANSWER)
    with pytest.raises(LLMStreamCut) as caught:
        await make_client().chat_stream(
            MESSAGES, model="deepseek-chat", context=CONTEXT, on_text=on_text
        )
    assert caught.value.cause_kind == "receiver_failed"
    assert isinstance(caught.value.__cause__, SlackDown)
    assert caught.value.partial_text == "Open "
    assert [r.status for r in await ledger_rows(db)] == ["stream_cut"]


async def test_a_cancelled_stream_is_recorded_as_cancelled(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    fake_deepseek.reply(ANSWER, stream=StreamShape(chunk_gap=5))
    pieces = Pieces()
    call = asyncio.create_task(stream(make_client(), pieces))
    for _ in range(500):
        if pieces.got:
            break
        await asyncio.sleep(0.01)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    rows = await ledger_rows(db)
    assert [(r.status, r.attempt, r.cost_usd) for r in rows] == [("cancelled", 1, Decimal(0))]
