"""The in-process FakeModel: queue order, recorded calls, usage and cost, the protocol."""

from __future__ import annotations

import inspect
from decimal import Decimal

import pytest

from bot.llm.errors import LLMError, RateLimited, ServerOverloaded
from bot.llm.model import ChatModel
from bot.llm.types import CallContext, ChatResult, Usage
from tests.fakes.model import RATES, Call, FakeModel, Prompt

CONTEXT = CallContext(purpose="answer", ticket_id=7, workspace_id="T01")
SYSTEM = "You are a helpful support assistant. " * 40  # long enough for 64-token cache units


def messages(user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


async def test_replies_come_back_in_order_and_calls_are_recorded() -> None:
    fake = FakeModel()
    fake.enqueue("first")
    fake.enqueue("second", finish_reason="length", reasoning="hmm", model="deepseek-reasoner")
    assert fake.pending == 2

    one = await fake.chat(messages("a"), model="deepseek-chat", context=CONTEXT)
    two = await fake.chat(
        messages("b"),
        model="deepseek-chat",
        context=CONTEXT,
        json_mode=True,
        max_tokens=99,
        temperature=0,
    )

    assert (one.content, one.finish_reason, one.reasoning_content, one.model) == (
        "first",
        "stop",
        None,
        "deepseek-chat",
    )
    assert (two.content, two.finish_reason, two.reasoning_content, two.model) == (
        "second",
        "length",
        "hmm",
        "deepseek-reasoner",
    )
    assert fake.pending == 0
    first, second = fake.calls
    assert first == Call(
        messages=messages("a"),
        model="deepseek-chat",
        context=CONTEXT,
        json_mode=False,
        max_tokens=None,
        temperature=None,
        result=one,
    )
    assert (second.json_mode, second.max_tokens, second.temperature) == (True, 99, 0)
    assert second.result is two
    assert (second.system, second.user) == (SYSTEM, "b")
    assert Prompt is Call


async def test_recorded_messages_are_a_copy() -> None:
    fake = FakeModel()
    fake.enqueue("ok")
    sent = messages("original")
    await fake.chat(sent, model="deepseek-chat", context=CONTEXT)
    sent[1]["content"] = "changed afterwards"
    sent.append({"role": "user", "content": "more"})
    assert fake.calls[0].messages == messages("original")


async def test_queued_errors_are_raised_and_recorded() -> None:
    fake = FakeModel()
    busy = ServerOverloaded("DeepSeek answered HTTP 503 (server overloaded)", status=503)
    fake.enqueue_error(busy)
    fake.enqueue("after the error")
    with pytest.raises(ServerOverloaded) as raised:
        await fake.chat(messages("a"), model="deepseek-chat", context=CONTEXT)
    assert raised.value is busy
    assert raised.value.kind == "http_503"
    result = await fake.chat(messages("a"), model="deepseek-chat", context=CONTEXT)
    assert result.content == "after the error"
    assert [(c.error, c.result) for c in fake.calls] == [(busy, None), (None, result)]


def test_only_llm_errors_can_be_queued() -> None:
    with pytest.raises(TypeError, match="LLMError"):
        FakeModel().enqueue_error(ValueError("nope"))  # type: ignore[arg-type]


async def test_empty_queue_fails_loudly_naming_the_purpose() -> None:
    fake = FakeModel()
    with pytest.raises(AssertionError, match=r"nothing queued for the 'summary' call"):
        await fake.chat(
            messages("a"), model="deepseek-chat", context=CallContext(purpose="summary")
        )
    # Not an LLMError: code under test must not swallow it as a model outage.
    assert not issubclass(AssertionError, LLMError)
    assert len(fake.calls) == 1


async def test_usage_is_simulated_and_priced() -> None:
    fake = FakeModel()
    fake.enqueue("0123456789")
    fake.enqueue("0123456789", reasoning="x" * 20)
    first = await fake.chat(messages("first ticket"), model="m", context=CONTEXT)
    second = await fake.chat(messages("second ticket"), model="m", context=CONTEXT)

    prompt_chars = len(f"system\n{SYSTEM}\nuser\nfirst ticket")
    assert first.usage == Usage(
        cache_hit_tokens=0,
        cache_miss_tokens=(prompt_chars * 3 + 9) // 10,
        completion_tokens=3,
        reasoning_tokens=0,
    )
    # The shared system prompt is a cached prefix, counted in whole 64-token units.
    assert second.usage.cache_hit_tokens >= 64 * 5
    assert second.usage.cache_hit_tokens % 64 == 0
    assert (
        second.usage.prompt_tokens == (len(f"system\n{SYSTEM}\nuser\nsecond ticket") * 3 + 9) // 10
    )
    assert (second.usage.reasoning_tokens, second.usage.completion_tokens) == (6, 9)
    for result in (first, second):
        assert isinstance(result.cost_usd, Decimal)
        assert result.cost_usd > 0
        assert result.cost_usd == (
            result.usage.cache_hit_tokens * RATES.hit
            + result.usage.cache_miss_tokens * RATES.miss
            + result.usage.completion_tokens * RATES.output
        ) / Decimal(1_000_000)
    uncached = Usage(
        cache_miss_tokens=second.usage.prompt_tokens,
        completion_tokens=second.usage.completion_tokens,
    )
    assert second.cost_usd < fake.price(uncached)  # cache hits are cheaper than misses


async def test_given_usage_and_cost_are_reported_as_is() -> None:
    fake = FakeModel()
    usage = Usage(cache_hit_tokens=64, cache_miss_tokens=10, completion_tokens=5)
    fake.enqueue("a", usage=usage)
    fake.enqueue("b", usage=usage, cost_usd=Decimal("0.5"))
    one = await fake.chat(messages("x"), model="m", context=CONTEXT)
    two = await fake.chat(messages("x"), model="m", context=CONTEXT)
    assert one.usage == two.usage == usage
    assert one.cost_usd == fake.price(usage)
    assert two.cost_usd == Decimal("0.5")


async def test_satisfies_the_chat_model_protocol() -> None:
    fake = FakeModel()
    fake.enqueue("hello")
    model: ChatModel = fake  # a type checker verifies the structure here
    result = await model.chat(
        [{"role": "user", "content": "hi"}],
        model="deepseek-chat",
        context=CONTEXT,
        json_mode=False,
        max_tokens=10,
        temperature=0.2,
    )
    assert isinstance(result, ChatResult)
    assert result.content == "hello"
    # And at run time: the same parameters, kinds, defaults and annotations.
    assert inspect.signature(FakeModel.chat) == inspect.signature(ChatModel.chat)
    assert inspect.iscoroutinefunction(FakeModel.chat)


async def test_errors_keep_their_retry_hints() -> None:
    fake = FakeModel()
    fake.enqueue_error(RateLimited("slow down", status=429, retry_after=2))
    with pytest.raises(RateLimited) as raised:
        await fake.chat(messages("a"), model="m", context=CONTEXT)
    assert (raised.value.retryable, raised.value.retry_after) == (True, 2)
