"""The narrow seam the core talks to a model through.

Triage, answers and summaries need one thing: a chat completion with its usage and
cost. `DeepSeekClient` is the real implementation; tests use an in-process
`FakeModel` (tests/fakes/model.py), and the HTTP fake only for the client itself and
end-to-end runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from bot.llm.types import CallContext, ChatResult

__all__ = ["ChatModel", "StreamingChatModel"]


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


@runtime_checkable
class StreamingChatModel(ChatModel, Protocol):
    """A model that can also hand over its answer piece by piece as it writes it."""

    async def chat_stream(
        self,
        messages: list[dict[str, str]],
        *,
        model: str,
        context: CallContext,
        on_text: Callable[[str], Awaitable[None]],
        on_end: Callable[[], None] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatResult:
        """One streamed completion: `on_text` gets each new piece, `on_end` is called
        once the model has written the whole answer (before it is priced and recorded);
        the result is the whole, priced and recorded like `chat`.

        Raises:
            bot.llm.errors.LLMStreamCut: the stream broke off after some text was passed on.
            bot.llm.errors.LLMError: any other failure, as `chat` raises it.
        """
        ...
