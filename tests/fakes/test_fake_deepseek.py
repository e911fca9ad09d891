"""The fake DeepSeek server's own behaviour, checked with a plain HTTP client."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.fakes.deepseek import FakeDeepSeek

KEY = "sk-test-fake-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
async def http(fake_deepseek: FakeDeepSeek) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake_deepseek.base_url, headers=AUTH) as client:
        yield client


def chat(content: str, model: str = "deepseek-chat") -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}]}


async def test_wrong_key_gets_deepseeks_401_body(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    response = await http.post(
        "/chat/completions", json=chat("hi"), headers={"Authorization": "Bearer sk-wrong-9876"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "Authentication Fails, Your api key: ****9876 is invalid",
            "type": "authentication_error",
            "param": None,
            "code": "invalid_request_error",
        }
    }
    async with httpx.AsyncClient(base_url=fake_deepseek.base_url) as anonymous:
        no_header = await anonymous.get("/models")
    assert no_header.status_code == 401
    # Failed requests are recorded too.
    assert [r.path for r in fake_deepseek.requests] == ["/chat/completions", "/models"]


async def test_requests_are_recorded(fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient) -> None:
    fake_deepseek.reply("hello")
    await http.post("/v1/chat/completions", json=chat("hi"))
    recorded = fake_deepseek.requests[0]
    assert (recorded.method, recorded.path) == ("POST", "/v1/chat/completions")
    assert recorded.headers["Authorization"] == f"Bearer {KEY}"
    assert recorded.json == chat("hi")
    assert fake_deepseek.chat_requests == [chat("hi")]


async def test_completion_has_deepseeks_shape(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    # 10 characters of content and 10 of reasoning: ceil(10 x 0.3) = 3 tokens each.
    fake_deepseek.reply("abcdefghij", reasoning_content="0123456789", finish_reason="length")
    body = (await http.post("/chat/completions", json=chat("hi", "deepseek-reasoner"))).json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "deepseek-reasoner"
    assert body["id"]
    assert body["system_fingerprint"]
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "abcdefghij",
        "reasoning_content": "0123456789",
    }
    usage = body["usage"]
    assert usage["completion_tokens"] == 6
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 3}
    # "user\nhi" is 7 characters: ceil(2.1) = 3 prompt tokens, nothing cached yet.
    assert usage["prompt_tokens"] == 3
    assert usage["prompt_cache_hit_tokens"] == 0
    assert usage["prompt_cache_miss_tokens"] == 3
    assert usage["total_tokens"] == 9


async def test_cache_hits_round_down_to_64_tokens(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.responder = lambda body: "ok"
    long = "x" * 1000
    first = (await http.post("/chat/completions", json=chat(long))).json()["usage"]
    second = (await http.post("/chat/completions", json=chat(long + "tail"))).json()["usage"]
    # Prompt text "user\n" + 1000 x: 1005 characters; 1009 with the tail.
    assert (first["prompt_tokens"], first["prompt_cache_hit_tokens"]) == (302, 0)
    # Common prefix 1005 characters -> 301.5 tokens -> 301 -> 256 (4 x 64).
    assert second["prompt_tokens"] == 303
    assert second["prompt_cache_hit_tokens"] == 256
    assert second["prompt_tokens_details"] == {"cached_tokens": 256}
    assert second["prompt_cache_miss_tokens"] == 303 - 256


async def test_short_prefix_is_not_cached(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.responder = lambda body: "ok"
    await http.post("/chat/completions", json=chat("y" * 100))
    usage = (await http.post("/chat/completions", json=chat("y" * 100))).json()["usage"]
    # 105 characters -> 31 tokens: less than one 64-token unit.
    assert usage["prompt_cache_hit_tokens"] == 0


async def test_script_is_answered_in_order(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.fail(503, retry_after=2)
    fake_deepseek.reply("first")
    fake_deepseek.reply("second")
    assert fake_deepseek.pending == 3
    failed = await http.post("/chat/completions", json=chat("a"))
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "2"
    assert failed.json()["error"]["message"] == "The server is overloaded due to high traffic."
    contents = [
        (await http.post("/chat/completions", json=chat("a"))).json()["choices"][0]["message"]
        for _ in range(2)
    ]
    assert [c["content"] for c in contents] == ["first", "second"]
    assert fake_deepseek.pending == 0
    empty = await http.post("/chat/completions", json=chat("a"))
    assert empty.status_code == 500
    assert "no scripted reply" in empty.json()["error"]["message"]


async def test_responder_answers_when_script_is_empty(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.responder = lambda body: body["messages"][-1]["content"].upper()
    response = await http.post("/chat/completions", json=chat("echo me"))
    assert response.json()["choices"][0]["message"]["content"] == "ECHO ME"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "Invalid request body format."),
        (402, "Insufficient Balance"),
        (422, "Your request contains invalid parameters."),
        (429, "You are sending requests too quickly."),
        (500, "Our server encounters an issue."),
    ],
)
async def test_failures_use_deepseeks_messages(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient, status: int, message: str
) -> None:
    fake_deepseek.fail(status)
    response = await http.post("/chat/completions", json=chat("a"))
    assert response.status_code == status
    assert response.json()["error"]["message"] == message
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


async def test_unknown_model_and_bad_body_do_not_use_the_script(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.reply("kept")
    unknown = await http.post("/chat/completions", json=chat("a", "deepseek-v9"))
    assert unknown.status_code == 400
    assert unknown.json()["error"]["message"] == "Model Not Exist"
    garbage = await http.post(
        "/chat/completions", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert garbage.json()["error"]["message"] == "Invalid request body format."
    assert fake_deepseek.pending == 1


async def test_keepalive_lines_come_before_the_body(
    fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient
) -> None:
    fake_deepseek.reply("late but here", keepalive_lines=4)
    started = time.monotonic()
    response = await http.post("/chat/completions", json=chat("a"))
    assert time.monotonic() - started >= 0.15  # four lines, 0.05 s apart
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.text.startswith("\n\n\n\n{")
    assert json.loads(response.text)["choices"][0]["message"]["content"] == "late but here"


async def test_delay_holds_the_answer(fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient) -> None:
    fake_deepseek.reply("slow", delay=0.3)
    started = time.monotonic()
    await http.post("/chat/completions", json=chat("a"))
    assert time.monotonic() - started >= 0.3


async def test_models_on_both_paths(fake_deepseek: FakeDeepSeek, http: httpx.AsyncClient) -> None:
    for path in ("/models", "/v1/models"):
        body = (await http.get(path)).json()
        assert body["object"] == "list"
        assert [m["id"] for m in body["data"]] == ["deepseek-chat", "deepseek-reasoner"]
        assert {m["owned_by"] for m in body["data"]} == {"deepseek"}


async def test_balance_reflects_the_setting() -> None:
    async with (
        FakeDeepSeek(balance_available=False) as fake,
        httpx.AsyncClient(base_url=fake.base_url, headers=AUTH) as client,
    ):
        body = (await client.get("/user/balance")).json()
    assert body["is_available"] is False
    assert body["balance_infos"][0] == {
        "currency": "USD",
        "total_balance": "110.00",
        "granted_balance": "10.00",
        "topped_up_balance": "100.00",
    }
