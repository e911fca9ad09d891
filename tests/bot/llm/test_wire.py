"""The pure wire-format functions: request bodies in, response bodies out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.llm.errors import UnexpectedResponse
from bot.llm.types import Usage
from bot.llm.wire import (
    chat_body,
    decode_object,
    error_message,
    parse_balance,
    parse_completion,
    parse_usage,
    retry_after_seconds,
)


def test_reasoning_is_never_sent_back() -> None:
    body = chat_body(
        [{"role": "assistant", "content": "a", "reasoning_content": "r"}],
        model="deepseek-chat",
        max_tokens=10,
        json_mode=True,
    )
    assert body == {
        "model": "deepseek-chat",
        "messages": [{"role": "assistant", "content": "a"}],
        "response_format": {"type": "json_object"},
        "max_tokens": 10,
    }


def test_keepalive_lines_are_skipped() -> None:
    assert decode_object('\n\n  \n{"id": "x"}\n') == {"id": "x"}


@pytest.mark.parametrize("text", ["", "\n\n", "<html>busy</html>", "[1, 2]"])
def test_a_200_without_an_object_is_unexpected(text: str) -> None:
    with pytest.raises(UnexpectedResponse) as caught:
        decode_object(text)
    assert (caught.value.kind, caught.value.retryable) == ("bad_response", False)


def test_completion_without_choices_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponse):
        parse_completion({"id": "x", "choices": []})


def test_null_content_becomes_empty_text() -> None:
    completion = parse_completion(
        {"id": "r1", "choices": [{"message": {"content": None}, "finish_reason": "length"}]}
    )
    assert (completion.content, completion.finish_reason) == ("", "length")
    assert completion.usage == Usage()


def test_usage_falls_back_to_openai_cached_tokens() -> None:
    usage = parse_usage(
        {
            "prompt_tokens": 200,
            "completion_tokens": 30,
            "prompt_tokens_details": {"cached_tokens": 128},
        }
    )
    assert usage == Usage(cache_hit_tokens=128, cache_miss_tokens=72, completion_tokens=30)


def test_error_message_is_only_deepseeks_field_without_the_key() -> None:
    body = '{"error": {"message": "key sk-abc is bad", "type": "x", "param": null, "code": "y"}}'
    assert error_message(body, "sk-abc") == "key **** is bad"
    assert error_message("<html>sk-abc and your prompt</html>", "sk-abc") is None


def test_balance_with_a_broken_amount_is_unexpected() -> None:
    body = {"is_available": True, "balance_infos": [{"currency": "USD", "total_balance": "lots",
            "granted_balance": "0", "topped_up_balance": "0"}]}  # fmt: skip
    with pytest.raises(UnexpectedResponse):
        parse_balance(body)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers) == expected


def test_retry_after_as_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    seconds = retry_after_seconds({"retry-after": format_datetime(when, usegmt=True)})
    assert seconds is not None
    assert 25 <= seconds <= 30
