"""A fake DeepSeek API: a real aiohttp server on 127.0.0.1 speaking DeepSeek's wire format.

Tests point the real client (ours, or the official `openai` SDK) at `base_url` and
script what the server answers:

    async with FakeDeepSeek() as fake:
        fake.fail(429, retry_after=1)
        fake.reply('{"category": "billing"}')
        ... call the client with base_url=fake.base_url ...
        assert len(fake.chat_requests) == 2

Behaviour, in the order a request meets it:

1. Every request is recorded in `requests` (method, path, headers, JSON body).
2. A missing or wrong bearer key answers 401 with DeepSeek's body.
3. Chat completions: a body that is not a JSON object with a `messages` list answers
   400 "Invalid request body format."; an unknown model answers 400 "Model Not Exist".
   Neither consumes a scripted item.
4. The first scripted item (`reply` / `fail`) that fits the request answers, in the
   order enqueued. A reply fits requests of its own mode: JSON-mode requests
   (`response_format: json_object`: triage, its correction) get the replies whose content
   is a JSON object, other requests (answers, summaries) the rest; `json_mode=` says so
   explicitly (a malformed verdict meant for triage), and `for_model=` keeps a reply for
   requests naming that model (the reasoner's answer). A failure fits any request unless
   given `json_mode=`. So a test's script does not depend on which of two concurrent
   calls (triage and the answer drafted beside it) arrives first. When nothing fits,
   `responder(body)` gives the content; when there is no responder either, 500 with a
   message saying the fake has no scripted reply, so tests notice.
5. A request with ``"stream": true`` gets its reply as server-sent events, shaped by
   the reply's `stream=StreamShape(...)` (or the fake's `stream_shape`): pieces, time
   to the first token, gaps, keep-alive comments, where usage rides, a cut. Failures
   are answered as JSON errors, as DeepSeek does. See `tests.fakes.deepseek_stream`.

Usage is simulated so cache-aware code can be tested:

- The prompt text is each message as ``role + "\\n" + content``, joined by "\\n".
- prompt_tokens = ceil(0.3 x characters) (DeepSeek's rule of thumb for English).
- Cache hit tokens = the longest common character prefix with the prompt text of any
  earlier *answered* chat request, x 0.3, rounded down to a multiple of 64 tokens
  (DeepSeek's cache storage unit), capped at prompt_tokens; miss = prompt - hit.
- completion_tokens = ceil(0.3 x len(content)) + reasoning tokens, where reasoning
  tokens = ceil(0.3 x len(reasoning_content)).

Integer arithmetic (x3 // 10) keeps the figures exact; floats would make
ceil(10 * 0.3) equal 4.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.deepseek_stream import StreamShape, send_stream

__all__ = ["STATUS_MESSAGES", "FakeDeepSeek", "RecordedRequest", "StreamShape"]

# DeepSeek's own messages and error types per status (see deepseek-facts.md).
STATUS_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Invalid request body format.", "invalid_request_error"),
    401: ("Authentication fails due to the wrong API key.", "authentication_error"),
    402: ("Insufficient Balance", "unknown_error"),
    422: ("Your request contains invalid parameters.", "invalid_request_error"),
    429: ("You are sending requests too quickly.", "rate_limit_error"),
    500: ("Our server encounters an issue.", "server_error"),
    503: ("The server is overloaded due to high traffic.", "server_error"),
}
CACHE_UNIT = 64
KEEPALIVE_PAUSE = 0.05


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    at: float = field(default_factory=time.monotonic)
    """time.monotonic() when it arrived."""


@dataclass(frozen=True)
class _Reply:
    content: str
    reasoning_content: str | None = None
    finish_reason: str = "stop"
    delay: float = 0.0
    keepalive_lines: int = 0
    model: str | None = None
    json_mode: bool | None = None
    for_model: str | None = None
    stream: StreamShape | None = None


@dataclass(frozen=True)
class _Failure:
    status: int
    message: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    json_mode: bool | None = None
    for_model: str | None = None


def _is_json_object(content: str) -> bool:
    try:
        return isinstance(json.loads(content), dict)
    except ValueError:
        return False


def _fits(step: _Reply | _Failure, body: dict[str, Any]) -> bool:
    wanted = (body.get("response_format") or {}).get("type") == "json_object"
    if step.for_model is not None and body.get("model") != step.for_model:
        return False
    return step.json_mode is None or step.json_mode == wanted


class FakeDeepSeek:
    """A scripted DeepSeek server on a free loopback port; use `async with`."""

    def __init__(
        self,
        *,
        api_key: str = "sk-test-fake-key",
        models: tuple[str, ...] | list[str] = ("deepseek-chat", "deepseek-reasoner"),
        balance_available: bool = True,
    ) -> None:
        self.api_key = api_key
        self.models = tuple(models)
        self.balance_available = balance_available
        # Gives the content when the script is empty; None makes that a 500.
        self.responder: Callable[[dict[str, Any]], str] | None = None
        self.responder_delay = 0.0  # seconds each responder answer waits, for slow-model tests
        self.stream_shape = StreamShape()
        """How replies scripted without their own `stream=` are streamed."""
        self.in_flight = 0
        self.most_in_flight = 0
        """The most chat calls this fake was answering at one time."""
        self.requests: list[RecordedRequest] = []
        self.base_url = ""
        self._script: deque[_Reply | _Failure] = deque()
        self._prompts: list[str] = []  # prompt texts answered so far, for cache hits
        self._runner: web.AppRunner | None = None

    # --- scripting -------------------------------------------------------------
    def reply(
        self,
        content: str,
        *,
        reasoning_content: str | None = None,
        finish_reason: str = "stop",
        delay: float = 0.0,
        keepalive_lines: int = 0,
        model: str | None = None,
        json_mode: bool | None = None,
        for_model: str | None = None,
        stream: StreamShape | None = None,
    ) -> None:
        """Enqueue one successful chat completion, for a JSON-mode request when `content`
        is a JSON object (or `json_mode` says so), else for a plain one; with
        `for_model`, only for a request naming that model. Asked for with
        ``"stream": true``, it is streamed as `stream` says (else `stream_shape`)."""
        if json_mode is None:
            json_mode = _is_json_object(content)
        self._script.append(
            _Reply(
                content,
                reasoning_content,
                finish_reason,
                delay,
                keepalive_lines,
                model,
                json_mode,
                for_model,
                stream,
            )
        )

    def fail(
        self,
        status: int,
        *,
        message: str | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
        json_mode: bool | None = None,
    ) -> None:
        """Enqueue one error answer with DeepSeek's body (and a Retry-After header if
        given), for any request, or only JSON-mode (True) or plain (False) ones."""
        self._script.append(_Failure(status, message, retry_after, delay, json_mode))

    @property
    def pending(self) -> int:
        """How many scripted items are still waiting for a request."""
        return len(self._script)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """Bodies of every chat completion request, in arrival order."""
        paths = {"/chat/completions", "/v1/chat/completions"}
        return [r.json for r in self.requests if r.method == "POST" and r.path in paths]

    # --- lifecycle -------------------------------------------------------------
    async def __aenter__(self) -> FakeDeepSeek:
        app = web.Application(middlewares=[self._record_and_authenticate])
        for prefix in ("", "/v1"):
            app.router.add_post(f"{prefix}/chat/completions", self._chat)
            app.router.add_get(f"{prefix}/models", self._models)
        app.router.add_get("/user/balance", self._balance)
        # Cancel handlers whose client went away (timeouts), so shutdown is quick.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- handlers --------------------------------------------------------------
    @web.middleware
    async def _record_and_authenticate(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.requests.append(
            RecordedRequest(request.method, request.path, dict(request.headers), body)
        )
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if given != self.api_key:
            message = f"Authentication Fails, Your api key: ****{given[-4:]} is invalid"
            return _error(401, message, "authentication_error")
        return await handler(request)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = self.requests[-1].json
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400)
        if body.get("model") not in self.models:
            return _error(400, "Model Not Exist")
        step = self._next_step(body)
        if step is None:
            return _error(500, "FakeDeepSeek has no scripted reply for this request", "fake")
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(step.delay)
        finally:
            self.in_flight -= 1
        if isinstance(step, _Failure):
            return _error(step.status, step.message, retry_after=step.retry_after)
        completion = self._completion(body, step)
        if body.get("stream") is True:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            shape = step.stream or self.stream_shape
            return await send_stream(
                request,
                completion,
                shape,
                include_usage=include_usage,
                keepalive_lines=step.keepalive_lines,
                headers=_rid(),
            )
        payload = json.dumps(completion).encode()
        if step.keepalive_lines <= 0:
            return web.Response(body=payload, content_type="application/json", headers=_rid())
        return await _stream_with_keepalive(request, payload, step.keepalive_lines)

    async def _models(self, request: web.Request) -> web.Response:
        data = [{"id": m, "object": "model", "owned_by": "deepseek"} for m in self.models]
        return web.json_response({"object": "list", "data": data}, headers=_rid())

    async def _balance(self, request: web.Request) -> web.Response:
        info = {
            "currency": "USD",
            "total_balance": "110.00",
            "granted_balance": "10.00",
            "topped_up_balance": "100.00",
        }
        body = {"is_available": self.balance_available, "balance_infos": [info]}
        return web.json_response(body, headers=_rid())

    # --- simulation ------------------------------------------------------------
    def _next_step(self, body: dict[str, Any]) -> _Reply | _Failure | None:
        for step in self._script:
            if _fits(step, body):
                self._script.remove(step)
                return step
        if self.responder is not None:
            return _Reply(self.responder(body), delay=self.responder_delay)
        return None

    def _completion(self, body: dict[str, Any], reply: _Reply) -> dict[str, Any]:
        prompt = prompt_text(body["messages"])
        usage = self._usage(prompt, reply)
        self._prompts.append(prompt)
        message = {
            "role": "assistant",
            "content": reply.content,
            "reasoning_content": reply.reasoning_content,
        }
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": reply.finish_reason,
        }
        return {
            "id": str(uuid.uuid4()),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model or body["model"],
            "system_fingerprint": "fp_fake",
            "choices": [choice],
            "usage": usage,
        }

    def _usage(self, prompt: str, reply: _Reply) -> dict[str, Any]:
        prompt_tokens = _ceil_tokens(len(prompt))
        common = max((_common_prefix_len(prompt, p) for p in self._prompts), default=0)
        hit = min(common * 3 // 10 // CACHE_UNIT * CACHE_UNIT, prompt_tokens)
        reasoning = _ceil_tokens(len(reply.reasoning_content or ""))
        completion = _ceil_tokens(len(reply.content)) + reasoning
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": hit},
            "prompt_cache_hit_tokens": hit,
            "prompt_cache_miss_tokens": prompt_tokens - hit,
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }


def prompt_text(messages: list[Any]) -> str:
    """The canonical text the cache simulation compares: role and content per message."""
    parts = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else message
        if not isinstance(content, str):
            content = json.dumps(content, sort_keys=True)
        role = message.get("role", "") if isinstance(message, dict) else ""
        parts.append(f"{role}\n{content}")
    return "\n".join(parts)


def _common_prefix_len(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _ceil_tokens(chars: int) -> int:
    return (chars * 3 + 9) // 10


def _rid() -> dict[str, str]:
    return {"x-request-id": str(uuid.uuid4())}


def _error(
    status: int,
    message: str | None = None,
    kind: str | None = None,
    *,
    retry_after: float | None = None,
) -> web.Response:
    default_message, default_kind = STATUS_MESSAGES.get(status, ("Unknown error", "unknown_error"))
    error = {
        "message": message or default_message,
        "type": kind or default_kind,
        "param": None,
        "code": "invalid_request_error",
    }
    headers = _rid()
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    return web.json_response({"error": error}, status=status, headers=headers)


async def _stream_with_keepalive(
    request: web.Request, payload: bytes, lines: int
) -> web.StreamResponse:
    # DeepSeek holds busy connections open with blank lines before the JSON body.
    response = web.StreamResponse(status=200, headers=_rid())
    response.content_type = "application/json"
    await response.prepare(request)
    for _ in range(lines):
        await response.write(b"\n")
        await asyncio.sleep(KEEPALIVE_PAUSE)
    await response.write(payload)
    await response.write_eof()
    return response
