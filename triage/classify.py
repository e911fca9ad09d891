"""Ticket text -> a valid `TriageResult`, whatever the model or the network does.

One JSON-mode call; when its output does not validate (or was cut off, or names a
category outside the workspace's taxonomy), exactly one correction re-ask quoting the
validation error (instructor's pattern); when that fails too, or the model cannot be
reached, the offline rules decide and a person checks. The caller never sees an LLM
error: a ticket must always get a verdict.

Each call is for one workspace: its playbook (looked up by the call's
`workspace_id`) gives the taxonomy the prompt is rendered from, the verdict is
checked against, and the rules fall back to.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from bot.config.playbook import Playbooks
from bot.config.taxonomy import Taxonomy
from bot.llm.errors import (
    AuthenticationFailed,
    InsufficientBalance,
    LLMError,
    LLMNotConfigured,
)
from bot.llm.model import ChatModel
from bot.llm.types import CallContext, ChatResult, LlmGate, Usage
from triage.fallback import classify_offline
from triage.prompts import Prompt, PromptBook, triage_messages
from triage.schema import TriageInvalid, TriageResult, parse_triage

__all__ = ["CUT_OFF_ERROR", "Classification", "Classifier"]

logger = logging.getLogger(__name__)

CUT_OFF_ERROR = (
    "the output was cut off at the token limit before the JSON object was complete; "
    "answer with a shorter JSON object (a summary well under 280 characters)"
)


@dataclass(frozen=True)
class Classification:
    """A verdict and how it was reached (for `triage_runs`, the eval and the ledger)."""

    result: TriageResult
    source: Literal["llm", "fallback"]
    model: str | None
    prompt_version: str  # the triage prompt used, or that would have been used
    llm_calls: int  # chat() calls made: 0, 1 or 2 (a correction is the 2nd)
    corrected: bool
    usage: Usage
    cost_usd: Decimal
    fallback_reason: str | None
    latency_ms: int

    @property
    def search_queries(self) -> tuple[str, ...]:
        """The verdict's knowledge-base queries; () when the rules decided."""
        return self.result.search_queries

    def as_dict(self) -> dict[str, Any]:
        """The verdict and how it was reached, JSON-ready (for `supportbot triage`).

        The verdict's fields come first, `search_queries` (a list) among them.
        """
        return {
            **self.result.model_dump(mode="json"),
            "source": self.source,
            "prompt_version": self.prompt_version,
            "model": self.model,
            "llm_calls": self.llm_calls,
            "corrected": self.corrected,
            "fallback_reason": self.fallback_reason,
            "tokens": {
                "cache_hit": self.usage.cache_hit_tokens,
                "cache_miss": self.usage.cache_miss_tokens,
                "completion": self.usage.completion_tokens,
                "reasoning": self.usage.reasoning_tokens,
            },
            "cost_usd": str(self.cost_usd),
            "latency_ms": self.latency_ms,
        }


@dataclass
class _Tally:
    """What the calls of one classify() cost so far."""

    calls: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal(0)
    model: str | None = None

    def add(self, result: ChatResult) -> None:
        self.usage += result.usage
        self.cost += result.cost_usd
        self.model = result.model


class _Fallback(Exception):
    """Stop trying the model; use the rules for this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reason_for(error: LLMError) -> str:
    if isinstance(error, AuthenticationFailed):
        return "auth failed"
    if isinstance(error, InsufficientBalance):
        return "insufficient balance"
    return f"model unavailable: {error.kind}"


def _check(chat: ChatResult, taxonomy: Taxonomy) -> TriageResult:
    # A cut-off reply may still parse (a closing brace from the model's habit);
    # it is not trusted either way.
    if chat.finish_reason == "length":
        raise TriageInvalid(CUT_OFF_ERROR)
    return parse_triage(chat.content, taxonomy)


@dataclass(frozen=True)
class _Desk:
    """What one workspace's triage uses: its prompts and its taxonomy."""

    triage: Prompt
    correction: Prompt
    taxonomy: Taxonomy


class Classifier:
    """Classifies tickets with DeepSeek's chat model, falling back to rules."""

    def __init__(
        self,
        *,
        llm: ChatModel | None,
        model: str,
        prompts: PromptBook,
        max_tokens: int = 400,
        max_input_chars: int = 4000,
        gate: LlmGate | None = None,
        playbooks: Playbooks | None = None,
    ) -> None:
        """Keep the collaborators.

        Args:
            llm: the chat model (the DeepSeek client), or None when no API key is set.
            model: the triage model name (a setting).
            prompts: where the triage and correction prompts come from.
            max_tokens: output limit of each call; enough for the JSON object.
            gate: consulted before the model is asked (a spent budget means rules).
            max_input_chars: ticket text beyond this is cut before sending.
            playbooks: each workspace's taxonomy and product (default: today's five
                categories for every workspace).
        """
        self._llm = llm
        self._model = model
        self._prompts = prompts
        self._playbooks = playbooks or Playbooks()
        self._max_tokens = max_tokens
        self._max_input_chars = max_input_chars
        self._gate = gate

    async def classify(self, text: str, *, context: CallContext) -> Classification:
        """Classify one ticket; never raises for model or network trouble.

        Args:
            text: the ticket text (already redacted by the caller).
            context: who and what the calls are for; purpose and prompt version are
                set here per call ("triage", then "correction").

        Returns:
            A valid verdict; `source` says whether the model or the rules gave it.
        """
        clock = time.monotonic()
        tally = _Tally()
        desk = self._desk(context.workspace_id)
        try:
            result, corrected = await self._ask_model(text, context, desk, tally)
        except _Fallback as stop:
            # No key is a chosen mode, not a fault: keep it out of the warnings.
            level = logging.INFO if tally.calls == 0 else logging.WARNING
            logger.log(level, "triage.fallback reason=%s calls=%d", stop.reason, tally.calls)
            rules = classify_offline(text, desk.taxonomy)
            return _classification(
                desk, rules, clock, tally, corrected=tally.calls > 1, reason=stop.reason
            )
        return _classification(desk, result, clock, tally, corrected=corrected)

    def offline(self, text: str, reason: str, *, workspace_id: str | None = None) -> Classification:
        """The rules' verdict without asking the model (over a rate limit, say).

        Args:
            text: the ticket text.
            reason: why the model is not asked (recorded as the fallback reason).
            workspace_id: whose taxonomy the rules use (None: the default playbook's).
        """
        desk, clock = self._desk(workspace_id), time.monotonic()
        rules = classify_offline(text, desk.taxonomy)
        return _classification(desk, rules, clock, _Tally(), corrected=False, reason=reason)

    def _desk(self, workspace_id: str | None) -> _Desk:
        playbook = self._playbooks.for_workspace(workspace_id)
        return _Desk(
            triage=self._prompts.for_playbook("triage", playbook),
            correction=self._prompts.for_playbook("correction", playbook),
            taxonomy=playbook.taxonomy,
        )

    async def _ask_model(
        self, text: str, context: CallContext, desk: _Desk, tally: _Tally
    ) -> tuple[TriageResult, bool]:
        llm = self._llm
        if llm is None:
            raise _Fallback("no API key")
        refusal = await self._gate.refusal(context) if self._gate is not None else None
        if refusal is not None:
            raise _Fallback(refusal)
        messages = triage_messages(desk.triage, text, max_chars=self._max_input_chars)
        first = await self._call(llm, messages, context, desk.triage, tally)
        try:
            return _check(first, desk.taxonomy), False
        except TriageInvalid as invalid:
            error = str(invalid)
        logger.info("triage.invalid error=%s; asking for a correction", error)
        messages = [
            *messages,
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": _correction_text(desk.correction, error)},
        ]
        second = await self._call(llm, messages, context, desk.correction, tally)
        try:
            return _check(second, desk.taxonomy), True
        except TriageInvalid as invalid:
            raise _Fallback(f"invalid output after correction: {invalid}") from None

    async def _call(
        self,
        llm: ChatModel,
        messages: list[dict[str, str]],
        context: CallContext,
        prompt: Prompt,
        tally: _Tally,
    ) -> ChatResult:
        try:
            chat = await llm.chat(
                messages,
                model=self._model,
                # The ledger's purpose is the prompt's name: "triage", then "correction".
                context=replace(context, purpose=prompt.name, prompt_version=prompt.version),
                json_mode=True,
                temperature=0,
                max_tokens=self._max_tokens,
            )
        except LLMNotConfigured:
            # Nothing was sent, so it does not count as a call.
            raise _Fallback("no API key") from None
        except LLMError as exc:
            tally.calls += 1
            # The client already retried what was worth retrying.
            raise _Fallback(_reason_for(exc)) from None
        tally.calls += 1
        tally.add(chat)
        return chat


def _correction_text(correction: Prompt, error: str) -> str:
    # replace(), not format(): the template may hold literal JSON braces.
    return correction.text.replace("{error}", error)


def _classification(
    desk: _Desk,
    result: TriageResult,
    clock: float,
    tally: _Tally,
    *,
    corrected: bool,
    reason: str | None = None,
) -> Classification:
    return Classification(
        result=result,
        source="llm" if reason is None else "fallback",
        model=tally.model if reason is None else None,
        prompt_version=desk.triage.version,
        llm_calls=tally.calls,
        corrected=corrected,
        usage=tally.usage,
        cost_usd=tally.cost,
        fallback_reason=reason,
        latency_ms=int((time.monotonic() - clock) * 1000),
    )
