"""The official openai SDK talks to the fake: proof the fake speaks the real protocol.

If the fake drifted from DeepSeek's OpenAI-compatible wire format, the SDK's own
parsing would fail here before our client's tests could mislead us.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from openai import AsyncOpenAI

from tests.fakes.deepseek import FakeDeepSeek, StreamShape

KEY = "sk-test-fake-key"
MESSAGES = [
    {"role": "system", "content": "You are a helpful support assistant. " * 20},
    {"role": "user", "content": "How do I reset my password?"},
]


@pytest.fixture(params=["", "/v1"], ids=["root", "v1"])
async def sdk(
    fake_deepseek: FakeDeepSeek, request: pytest.FixtureRequest
) -> AsyncIterator[AsyncOpenAI]:
    """The SDK on the fake, at the root path and at the /v1 compatibility path."""
    client = AsyncOpenAI(
        api_key=KEY, base_url=fake_deepseek.base_url + request.param, max_retries=0
    )
    async with client:
        yield client


async def test_chat_completion_and_usage(fake_deepseek: FakeDeepSeek, sdk: AsyncOpenAI) -> None:
    fake_deepseek.responder = lambda body: "Use the 'Forgot password' link."
    await sdk.chat.completions.create(model="deepseek-chat", messages=MESSAGES)  # type: ignore[arg-type]
    completion = await sdk.chat.completions.create(model="deepseek-chat", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "Use the 'Forgot password' link."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "deepseek-chat"
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details is not None
    # DeepSeek's own fields arrive as pydantic extras on the SDK's usage model.
    hit = usage.model_extra["prompt_cache_hit_tokens"]  # type: ignore[index]
    miss = usage.model_extra["prompt_cache_miss_tokens"]  # type: ignore[index]
    assert hit == usage.prompt_tokens_details.cached_tokens > 0
    assert hit + miss == usage.prompt_tokens
    assert fake_deepseek.chat_requests[0]["messages"] == MESSAGES


async def test_reasoning_content_is_an_extra_field(
    fake_deepseek: FakeDeepSeek, sdk: AsyncOpenAI
) -> None:
    fake_deepseek.reply("42", reasoning_content="Six times seven.")
    completion = await sdk.chat.completions.create(
        model="deepseek-reasoner",
        messages=[{"role": "user", "content": "What is six times seven?"}],
    )
    message = completion.choices[0].message
    assert message.content == "42"
    assert message.model_extra == {"reasoning_content": "Six times seven."}
    assert completion.usage is not None
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 5


async def test_models_list(sdk: AsyncOpenAI) -> None:
    page = await sdk.models.list()
    assert [model.id for model in page.data] == ["deepseek-chat", "deepseek-reasoner"]
    assert {model.owned_by for model in page.data} == {"deepseek"}


async def test_errors_map_to_sdk_exceptions(fake_deepseek: FakeDeepSeek, sdk: AsyncOpenAI) -> None:
    fake_deepseek.fail(402)
    with pytest.raises(openai.APIStatusError) as caught:
        await sdk.chat.completions.create(model="deepseek-chat", messages=MESSAGES)  # type: ignore[arg-type]
    assert caught.value.status_code == 402
    assert "Insufficient Balance" in caught.value.message


async def test_wrong_key_is_an_sdk_authentication_error(fake_deepseek: FakeDeepSeek) -> None:
    async with AsyncOpenAI(
        api_key="sk-wrong", base_url=fake_deepseek.base_url, max_retries=0
    ) as sdk:
        with pytest.raises(openai.AuthenticationError, match="Authentication Fails"):
            await sdk.models.list()


@pytest.mark.parametrize("usage_chunk", [False, True], ids=["deepseek-usage", "openai-usage"])
async def test_streamed_chunks_parse_in_the_sdk(
    fake_deepseek: FakeDeepSeek, sdk: AsyncOpenAI, usage_chunk: bool
) -> None:
    fake_deepseek.stream_shape = StreamShape(usage_chunk=usage_chunk)
    fake_deepseek.responder = lambda body: "Use the 'Forgot password' link."
    stream = await sdk.chat.completions.create(
        model="deepseek-chat",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Use the 'Forgot password' link."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    (usage,) = [c.usage for c in chunks if c.usage is not None]
    assert usage.completion_tokens > 0
