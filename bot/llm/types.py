"""Plain data passed between the DeepSeek client, its callers and the cost ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

__all__ = ["AttemptRecord", "CallContext", "CallRecorder", "ChatResult", "LlmGate", "Usage"]


@dataclass(frozen=True, kw_only=True)
class CallContext:
    """Why a call is made; stored with every attempt in `llm_calls`."""

    purpose: str  # triage | correction | answer | reasoner | summary | doctor | eval
    ticket_id: int | None = None
    workspace_id: str | None = None
    user_id: str | None = None
    prompt_version: str | None = None
    retrieved_chunks: int = 0
    """Knowledge-base passages in the prompt (an answer's sources)."""
    retrieved_tokens: int = 0
    """About how many prompt tokens those passages added."""


@dataclass(frozen=True, kw_only=True)
class Usage:
    """Tokens as DeepSeek bills them. Reasoning tokens are part of completion tokens."""

    cache_hit_tokens: int = 0
    cache_miss_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        """Hit plus miss: every input token."""
        return self.cache_hit_tokens + self.cache_miss_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            cache_hit_tokens=self.cache_hit_tokens + other.cache_hit_tokens,
            cache_miss_tokens=self.cache_miss_tokens + other.cache_miss_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
        )


@dataclass(frozen=True, kw_only=True)
class ChatResult:
    """A successful chat completion."""

    content: str
    reasoning_content: str | None
    finish_reason: str | None
    usage: Usage
    model: str
    request_id: str | None
    latency_ms: int
    cost_usd: Decimal


@dataclass(frozen=True, kw_only=True)
class AttemptRecord:
    """One HTTP attempt, successful or not, as written to the ledger."""

    context: CallContext
    model: str
    status: str  # "ok", "http_429", "http_500", "timeout", "connection_error", ...
    error: str | None
    usage: Usage
    cost_usd: Decimal
    latency_ms: int
    attempt: int
    request_id: str | None
    started_at: datetime


class CallRecorder(Protocol):
    """Where the client writes every attempt (the `llm_calls` table in production)."""

    async def record(self, attempt: AttemptRecord) -> None:
        """Persist one attempt."""
        ...


class LlmGate(Protocol):
    """Says whether a model call may be made now (budgets); consulted before each one."""

    async def refusal(self, context: CallContext) -> str | None:
        """None to allow the call, or the reason it is refused (e.g. "daily budget reached")."""
        ...
