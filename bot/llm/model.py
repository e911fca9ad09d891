"""The narrow seam the core talks to a model through.

Triage, answers and summaries need one thing: a chat completion with its usage and
cost. `DeepSeekClient` is the real implementation; tests use an in-process
`FakeModel` (tests/fakes/model.py), and the HTTP fake only for the client itself and
end-to-end runs.
"""

from __future__ import annotations

from typing import Protocol

from bot.llm.types import CallContext, ChatResult

__all__ = ["ChatModel"]


class ChatModel(Protocol):
    """Anything that answers chat messages and records what each attempt cost."""

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
        """One completion.

        Raises:
            bot.llm.errors.LLMError: the typed error of the call that failed for good.
        """
        ...
