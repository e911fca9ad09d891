"""Streamed answers of the fake DeepSeek: a finished completion sent as server-sent events.

The shape follows DeepSeek (deepseek-facts.md, "Streaming (SSE)"):

    data: {"choices": [{"delta": {"role": "assistant", "content": ""}, ...}], ...}
    data: {"choices": [{"delta": {"reasoning_content": "Let"}, ...}], ...}   (reasoner)
    data: {"choices": [{"delta": {"content": "Hello "}, ...}], ...}
    : keep-alive
    data: {"choices": [{"delta": {"content": ""}, "finish_reason": "stop"}], "usage": {...}}
    data: [DONE]

Usage rides on the chunk with the finish reason by default (DeepSeek's behaviour);
``StreamShape(usage_chunk=True)`` sends it OpenAI's way instead: on a separate last
chunk with empty ``choices``, and only when the request asked for
``stream_options.include_usage``. Usage is the very figure a non-streamed answer gets.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

__all__ = ["StreamShape", "pieces_of", "send_stream"]

KEEPALIVE = b": keep-alive\n\n"
MALFORMED = b'data: {"choices": [{"delta": \n\n'


@dataclass(frozen=True, kw_only=True)
class StreamShape:
    """How one streamed reply is sent."""

    words_per_chunk: int = 1
    """Content (and reasoning) cut into chunks of this many words, spaces kept."""
    pieces: tuple[str, ...] | None = None
    """Exact content pieces instead (they must join to the reply's content)."""
    first_token_delay: float = 0.0
    """Seconds between the first (role) chunk and the first text chunk."""
    chunk_gap: float = 0.0
    """Seconds between text chunks."""
    keepalive_every: int = 2
    """A ``: keep-alive`` comment after every this many text chunks; 0 for none."""
    usage_chunk: bool = False
    """OpenAI's way: usage on a separate last chunk (only with include_usage)."""
    cut_after: int | None = None
    """Break off after this many text chunks (0: right after the role chunk)."""
    cut_how: Literal["drop", "end", "garbage"] = "drop"
    """How to break off: drop the connection; end the body cleanly without a finish
    reason and without ``[DONE]``; or send a malformed ``data:`` line, then end."""


def pieces_of(text: str, words: int) -> list[str]:
    """`text` in pieces of `words` words, each keeping its trailing spaces; joins to `text`."""
    tokens = re.findall(r"\S+\s*|\s+", text)
    step = max(words, 1)
    return ["".join(tokens[i : i + step]) for i in range(0, len(tokens), step)]


def _chunk(
    base: dict[str, Any], delta: dict[str, Any], finish: str | None = None
) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {**base, "choices": [choice], "usage": None}


def _base(completion: dict[str, Any]) -> dict[str, Any]:
    """The fields every chunk repeats: id, created, model, fingerprint."""
    base = {k: v for k, v in completion.items() if k not in ("choices", "usage")}
    return {**base, "object": "chat.completion.chunk"}


def _event(data: dict[str, Any] | str) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"data: {text}\n\n".encode()


def _deltas(completion: dict[str, Any], shape: StreamShape) -> list[dict[str, Any]]:
    message = completion["choices"][0]["message"]
    reasoning = message.get("reasoning_content") or ""
    content = message.get("content") or ""
    pieces = list(shape.pieces) if shape.pieces is not None else None
    if pieces is not None and "".join(pieces) != content:
        raise ValueError("StreamShape.pieces must join to the reply's content")
    thoughts = [
        {"content": None, "reasoning_content": p}
        for p in pieces_of(reasoning, shape.words_per_chunk)
    ]
    words = pieces if pieces is not None else pieces_of(content, shape.words_per_chunk)
    return thoughts + [{"content": p} for p in words]


def _ending(completion: dict[str, Any], shape: StreamShape, include_usage: bool) -> list[bytes]:
    base = _base(completion)
    last = _chunk(base, {"content": ""}, completion["choices"][0]["finish_reason"])
    if not shape.usage_chunk:
        return [_event({**last, "usage": completion["usage"]}), _event("[DONE]")]
    events = [_event(last)]
    if include_usage:
        events.append(_event({**base, "choices": [], "usage": completion["usage"]}))
    return [*events, _event("[DONE]")]


async def send_stream(
    request: web.Request,
    completion: dict[str, Any],
    shape: StreamShape,
    *,
    include_usage: bool,
    keepalive_lines: int = 0,
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    """Answer `request` with `completion` as an event stream shaped by `shape`."""
    response = web.StreamResponse(
        status=200, headers={"Cache-Control": "no-cache", **(headers or {})}
    )
    response.content_type = "text/event-stream"
    await response.prepare(request)
    base = _base(completion)
    for _ in range(keepalive_lines):  # a busy server holds the connection open first
        await response.write(KEEPALIVE)
    await response.write(_event(_chunk(base, {"role": "assistant", "content": ""})))
    await asyncio.sleep(shape.first_token_delay)
    for sent, delta in enumerate(_deltas(completion, shape)):
        if sent == shape.cut_after:
            return await _break_off(request, response, shape)
        if sent:
            await asyncio.sleep(shape.chunk_gap)
        await response.write(_event(_chunk(base, delta)))
        if shape.keepalive_every and (sent + 1) % shape.keepalive_every == 0:
            await response.write(KEEPALIVE)
    if shape.cut_after is not None:
        return await _break_off(request, response, shape)
    for event in _ending(completion, shape, include_usage):
        await response.write(event)
    await response.write_eof()
    return response


async def _break_off(
    request: web.Request, response: web.StreamResponse, shape: StreamShape
) -> web.StreamResponse:
    if shape.cut_how == "garbage":
        await response.write(MALFORMED)
    if shape.cut_how in ("end", "garbage"):
        await response.write_eof()
        return response
    if request.transport is not None:
        request.transport.close()  # the chunked body stays unfinished: a dropped connection
    return response
