"""The async DeepSeek client: chat completions with retries, typed errors and a ledger.

Transient failures (429, 500, 503, timeouts, connection errors) are retried by the
one policy in `bot.llm.retry`; everything else fails at once with a typed error. One
overall deadline bounds the whole call. Every HTTP attempt, failed ones too, is handed to
the `CallRecorder` with its usage and cost, because failed attempts cost time and
sometimes money; an attempt cancelled while DeepSeek works (a shutdown) is recorded as
`cancelled`, and a cancellation arriving while a record is written does not lose it.
`chat_stream` gives the same answer, usage, cost and ledger rows, its content passed on
as it arrives (the event stream is read by `bot.llm.stream`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Self

from pydantic import SecretStr

from bot.llm.attempts import Attempt, ms_since, run_recorded, tagged
from bot.llm.errors import (
    LLMConnectionError,
    LLMError,
    LLMNotConfigured,
    LLMStreamCut,
    LLMTimeout,
    error_for_status,
)
from bot.llm.http import TRANSPORT_ERRORS, ModelHttp, Reply, StreamReply
from bot.llm.pricing import PriceTable
from bot.llm.retry import RetryPolicy
from bot.llm.stream import OnEnd, OnText, StreamState, read_stream, stream_body
from bot.llm.types import CallContext, CallRecorder, ChatResult
from bot.llm.wire import (
    Balance,
    BalanceInfo,
    Completion,
    chat_body,
    decode_object,
    error_message,
    parse_balance,
    parse_completion,
    parse_models,
    retry_after_seconds,
)

__all__ = ["Balance", "BalanceInfo", "DeepSeekClient"]

_MIN_ATTEMPT_SECONDS = 0.01
_OK = 200
_Once = Callable[..., Awaitable[ChatResult]]


class DeepSeekClient:
    """Talks to DeepSeek's OpenAI-compatible API; one instance per process."""

    def __init__(
        self,
        *,
        api_key: SecretStr | None,
        base_url: str,
        prices: PriceTable,
        recorder: CallRecorder | None = None,
        timeout: float = 60.0,
        deadline: float = 120.0,
        max_attempts: int = 3,
        retry_after_cap: float = 20.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        concurrency: int = 512,
        http: ModelHttp | None = None,
    ) -> None:
        self._key = api_key
        self._base_url = base_url.rstrip("/")
        self._prices = prices
        self._recorder = recorder
        self._timeout = timeout
        self._deadline = deadline
        self._retry = RetryPolicy(
            max_attempts=max_attempts,
            deadline=deadline,
            retry_after_cap=retry_after_cap,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
        )
        # Model calls are I/O: bounded on their own, not by how many events are in
        # flight; a call waits here for a slot, within its deadline.
        self._slots = asyncio.Semaphore(concurrency)
        self._owns_http = http is None
        self._http = http or ModelHttp(concurrency, timeout=timeout)

    def __repr__(self) -> str:
        configured = self._key is not None
        return f"DeepSeekClient(base_url={self._base_url!r}, api_key_set={configured})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool, unless the caller passed its own client."""
        if self._owns_http:
            await self._http.aclose()

    # --- public calls ----------------------------------------------------------
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
        """One chat completion, retried on transient failures, every attempt recorded.

        Args:
            messages: OpenAI-style messages; any `reasoning_content` key is dropped,
                since DeepSeek must not get its reasoning back.
            model: the model name (a setting: DeepSeek renames models).
            context: why the call is made; stored with every attempt.
            json_mode: ask for a JSON object (`response_format`); the prompt must
                contain the word "json".
            max_tokens: output limit, sent only when given.
            temperature: sampling temperature, sent only when given.

        Raises:
            LLMNotConfigured: no API key; nothing was sent.
            LLMError: the typed error of the last attempt once retries are spent, the
                deadline is near, or the error is not retryable.
        """
        key = self._require_key()
        body = chat_body(
            messages,
            model=model,
            json_mode=json_mode,
            max_tokens=max_tokens,
            temperature=temperature,
        )
        deadline_at = time.monotonic() + self._deadline
        return await self._retried(context, model, self._chat_once, body, key, deadline_at)

    async def chat_stream(
        self,
        messages: list[dict[str, str]],
        *,
        model: str,
        context: CallContext,
        on_text: OnText,
        on_end: OnEnd | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatResult:
        """One chat completion streamed: `on_text` gets each content delta as it arrives.

        Result, usage, cost and ledger rows (one per attempt) are those `chat()` gives for
        the same answer. An attempt failing before any text went to `on_text` is retried
        like `chat()`; after that, it is not. Arguments as for `chat()`, and:

        Args:
            on_text: awaited with each non-empty content delta, in order (reasoning is
                collected, never passed on).
            on_end: called once the stream ended whole, before the attempt is priced
                and recorded (storing it may take a while on a busy database).

        Raises:
            LLMNotConfigured: no API key; nothing was sent.
            LLMStreamCut: the stream broke off (or `on_text` raised) after text was
                passed on; the partial text is in its `partial_text`.
            LLMError: as for `chat()`, for failures before any text was passed on.
        """
        key = self._require_key()
        body = stream_body(
            chat_body(messages, model=model, max_tokens=max_tokens, temperature=temperature)
        )
        deadline_at = time.monotonic() + self._deadline
        step = functools.partial(self._stream_once, on_text=on_text, on_end=on_end)
        return await self._retried(context, model, step, body, key, deadline_at)

    async def list_models(self) -> list[str]:
        """The model ids the account can use (`GET /models`)."""
        return parse_models(await self._get_json("/models"))

    async def balance(self) -> Balance:
        """The account balance (`GET /user/balance`)."""
        return parse_balance(await self._get_json("/user/balance"))

    def _attempt_budget(self, deadline_at: float) -> float:
        return max(min(self._timeout, deadline_at - time.monotonic()), _MIN_ATTEMPT_SECONDS)

    def _require_key(self) -> SecretStr:
        if self._key is None or not self._key.get_secret_value():
            raise LLMNotConfigured("no DeepSeek API key: set DEEPSEEK_API_KEY")
        return self._key

    # --- one attempt -------------------------------------------------------------
    async def _retried(
        self, context: CallContext, model: str, once: _Once, *args: Any
    ) -> ChatResult:
        """`once(attempt, *args)` under the retry policy, every attempt recorded."""
        async for retrying in self._retry.retrying():
            with retrying:
                attempt = Attempt(context, model, retrying.retry_state.attempt_number)
                run = functools.partial(once, attempt, *args)
                return await run_recorded(
                    attempt, run, recorder=self._recorder, prices=self._prices
                )
        raise AssertionError("unreachable: tenacity returns or re-raises")

    async def _chat_once(
        self, attempt: Attempt, body: dict[str, Any], key: SecretStr, deadline_at: float
    ) -> ChatResult:
        response = await self._send("POST", "/chat/completions", key, deadline_at, body)
        with tagged(response.headers):
            return self._result(parse_completion(self._json_body(response)), response, attempt)

    async def _stream_once(
        self,
        attempt: Attempt,
        body: dict[str, Any],
        key: SecretStr,
        deadline_at: float,
        *,
        on_text: OnText,
        on_end: OnEnd | None,
    ) -> ChatResult:
        state = StreamState()
        url, headers = self._base_url + "/chat/completions", self._auth(key)
        try:
            async with self._window(deadline_at) as budget:
                options = {"json": body, "headers": headers, "read_seconds": budget}
                async with self._http.stream("POST", url, **options) as response:
                    result = await self._read_streamed(response, state, on_text, attempt)
        except LLMError as exc:
            if state.passed_on and not isinstance(exc, LLMStreamCut):
                raise state.cut(exc.kind) from exc
            raise
        if on_end is not None:
            on_end()
        return result

    async def _read_streamed(
        self, response: StreamReply, state: StreamState, on_text: OnText, attempt: Attempt
    ) -> ChatResult:
        with tagged(response.headers):
            if response.status != _OK:
                self._json_body(Reply(response.status, response.headers, await response.text()))
            await read_stream(response.lines(), state, on_text)
            return self._result(state.completion(), response, attempt)

    def _result(
        self, parsed: Completion, response: Reply | StreamReply, attempt: Attempt
    ) -> ChatResult:
        return ChatResult(
            content=parsed.content,
            reasoning_content=parsed.reasoning_content,
            finish_reason=parsed.finish_reason,
            usage=parsed.usage,
            model=parsed.model or attempt.model,
            request_id=parsed.request_id or response.headers.get("x-request-id"),
            latency_ms=ms_since(attempt.clock),
            # Priced by the requested model, the name the ledger row carries too.
            cost_usd=self._prices.cost(attempt.model, parsed.usage, attempt.started_at),
        )

    # --- HTTP --------------------------------------------------------------------
    async def _get_json(self, path: str) -> Any:
        key = self._require_key()
        deadline_at = time.monotonic() + self._deadline
        async for attempt in self._retry.retrying():
            with attempt:
                return self._json_body(await self._send("GET", path, key, deadline_at))
        raise AssertionError("unreachable: tenacity returns or re-raises")

    async def _send(
        self,
        method: str,
        path: str,
        key: SecretStr,
        deadline_at: float,
        body: dict[str, Any] | None = None,
    ) -> Reply:
        async with self._window(deadline_at) as budget:
            url, headers = self._base_url + path, self._auth(key)
            return await self._http.request(
                method, url, json=body, headers=headers, read_seconds=budget
            )

    @contextlib.asynccontextmanager
    async def _window(self, deadline_at: float) -> AsyncIterator[float]:
        """A model slot and one attempt's wall-clock budget; transport errors typed."""
        async with self._slots:
            budget = self._attempt_budget(deadline_at)
            try:
                # The HTTP timeout is per read; keep-alive lines would reset it, so the
                # whole attempt also runs under one wall-clock budget.
                async with asyncio.timeout(budget):
                    yield budget
            except TimeoutError as exc:  # aiohttp's own timeouts are TimeoutErrors too
                raise LLMTimeout(f"DeepSeek gave no complete answer within {budget:.2f} s") from exc
            except TRANSPORT_ERRORS as exc:
                raise LLMConnectionError(f"cannot reach DeepSeek: {type(exc).__name__}") from exc

    @staticmethod
    def _auth(key: SecretStr) -> dict[str, str]:
        return {"Authorization": f"Bearer {key.get_secret_value()}"}

    def _json_body(self, response: Reply) -> dict[str, Any]:
        if response.status == _OK:
            return decode_object(response.text)
        secret = self._key.get_secret_value() if self._key is not None else None
        message = error_message(response.text, secret)
        raise error_for_status(response.status, message, retry_after_seconds(response.headers))
