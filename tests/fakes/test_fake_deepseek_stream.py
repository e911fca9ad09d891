"""The fake DeepSeek's streamed answers, read with a plain HTTP client."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.fakes.deepseek import FakeDeepSeek, StreamShape
from tests.fakes.deepseek_stream import pieces_of

AUTH = {"Authorization": "Bearer sk-test-fake-key"}


@pytest.fixture
async def http(fake_deepseek: FakeDeepSeek) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake_deepseek.base_url, headers=AUTH) as client:
        yield client


def body(include_usage: bool | None = True, model: str = "deepseek-chat") -> dict[str, Any]:
    sent: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    if include_usage is not None:
        sent["stream_options"] = {"include_usage": include_usage}
    return sent


async def read(http: httpx.AsyncClient, sent: dict[str, Any]) -> tuple[httpx.Response, list[str]]:
    async with http.stream("POST", "/chat/completions", json=sent) as response:
        return response, [line async for line in response.aiter_lines()]


def chunks(lines: list[str]) -> list[dict[str, Any]]:
    data = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    return [json.loads(d) for d in data[:-1]]


def deltas(lines: list[str]) -> list[str]:
    return [c["choices"][0]["delta"].get("content") or "" for c in chunks(lines) if c["choices"]]


def test_pieces_keep_every_character() -> None:
    text = "  Hello there,\n how  are you? "
    assert "".join(pieces_of(text, 1)) == text
    assert pieces_of("a b c d e", 2) == ["a b ", "c d ", "e"]
    assert pieces_of("", 1) == []


async def test_a_streamed_reply_has_deepseeks_shape(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.reply("Open Billing, then Export.")
    response, lines = await read(http, body())
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["x-request-id"]
    assert ": keep-alive" in lines
    got = chunks(lines)
    assert got[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert {c["object"] for c in got} == {"chat.completion.chunk"}
    assert len({c["id"] for c in got}) == 1
    assert deltas(lines)[1:-1] == ["Open ", "Billing, ", "then ", "Export."]
    last = got[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    assert all(c["usage"] is None for c in got[:-1])
    # The same usage a non-streamed call of this reply gets.
    async with FakeDeepSeek() as fresh, httpx.AsyncClient(base_url=fresh.base_url) as plain:
        fresh.reply("Open Billing, then Export.")
        answer = await plain.post(
            "/chat/completions", json=body(None) | {"stream": False}, headers=AUTH
        )
        plain_usage = answer.json()["usage"]
    assert last["usage"] == plain_usage
    assert fake_deepseek.chat_requests[0]["stream"] is True


async def test_usage_on_a_separate_chunk_only_when_asked(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    shape = StreamShape(usage_chunk=True)
    fake_deepseek.reply("two words", stream=shape)
    fake_deepseek.reply("two words", stream=shape)
    _, asked = await read(http, body(include_usage=True))
    *_, finish, usage_only = chunks(asked)
    assert (finish["choices"][0]["finish_reason"], finish["usage"]) == ("stop", None)
    assert usage_only["choices"] == []
    assert usage_only["usage"]["completion_tokens"] == 3
    _, not_asked = await read(http, body(include_usage=None))
    assert all(c["usage"] is None for c in chunks(not_asked))


async def test_reasoning_streams_before_the_content(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.reply("Yes.", reasoning_content="Check the plan first.")
    _, lines = await read(http, body(model="deepseek-reasoner"))
    got = [c["choices"][0]["delta"] for c in chunks(lines)[1:-1]]
    assert "".join(d.get("reasoning_content") or "" for d in got) == "Check the plan first."
    assert got[-1] == {"content": "Yes."}


async def test_first_token_delay_and_gaps(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.reply("a b c", stream=StreamShape(first_token_delay=0.3, chunk_gap=0.1))
    started = time.monotonic()
    arrivals: list[float] = []
    async with http.stream("POST", "/chat/completions", json=body()) as response:
        async for line in response.aiter_lines():
            if '"content": "' in line and '"content": ""' not in line:
                arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 3
    assert arrivals[0] >= 0.3
    assert arrivals[2] - arrivals[0] >= 0.2


async def test_a_cut_drops_the_connection_after_n_chunks(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.reply("one two three four", stream=StreamShape(cut_after=2))
    seen: list[str] = []

    async def read_into_seen() -> None:
        async with http.stream("POST", "/chat/completions", json=body()) as response:
            async for line in response.aiter_lines():
                seen.append(line)

    with pytest.raises(httpx.RemoteProtocolError):
        await read_into_seen()
    assert "data: [DONE]" not in seen
    text = [json.loads(x[6:])["choices"][0]["delta"]["content"] for x in seen if x[:6] == "data: "]
    assert text == ["", "one ", "two "]


async def test_a_clean_end_without_finish_or_done(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.reply("one two", stream=StreamShape(cut_after=1, cut_how="end"))
    _, lines = await read(http, body())
    assert "data: [DONE]" not in lines
    assert not any('"finish_reason": "stop"' in line for line in lines)


async def test_failures_answer_json_to_stream_requests(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.fail(429)
    response = await http.post("/chat/completions", json=body())
    assert response.status_code == 429
    assert response.json()["error"]["message"] == "You are sending requests too quickly."


async def test_the_fake_wide_shape_applies_to_the_responder(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.responder = lambda _body: "a b c d"
    fake_deepseek.stream_shape = StreamShape(words_per_chunk=2, keepalive_every=0)
    _, lines = await read(http, body())
    assert ": keep-alive" not in lines
    assert deltas(lines)[1:-1] == ["a b ", "c d"]
