"""DeepSeek's streamed answers (server-sent events) as pure pieces: each line parsed on
its own, each chunk added to a `StreamState` that collects the content, reasoning,
finish reason and usage until the stream ends.

DeepSeek sends ``data: {chunk}`` lines and ``data: [DONE]`` at the end; SSE comments
(``: keep-alive``) and blank lines hold a busy connection open and are skipped. Usage
rides on the chunk with the finish reason (DeepSeek) or on a separate last chunk with
empty ``choices`` (OpenAI's ``include_usage``); both are taken.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from bot.llm.errors import LLMConnectionError, LLMStreamCut, UnexpectedResponse
from bot.llm.types import Usage
from bot.llm.wire import Completion, parse_usage

__all__ = ["DONE", "OnEnd", "OnText", "StreamState", "parse_event", "read_stream", "stream_body"]

DONE: Final = "[DONE]"
"""What `parse_event` returns for the line that ends the stream."""

OnText = Callable[[str], Awaitable[None]]
OnEnd = Callable[[], None]


def stream_body(body: dict[str, Any]) -> dict[str, Any]:
    """A chat body asking for a streamed answer with its usage at the end."""
    return {**body, "stream": True, "stream_options": {"include_usage": True}}


def parse_event(line: str) -> dict[str, Any] | str | None:
    """One line of the event stream: a chunk, `DONE`, or None for lines to skip.

    Raises:
        UnexpectedResponse: a ``data:`` line that is not a JSON object.
    """
    if not line.startswith("data:"):
        return None  # blank separators, ": keep-alive" comments, other SSE fields
    data = line.removeprefix("data:").strip()
    if data == DONE:
        return DONE
    try:
        chunk = json.loads(data)
    except ValueError:
        chunk = None
    if not isinstance(chunk, dict):
        raise UnexpectedResponse("DeepSeek streamed a malformed chunk", status=200)
    return chunk


@dataclass
class StreamState:
    """What one streamed attempt has received so far."""

    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    request_id: str | None = None
    done: bool = False
    """`data: [DONE]` arrived."""
    passed_on: bool = False
    """Some content went to the reader: from here on the attempt cannot be retried."""

    @property
    def complete(self) -> bool:
        """True once DeepSeek said the answer is over ([DONE] or a finish reason)."""
        return self.done or self.finish_reason is not None

    def take(self, chunk: dict[str, Any]) -> str:
        """Add one chunk; return its content delta ("" when it has none).

        Raises:
            UnexpectedResponse: the chunk does not have a chat chunk's shape.
        """
        try:
            return self._take(chunk)
        except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
            raise UnexpectedResponse("DeepSeek streamed a malformed chunk", status=200) from exc

    def _take(self, chunk: dict[str, Any]) -> str:
        self.request_id = self.request_id or chunk.get("id")
        self.model = self.model or chunk.get("model")
        if chunk.get("usage"):
            self.usage = parse_usage(chunk["usage"])
        choices = chunk.get("choices") or []
        if not choices:
            return ""  # OpenAI's usage-only chunk
        choice = choices[0]
        delta = choice.get("delta") or {}
        if delta.get("reasoning_content"):
            self.reasoning.append(str(delta["reasoning_content"]))
        text = str(delta.get("content") or "")
        if text:
            self.content.append(text)
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        return text

    def completion(self) -> Completion:
        """Everything received, as the completion a non-streamed call returns."""
        return Completion(
            content="".join(self.content),
            reasoning_content="".join(self.reasoning) if self.reasoning else None,
            finish_reason=self.finish_reason,
            usage=self.usage or Usage(),
            model=self.model,
            request_id=self.request_id,
        )

    def cut(self, cause_kind: str) -> LLMStreamCut:
        """The error for a stream that broke off after content was passed on."""
        chars = sum(map(len, self.content))
        cut = LLMStreamCut(
            f"DeepSeek's streamed answer broke off after {chars} characters ({cause_kind})",
            partial_text="".join(self.content),
            partial_reasoning="".join(self.reasoning) if self.reasoning else None,
            cause_kind=cause_kind,
            usage=self.usage,
        )
        cut.request_id = self.request_id
        return cut


async def read_stream(lines: AsyncIterator[str], state: StreamState, on_text: OnText) -> None:
    """Read event lines into `state`, awaiting `on_text` for each content delta in order.

    Raises:
        UnexpectedResponse: a malformed chunk.
        LLMConnectionError: the stream ended unfinished before any content was passed on.
        LLMStreamCut: it ended unfinished after that, or `on_text` raised (its error is
            the cause).
    """
    async for line in lines:
        event = parse_event(line)
        if event is None:
            continue
        if not isinstance(event, dict):  # DONE
            state.done = True
            break
        text = state.take(event)
        if text:
            state.passed_on = True
            await _pass_on(text, state, on_text)
    if not state.complete:
        if state.passed_on:
            raise state.cut("incomplete")
        raise LLMConnectionError("DeepSeek's stream ended before the answer began")


async def _pass_on(text: str, state: StreamState, on_text: OnText) -> None:
    try:
        await on_text(text)
    except Exception as exc:
        # The reader (a chat platform) failed: the answer cannot be shown whole any more.
        raise state.cut("receiver_failed") from exc
