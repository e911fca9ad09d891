"""DeepSeek's wire format: pure functions from our arguments to request bodies and
from response bodies to our types. No I/O here, so every case is easy to test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

from bot.llm.errors import UnexpectedResponse
from bot.llm.types import Usage

__all__ = [
    "Balance",
    "BalanceInfo",
    "Completion",
    "chat_body",
    "decode_object",
    "error_message",
    "parse_balance",
    "parse_completion",
    "parse_models",
    "parse_usage",
    "retry_after_seconds",
]

_MAX_ERROR_CHARS = 500


@dataclass(frozen=True, kw_only=True)
class BalanceInfo:
    """The account balance in one currency (DeepSeek sends amounts as strings)."""

    currency: str
    total_balance: Decimal
    granted_balance: Decimal
    topped_up_balance: Decimal


@dataclass(frozen=True, kw_only=True)
class Balance:
    """`GET /user/balance`: whether the account can still make calls, and what is left."""

    is_available: bool
    infos: list[BalanceInfo]


@dataclass(frozen=True, kw_only=True)
class Completion:
    """The parts of a chat completion body the client uses."""

    content: str
    reasoning_content: str | None
    finish_reason: str | None
    usage: Usage
    model: str | None
    request_id: str | None


def chat_body(
    messages: list[dict[str, str]],
    *,
    model: str,
    json_mode: bool = False,
    max_tokens: int | None = None,
    temperature: float | None = None,
) -> dict[str, Any]:
    """The JSON body of `POST /chat/completions`.

    `reasoning_content` is stripped from every message: DeepSeek's older API
    rejected it and its docs say not to send it back.
    """
    body: dict[str, Any] = {"model": model}
    body["messages"] = [{k: v for k, v in m.items() if k != "reasoning_content"} for m in messages]
    if json_mode:
        body["response_format"] = {"type": "json_object"}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    return body


def decode_object(text: str) -> dict[str, Any]:
    """A 200 body as a JSON object; blank keep-alive lines before it are skipped.

    Raises:
        UnexpectedResponse: the body is not a JSON object.
    """
    try:
        data = json.loads(text.strip())
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UnexpectedResponse("DeepSeek answered 200 without a JSON object", status=200)
    return data


def parse_completion(data: dict[str, Any]) -> Completion:
    """The content, reasoning, finish reason, usage and id of a chat completion.

    Raises:
        UnexpectedResponse: the body has no `choices[0].message`.
    """
    try:
        choice = data["choices"][0]
        message = choice["message"]
        usage = parse_usage(data.get("usage") or {})
        return Completion(
            content=message.get("content") or "",
            reasoning_content=message.get("reasoning_content"),
            finish_reason=choice.get("finish_reason"),
            usage=usage,
            model=data.get("model"),
            request_id=data.get("id"),
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise UnexpectedResponse("DeepSeek answered 200 without a completion", status=200) from exc


def parse_usage(raw: dict[str, Any]) -> Usage:
    """DeepSeek's `usage` object as `Usage` (OpenAI's `cached_tokens` as a fallback)."""
    prompt = int(raw.get("prompt_tokens") or 0)
    hit = raw.get("prompt_cache_hit_tokens")
    if hit is None:  # proxies that only speak OpenAI's field names
        hit = (raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    miss = raw.get("prompt_cache_miss_tokens")
    if miss is None:
        miss = max(prompt - int(hit), 0)
    details = raw.get("completion_tokens_details") or {}
    return Usage(
        cache_hit_tokens=int(hit),
        cache_miss_tokens=int(miss),
        completion_tokens=int(raw.get("completion_tokens") or 0),
        reasoning_tokens=int(details.get("reasoning_tokens") or 0),
    )


def parse_models(data: dict[str, Any]) -> list[str]:
    """Model ids from a `GET /models` body."""
    try:
        return [str(item["id"]) for item in data["data"]]
    except (KeyError, TypeError) as exc:
        raise UnexpectedResponse("GET /models answered an unexpected body", status=200) from exc


def parse_balance(data: dict[str, Any]) -> Balance:
    """A `GET /user/balance` body as `Balance`, amounts as `Decimal`."""
    try:
        infos = [
            BalanceInfo(
                currency=str(info["currency"]),
                total_balance=Decimal(str(info["total_balance"])),
                granted_balance=Decimal(str(info["granted_balance"])),
                topped_up_balance=Decimal(str(info["topped_up_balance"])),
            )
            for info in data["balance_infos"]
        ]
        return Balance(is_available=bool(data["is_available"]), infos=infos)
    except (KeyError, TypeError, ArithmeticError) as exc:
        raise UnexpectedResponse(
            "GET /user/balance answered an unexpected body", status=200
        ) from exc


def error_message(text: str, secret: str | None) -> str | None:
    """DeepSeek's `error.message` from an error body, without `secret`, or None.

    Only that field is used: a proxy's HTML page or an echo of the request must not
    end up in logs or the ledger.
    """
    try:
        message = str(json.loads(text.strip())["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return None
    if secret:
        message = message.replace(secret, "****")
    return message[:_MAX_ERROR_CHARS]


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or HTTP date)."""
    if millis := headers.get("retry-after-ms"):
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None
