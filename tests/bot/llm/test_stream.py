"""The event-stream pieces of the client (`bot.llm.stream`): pure, no HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.llm.errors import LLMConnectionError, LLMStreamCut, UnexpectedResponse
from bot.llm.stream import DONE, StreamState, parse_event, read_stream, stream_body
from bot.llm.types import Usage

USAGE = {
    "prompt_tokens": 10,
    "completion_tokens": 4,
    "prompt_cache_hit_tokens": 0,
    "prompt_cache_miss_tokens": 10,
    "completion_tokens_details": {"reasoning_tokens": 1},
}


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> str:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return "data: " + json.dumps(
        {"id": "r-1", "model": "deepseek-chat", "choices": choices, **extra}
    )


async def lines(*items: str) -> AsyncIterator[str]:
    for item in items:
        yield item


async def collect(*items: str) -> tuple[StreamState, list[str]]:
    state, got = StreamState(), []

    async def on_text(text: str) -> None:
        got.append(text)

    await read_stream(lines(*items), state, on_text)
    return state, got


@pytest.mark.parametrize("line", ["", ": keep-alive", ":", "event: message", "id: 7"])
def test_lines_that_are_not_data_are_skipped(line: str) -> None:
    assert parse_event(line) is None


def test_done_and_chunks_are_recognised() -> None:
    assert parse_event("data: [DONE]") == DONE
    assert parse_event('data:{"a": 1}') == {"a": 1}


@pytest.mark.parametrize("line", ["data: {oops", "data: [1, 2]", "data: "])
def test_a_malformed_data_line_is_a_bad_response(line: str) -> None:
    with pytest.raises(UnexpectedResponse) as caught:
        parse_event(line)
    assert caught.value.kind == "bad_response"


def test_the_body_asks_for_a_stream_with_usage() -> None:
    body = stream_body({"model": "m", "messages": []})
    assert body == {
        "model": "m",
        "messages": [],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_usage_on_the_finish_chunk() -> None:
    state, got = await collect(
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hi "}, usage=None),
        chunk({"content": "there"}),
        chunk({"content": ""}, "stop", usage=USAGE),
        "data: [DONE]",
    )
    assert got == ["Hi ", "there"]
    done = state.completion()
    assert (done.content, done.finish_reason, done.request_id) == ("Hi there", "stop", "r-1")
    assert done.usage == Usage(cache_miss_tokens=10, completion_tokens=4, reasoning_tokens=1)


async def test_usage_on_a_separate_last_chunk() -> None:
    state, _ = await collect(
        chunk({"content": "Hi"}),
        chunk({"content": ""}, "length", usage=None),
        chunk(None, usage=USAGE),
        "data: [DONE]",
    )
    assert state.completion().usage.completion_tokens == 4
    assert state.completion().finish_reason == "length"


async def test_reasoning_is_kept_apart() -> None:
    state, got = await collect(
        chunk({"content": None, "reasoning_content": "think"}),
        chunk({"content": "answer"}, "stop"),
    )
    assert got == ["answer"]
    assert state.completion().reasoning_content == "think"


async def test_an_unfinished_stream_before_text_can_be_retried() -> None:
    with pytest.raises(LLMConnectionError):
        await collect(chunk({"role": "assistant", "content": ""}), ": keep-alive")


async def test_an_unfinished_stream_after_text_is_a_cut_with_the_text() -> None:
    with pytest.raises(LLMStreamCut) as caught:
        await collect(chunk({"content": "secret words"}))
    assert (caught.value.partial_text, caught.value.cause_kind) == ("secret words", "incomplete")
    assert "secret" not in str(caught.value)
    assert caught.value.usage == Usage()


async def test_a_chunk_of_the_wrong_shape_is_a_bad_response() -> None:
    with pytest.raises(UnexpectedResponse):
        await collect('data: {"choices": "nope"}')
