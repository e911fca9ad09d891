"""The DeepSeek client against the fake server, with the real cost ledger."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.app import deepseek_client
from bot.config import load_settings
from bot.llm.client import DeepSeekClient
from bot.llm.errors import (
    AuthenticationFailed,
    InsufficientBalance,
    InvalidParameters,
    InvalidRequest,
    LLMConnectionError,
    LLMError,
    LLMNotConfigured,
    LLMTimeout,
    RateLimited,
    ServerOverloaded,
)
from bot.llm.http import ModelHttp
from bot.llm.pricing import PriceTable
from bot.llm.types import AttemptRecord, CallContext
from bot.store.db import Database
from bot.store.ledger import SqlCallRecorder
from bot.store.models import LlmCall
from tests.fakes.deepseek import FakeDeepSeek

KEY = "sk-test-fake-key"
CONTEXT = CallContext(
    purpose="triage", workspace_id="T042", user_id="U007", prompt_version="triage-v1"
)
SYSTEM = "You are the support triage assistant. Reply with a json object. " * 20
MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "My invoice is wrong."},
]
PRICES = PriceTable.load()

MakeClient = Callable[..., DeepSeekClient]


@pytest.fixture
async def make_client(
    fake_deepseek: FakeDeepSeek, ledger: SqlCallRecorder
) -> AsyncIterator[MakeClient]:
    """Clients pointed at the fake, writing to the ledger, with millisecond backoff."""
    clients: list[DeepSeekClient] = []

    def make(**overrides: Any) -> DeepSeekClient:
        options: dict[str, Any] = {
            "api_key": SecretStr(KEY),
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


def same_money(stored: Decimal, computed: Decimal) -> bool:
    # SQLite keeps NUMERIC(20, 10) through a float; compare at the column's scale.
    quantum = Decimal("1e-10")
    return stored.quantize(quantum) == computed.quantize(quantum)


# --- retries and the ledger --------------------------------------------------------


async def test_rate_limit_then_success_records_both_attempts(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    fake_deepseek.fail(429)
    fake_deepseek.reply('{"category": "billing"}', json_mode=False)
    result = await make_client().chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert result.content == '{"category": "billing"}'
    assert len(fake_deepseek.chat_requests) == 2
    failed, ok = await ledger_rows(db)
    assert (failed.status, failed.attempt, ok.status, ok.attempt) == ("http_429", 1, "ok", 2)
    assert "You are sending requests too quickly." in (failed.error or "")
    assert (failed.prompt_cache_miss_tokens, failed.completion_tokens) == (0, 0)
    assert failed.cost_usd == 0
    assert ok.error is None
    assert ok.prompt_cache_miss_tokens == result.usage.cache_miss_tokens > 0
    assert ok.completion_tokens == result.usage.completion_tokens > 0
    assert same_money(ok.cost_usd, result.cost_usd)
    assert result.cost_usd > 0
    assert ok.request_id == result.request_id
    assert (ok.purpose, ok.model, ok.prompt_version) == ("triage", "deepseek-chat", "triage-v1")
    assert (ok.workspace_id, ok.user_id) == ("T042", "U007")


async def test_retry_after_is_honoured(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    fake_deepseek.fail(429, retry_after=1)
    fake_deepseek.reply("ok")
    started = time.monotonic()
    await make_client().chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert time.monotonic() - started >= 0.95


async def test_retry_after_is_capped(fake_deepseek: FakeDeepSeek, make_client: MakeClient) -> None:
    fake_deepseek.fail(429, retry_after=30)
    fake_deepseek.reply("ok")
    started = time.monotonic()
    result = await make_client(retry_after_cap=0.2).chat(
        MESSAGES, model="deepseek-chat", context=CONTEXT
    )
    assert result.content == "ok"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, InvalidRequest), (402, InsufficientBalance), (422, InvalidParameters)],
)
async def test_client_errors_are_not_retried(
    fake_deepseek: FakeDeepSeek,
    make_client: MakeClient,
    db: Database,
    status: int,
    error_type: type[LLMError],
) -> None:
    fake_deepseek.fail(status)
    fake_deepseek.reply("never reached")
    with pytest.raises(error_type) as caught:
        await make_client().chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert (caught.value.status, caught.value.retryable) == (status, False)
    assert len(fake_deepseek.requests) == 1
    assert [row.status for row in await ledger_rows(db)] == [f"http_{status}"]


async def test_wrong_key_is_not_retried(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    client = make_client(api_key=SecretStr("sk-live-wrong-key-ABCD"))
    with pytest.raises(AuthenticationFailed, match=r"\*\*\*\*ABCD is invalid") as caught:
        await client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert "sk-live-wrong-key-ABCD" not in str(caught.value)
    assert len(fake_deepseek.requests) == 1
    (row,) = await ledger_rows(db)
    assert row.status == "http_401"
    assert "sk-live-wrong-key-ABCD" not in (row.error or "")


async def test_unknown_model_is_an_invalid_request(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    with pytest.raises(InvalidRequest, match="Model Not Exist"):
        await make_client().chat(MESSAGES, model="deepseek-v9", context=CONTEXT)
    assert len(fake_deepseek.requests) == 1


async def test_overloaded_three_times_gives_up(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    for _ in range(3):
        fake_deepseek.fail(503)
    started = time.monotonic()
    with pytest.raises(ServerOverloaded):
        await make_client(deadline=10).chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert time.monotonic() - started < 10
    assert len(fake_deepseek.chat_requests) == 3
    rows = await ledger_rows(db)
    assert [(r.status, r.attempt) for r in rows] == [
        ("http_503", 1),
        ("http_503", 2),
        ("http_503", 3),
    ]
    assert all("overloaded" in (r.error or "") for r in rows)


async def test_deadline_stops_before_a_long_wait(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    fake_deepseek.fail(429, retry_after=5)
    fake_deepseek.reply("too late to matter")
    client = make_client(deadline=0.5, retry_after_cap=10)
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        await client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert time.monotonic() - started < 1
    assert caught.value.retry_after == 5
    assert fake_deepseek.pending == 1
    assert [row.status for row in await ledger_rows(db)] == ["http_429"]


async def test_slow_answers_time_out(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    for _ in range(3):
        fake_deepseek.reply("late", delay=3)
    started = time.monotonic()
    with pytest.raises(LLMTimeout):
        await make_client(timeout=0.2).chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert time.monotonic() - started < 2.5
    rows = await ledger_rows(db)
    assert [row.status for row in rows] == ["timeout"] * 3
    assert all(row.latency_ms >= 150 for row in rows)


async def test_closed_port_is_a_connection_error(make_client: MakeClient, db: Database) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(LLMConnectionError):
        await client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert [row.status for row in await ledger_rows(db)] == ["connection_error"] * 3


async def test_failing_ledger_does_not_lose_the_answer(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    class BrokenLedger:
        async def record(self, attempt: AttemptRecord) -> None:
            raise RuntimeError("database is down")

    fake_deepseek.reply("still answered")
    client = make_client(recorder=BrokenLedger())
    result = await client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert result.content == "still answered"


# --- the wire format ---------------------------------------------------------------


async def test_keepalive_lines_before_the_body_parse(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    fake_deepseek.reply('{"urgency": "high"}', keepalive_lines=5, json_mode=False)
    result = await make_client().chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert result.content == '{"urgency": "high"}'
    assert result.finish_reason == "stop"


async def test_json_mode_max_tokens_and_temperature_are_sent(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    fake_deepseek.reply("{}")
    await make_client().chat(
        MESSAGES,
        model="deepseek-chat",
        context=CONTEXT,
        json_mode=True,
        max_tokens=800,
        temperature=0.0,
    )
    (sent,) = fake_deepseek.chat_requests
    assert sent["response_format"] == {"type": "json_object"}
    assert (sent["max_tokens"], sent["temperature"]) == (800, 0.0)
    assert sent["messages"] == MESSAGES


async def test_optional_fields_are_left_out(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    fake_deepseek.reply("plain")
    await make_client().chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert set(fake_deepseek.chat_requests[0]) == {"model", "messages"}


async def test_reasoning_is_returned_but_never_sent_back(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    fake_deepseek.reply("Refund issued.", reasoning_content="The user was charged twice.")
    fake_deepseek.reply("You're welcome.")
    client = make_client()
    first = await client.chat(MESSAGES, model="deepseek-reasoner", context=CONTEXT)
    assert first.reasoning_content == "The user was charged twice."
    assert first.usage.reasoning_tokens > 0
    assert first.usage.completion_tokens > first.usage.reasoning_tokens
    follow_up = [
        *MESSAGES,
        {"role": "assistant", "content": first.content, "reasoning_content": "leak"},
        {"role": "user", "content": "Thanks!"},
    ]
    await client.chat(follow_up, model="deepseek-reasoner", context=CONTEXT)
    sent = fake_deepseek.chat_requests[1]["messages"]
    assert sent[2] == {"role": "assistant", "content": "Refund issued."}
    assert not any("reasoning_content" in message for message in sent)


async def test_shared_prefix_hits_the_cache_and_is_priced(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    fake_deepseek.responder = lambda body: '{"category": "other"}'
    client = make_client()
    before = datetime.now(UTC)
    first = await client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    other_ticket = [MESSAGES[0], {"role": "user", "content": "The app crashes on login."}]
    second = await client.chat(other_ticket, model="deepseek-chat", context=CONTEXT)
    assert first.usage.cache_hit_tokens == 0
    assert second.usage.cache_hit_tokens > 0
    assert second.usage.cache_hit_tokens % 64 == 0
    assert (
        second.usage.prompt_tokens == second.usage.cache_hit_tokens + second.usage.cache_miss_tokens
    )
    assert second.cost_usd == PRICES.cost("deepseek-chat", second.usage, before)
    assert second.cost_usd < first.cost_usd  # cached input is cheaper
    rows = await ledger_rows(db)
    assert rows[1].prompt_cache_hit_tokens == second.usage.cache_hit_tokens
    assert same_money(rows[1].cost_usd, second.cost_usd)


async def test_models_and_balance(make_client: MakeClient) -> None:
    client = make_client()
    assert await client.list_models() == ["deepseek-chat", "deepseek-reasoner"]
    balance = await client.balance()
    assert balance.is_available is True
    (info,) = balance.infos
    assert (info.currency, info.total_balance) == ("USD", Decimal("110.00"))
    assert (info.granted_balance, info.topped_up_balance) == (Decimal("10.00"), Decimal("100.00"))


async def test_models_with_wrong_key_is_typed(make_client: MakeClient) -> None:
    with pytest.raises(AuthenticationFailed):
        await make_client(api_key=SecretStr("sk-nope")).list_models()


# --- configuration and secrets -----------------------------------------------------


async def test_no_key_sends_nothing(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient, db: Database
) -> None:
    client = make_client(api_key=None)
    with pytest.raises(LLMNotConfigured, match="DEEPSEEK_API_KEY"):
        await client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    with pytest.raises(LLMNotConfigured):
        await client.balance()
    assert fake_deepseek.requests == []
    assert await ledger_rows(db) == []


async def test_key_never_shows(fake_deepseek: FakeDeepSeek, make_client: MakeClient) -> None:
    # A server that echoes the key back must not get it into our messages.
    fake_deepseek.fail(400, message=f"bad request from key {KEY}")
    client = make_client()
    assert KEY not in repr(client)
    with pytest.raises(InvalidRequest) as caught:
        await client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert KEY not in str(caught.value)
    assert "****" in str(caught.value)
    assert SYSTEM not in str(caught.value)


async def test_the_wired_client_talks_to_the_configured_server(
    fake_deepseek: FakeDeepSeek, ledger: SqlCallRecorder, db: Database
) -> None:
    settings = load_settings(deepseek_api_key=KEY, deepseek_base_url=fake_deepseek.base_url)
    fake_deepseek.reply("configured")
    async with deepseek_client(settings, recorder=ledger) as client:
        result = await client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT)
    assert result.content == "configured"
    assert [row.status for row in await ledger_rows(db)] == ["ok"]


async def test_model_calls_wait_for_one_of_their_own_slots(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    fake_deepseek.responder = lambda _body: "fine"
    fake_deepseek.responder_delay = 0.2
    client = make_client(concurrency=2)

    results = await asyncio.gather(
        *(client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT) for _ in range(6))
    )

    assert [r.content for r in results] == ["fine"] * 6
    assert fake_deepseek.most_in_flight == 2


async def test_as_many_calls_as_the_concurrency_allows_all_run_at_once(
    fake_deepseek: FakeDeepSeek, make_client: MakeClient
) -> None:
    # The connection pool holds as many connections as calls may be in flight.
    fake_deepseek.responder = lambda _body: "fine"
    fake_deepseek.responder_delay = 0.3
    calls = 35
    client = make_client(concurrency=calls)

    results = await asyncio.gather(
        *(client.chat(MESSAGES, model="deepseek-chat", context=CONTEXT) for _ in range(calls))
    )

    assert [r.content for r in results] == ["fine"] * calls
    assert fake_deepseek.most_in_flight == calls


async def test_a_proxy_in_the_environment_is_used_unless_no_proxy_spares_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    http = ModelHttp(4, timeout=5.0)
    assert http.proxy_for("https://api.deepseek.com/v1") == "http://proxy.internal:3128"
    assert http.proxy_for("http://127.0.0.1:8080/chat/completions") is None
