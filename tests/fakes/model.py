"""An in-process `ChatModel`: scripted replies, recorded calls, no HTTP.

In the style of simonw/llm's MockModel: queue what the model will say, run the code
under test, then look at what it was asked.

    model = FakeModel()
    model.enqueue('{"category": "billing", ...}')
    model.enqueue_error(ServerOverloaded("busy", status=503))
    ... run the caller with llm=model ...
    (call, _) = model.calls
    assert call.json_mode and call.context.purpose == "triage"

Each `chat()` pops the next queued item, in the order enqueued: a reply is returned
as a `ChatResult`, an error is raised as it is. An empty queue fails the test with an
AssertionError naming the call's purpose, so an unexpected extra call is noticed
(code under test catches `LLMError`, never AssertionError).

Usage is simulated like the HTTP fake's (tests/fakes/deepseek.py), so cache-aware and
cost-tallying callers see plausible, non-zero figures:

- prompt tokens = ceil(0.3 x characters of the prompt text), where the prompt text is
  each message as ``role + "\\n" + content``, joined by "\\n";
- cache hit tokens = the longest common character prefix with the prompt of any
  earlier answered call, x 0.3, rounded down to whole 64-token units; miss = the rest;
- completion tokens = ceil(0.3 x len(content)) + ceil(0.3 x len(reasoning)).

`cost_usd` is priced at fixed DeepSeek-like rates (`RATES`, USD per 1M tokens), so
it is a positive Decimal for any model name. Both can be given per reply instead.
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from dataclasses import dataclass, replace
from decimal import Decimal

from bot.llm.errors import LLMError
from bot.llm.pricing import Rates
from bot.llm.types import CallContext, ChatResult, Usage

__all__ = ["RATES", "Call", "FakeGate", "FakeModel", "Prompt", "prompt_text"]

RATES = Rates(hit=Decimal("0.028"), miss=Decimal("0.28"), output=Decimal("0.42"))
CACHE_UNIT = 64
_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, kw_only=True)
class Call:
    """One `chat()` call as the fake received it, and what it answered."""

    messages: list[dict[str, str]]
    model: str
    context: CallContext
    json_mode: bool
    max_tokens: int | None
    temperature: float | None
    result: ChatResult | None = None  # None when the call raised
    error: LLMError | None = None

    @property
    def system(self) -> str:
        """The content of the first system message ("" when there is none)."""
        return next((m["content"] for m in self.messages if m.get("role") == "system"), "")

    @property
    def user(self) -> str:
        """The content of the last user message ("" when there is none)."""
        users = [m["content"] for m in self.messages if m.get("role") == "user"]
        return users[-1] if users else ""


Prompt = Call  # simonw/llm's name for what the model was asked


@dataclass(frozen=True)
class _Reply:
    content: str
    finish_reason: str | None
    reasoning: str | None
    usage: Usage | None
    model: str | None
    cost_usd: Decimal | None


@dataclass(frozen=True)
class _Error:
    error: LLMError


class FakeModel:
    """A scripted chat model; satisfies `bot.llm.model.ChatModel` structurally."""

    def __init__(self, *, rates: Rates = RATES) -> None:
        self.rates = rates
        self.calls: list[Call] = []
        self._queue: deque[_Reply | _Error] = deque()
        self._answered: list[str] = []  # prompt texts answered so far, for cache hits

    # --- scripting -------------------------------------------------------------
    def enqueue(
        self,
        content: str,
        *,
        finish_reason: str | None = "stop",
        reasoning: str | None = None,
        usage: Usage | None = None,
        model: str | None = None,
        cost_usd: Decimal | None = None,
    ) -> None:
        """Queue one reply.

        Args:
            content: the reply text.
            finish_reason: "stop", "length" (cut off), "content_filter", ...
            reasoning: the reasoner's `reasoning_content`.
            usage: exact usage to report; simulated from the call when None.
            model: the model name to report; the requested one when None.
            cost_usd: exact cost to report; priced at `rates` when None.
        """
        self._queue.append(_Reply(content, finish_reason, reasoning, usage, model, cost_usd))

    def enqueue_error(self, error: LLMError) -> None:
        """Queue one error, raised by the call that pops it."""
        if not isinstance(error, LLMError):
            raise TypeError(f"enqueue_error() takes an LLMError, not {type(error).__name__}")
        self._queue.append(_Error(error))

    @property
    def pending(self) -> int:
        """How many queued items no call has popped yet."""
        return len(self._queue)

    # --- the ChatModel protocol ------------------------------------------------
    async def chat(
        self,
        messages: list[dict[str, str]],
        *,
        model: str,
        context: CallContext,
        json_mode: bool = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatResult:
        """Pop the next queued item: return the reply or raise the error."""
        await asyncio.sleep(0)  # a real model call yields to the loop
        record = Call(
            messages=copy.deepcopy(messages),
            model=model,
            context=context,
            json_mode=json_mode,
            max_tokens=max_tokens,
            temperature=temperature,
        )
        if not self._queue:
            self.calls.append(record)
            raise AssertionError(
                f"FakeModel has nothing queued for the {context.purpose!r} call "
                f"(call #{len(self.calls)}, model {model!r}); enqueue() a reply for it"
            )
        item = self._queue.popleft()
        if isinstance(item, _Error):
            self.calls.append(replace(record, error=item.error))
            raise item.error
        prompt = prompt_text(messages)
        usage = item.usage if item.usage is not None else self._usage(prompt, item)
        self._answered.append(prompt)
        result = ChatResult(
            content=item.content,
            reasoning_content=item.reasoning,
            finish_reason=item.finish_reason,
            usage=usage,
            model=item.model or model,
            request_id=f"fake-{len(self.calls) + 1}",
            latency_ms=1,
            cost_usd=item.cost_usd if item.cost_usd is not None else self.price(usage),
        )
        self.calls.append(replace(record, result=result))
        return result

    # --- simulation ------------------------------------------------------------
    def price(self, usage: Usage) -> Decimal:
        """What `usage` costs at this fake's rates."""
        total = (
            usage.cache_hit_tokens * self.rates.hit
            + usage.cache_miss_tokens * self.rates.miss
            + usage.completion_tokens * self.rates.output
        )
        return total / _MILLION

    def _usage(self, prompt: str, reply: _Reply) -> Usage:
        prompt_tokens = _tokens(len(prompt))
        common = max((_common_prefix_len(prompt, p) for p in self._answered), default=0)
        hit = min(common * 3 // 10 // CACHE_UNIT * CACHE_UNIT, prompt_tokens)
        reasoning = _tokens(len(reply.reasoning or ""))
        return Usage(
            cache_hit_tokens=hit,
            cache_miss_tokens=prompt_tokens - hit,
            completion_tokens=_tokens(len(reply.content)) + reasoning,
            reasoning_tokens=reasoning,
        )


def prompt_text(messages: list[dict[str, str]]) -> str:
    """The text the cache simulation compares: role and content per message."""
    return "\n".join(f"{m.get('role', '')}\n{m.get('content', '')}" for m in messages)


def _common_prefix_len(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _tokens(chars: int) -> int:
    # Integer arithmetic: ceil(0.3 x chars) without float rounding.
    return (chars * 3 + 9) // 10


class FakeGate:
    """An `LlmGate` with a fixed answer that remembers what it was asked."""

    def __init__(self, refusal: str | None) -> None:
        self._refusal = refusal
        self.asked: list[CallContext] = []

    async def refusal(self, context: CallContext) -> str | None:
        """The fixed refusal (None allows the call); the context is remembered."""
        self.asked.append(context)
        return self._refusal
