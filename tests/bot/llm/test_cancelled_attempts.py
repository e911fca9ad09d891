"""An attempt cancelled while DeepSeek works (a shutdown) is still in the ledger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.llm.client import DeepSeekClient
from bot.llm.pricing import PriceTable
from bot.llm.types import AttemptRecord, CallContext
from bot.store.db import Database
from bot.store.ledger import SqlCallRecorder
from bot.store.models import LlmCall
from tests.conftest import FAKE_KEY
from tests.fakes.deepseek import FakeDeepSeek

CONTEXT = CallContext(purpose="answer", workspace_id="T042", user_id="U007")
MESSAGES = [{"role": "user", "content": "Why is my export slow?"}]


class SlowLedger:
    """The real ledger, taking a moment before each write (a busy database)."""

    def __init__(self, real: SqlCallRecorder, seconds: float) -> None:
        self._real = real
        self._seconds = seconds
        self.writing = asyncio.Event()

    async def record(self, attempt: AttemptRecord) -> None:
        """Wait, then write."""
        self.writing.set()
        await asyncio.sleep(self._seconds)
        await self._real.record(attempt)


@pytest.fixture
async def client_for(fake_deepseek: FakeDeepSeek) -> AsyncIterator[object]:
    clients: list[DeepSeekClient] = []

    def make(recorder: object) -> DeepSeekClient:
        clients.append(
            DeepSeekClient(
                api_key=SecretStr(FAKE_KEY),
                base_url=fake_deepseek.base_url,
                prices=PriceTable.load(),
                recorder=recorder,  # type: ignore[arg-type]
                timeout=10.0,
                deadline=20.0,
            )
        )
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


async def _rows(db: Database) -> list[LlmCall]:
    async with db.sessions() as session:
        return list((await session.scalars(select(LlmCall).order_by(LlmCall.id))).all())


async def _in_flight(fake: FakeDeepSeek) -> None:
    for _ in range(1000):
        if fake.chat_requests:
            return
        await asyncio.sleep(0.01)


async def test_a_call_cancelled_mid_flight_is_recorded_as_cancelled_with_its_latency(
    db: Database, fake_deepseek: FakeDeepSeek, ledger: SqlCallRecorder, client_for: object
) -> None:
    fake_deepseek.reply("too late", delay=5)
    client = client_for(ledger)  # type: ignore[operator]
    call = asyncio.create_task(client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT))
    await asyncio.wait_for(_in_flight(fake_deepseek), 5)
    await asyncio.sleep(0.3)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    rows = await _rows(db)
    assert [(r.status, r.attempt, r.purpose) for r in rows] == [("cancelled", 1, "answer")]
    assert 300 <= rows[0].latency_ms < 5000
    assert rows[0].cost_usd == Decimal(0)
    assert (rows[0].workspace_id, rows[0].user_id) == ("T042", "U007")


async def test_the_cancelled_record_survives_a_second_cancel_while_it_is_written(
    db: Database, fake_deepseek: FakeDeepSeek, ledger: SqlCallRecorder, client_for: object
) -> None:
    fake_deepseek.reply("too late", delay=5)
    slow = SlowLedger(ledger, seconds=0.5)
    client = client_for(slow)  # type: ignore[operator]
    call = asyncio.create_task(client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT))
    await asyncio.wait_for(_in_flight(fake_deepseek), 5)
    call.cancel()
    await asyncio.wait_for(slow.writing.wait(), 5)
    call.cancel()  # shutdown insists while the ledger row is being written
    with pytest.raises(asyncio.CancelledError):
        await call
    assert [r.status for r in await _rows(db)] == ["cancelled"]
