"""One HTTP attempt on its way to the ledger: timed from its start, recorded however it
ends (answered, failed, or cancelled while DeepSeek worked), and written by a step
that a cancellation arriving meanwhile does not cut short."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.llm.errors import LLMError, LLMStreamCut
from bot.llm.pricing import PriceTable
from bot.llm.types import AttemptRecord, CallContext, CallRecorder, ChatResult, Usage

__all__ = ["CANCELLED", "CUT_OFF", "Attempt", "ms_since", "run_recorded", "tagged", "write_record"]

logger = logging.getLogger("bot.llm.client")

CANCELLED = "cancelled"
"""The ledger status of an attempt abandoned before DeepSeek answered (a shutdown)."""
CUT_OFF = "ok_cut_off"
"""An answer DeepSeek stopped at the token limit (`finish_reason: length`): paid for,
used, but not complete."""
_WRITE_GRACE_SECONDS = 10.0  # how long a cancelled caller still waits for its ledger row


def ms_since(clock: float) -> int:
    """Milliseconds since the `time.monotonic()` reading `clock`."""
    return int((time.monotonic() - clock) * 1000)


@dataclass(frozen=True)
class Attempt:
    """An attempt in progress: why, which model, which try, and when it began."""

    context: CallContext
    model: str
    number: int
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock: float = field(default_factory=time.monotonic)

    def record(
        self,
        *,
        result: ChatResult | None = None,
        error: LLMError | None = None,
        request_id: str | None = None,
        cancelled: bool = False,
        usage: Usage | None = None,
        cost_usd: Decimal | None = None,
    ) -> AttemptRecord:
        """The ledger row for how the attempt ended.

        `usage` and `cost_usd` are for an attempt that failed after DeepSeek reported
        usage (a stream cut late); an answered attempt takes them from `result`.
        """
        if cancelled:
            status, text = CANCELLED, "cancelled before DeepSeek answered"
        elif error is not None:
            status, text = error.kind, str(error)
        elif result is not None and result.finish_reason == "length":
            status, text = CUT_OFF, "stopped at the token limit"
        else:
            status, text = "ok", None
        return AttemptRecord(
            context=self.context,
            model=self.model,
            status=status,
            error=text,
            usage=result.usage if result else usage or Usage(),
            cost_usd=result.cost_usd if result else cost_usd or Decimal(0),
            latency_ms=result.latency_ms if result else ms_since(self.clock),
            attempt=self.number,
            request_id=result.request_id if result else request_id,
            started_at=self.started_at,
        )


async def run_recorded(
    attempt: Attempt,
    run: Callable[[], Awaitable[ChatResult]],
    *,
    recorder: CallRecorder | None,
    prices: PriceTable,
) -> ChatResult:
    """`run()`'s result, with `attempt` logged and in the ledger however it ended.

    Raises:
        LLMError: what `run()` raised, once recorded (cancellation likewise).
    """
    purpose, model, number = attempt.context.purpose, attempt.model, attempt.number
    try:
        result = await run()
    except asyncio.CancelledError:
        logger.warning(
            "llm.call.cancelled purpose=%s model=%s attempt=%d latency_ms=%d",
            purpose, model, number, ms_since(attempt.clock),
        )  # fmt: skip
        await write_record(recorder, attempt.record(cancelled=True))
        raise
    except LLMError as exc:
        logger.warning(
            "llm.call.failed purpose=%s model=%s attempt=%d kind=%s",
            purpose, model, number, exc.kind,
        )  # fmt: skip
        await write_record(recorder, _failed_record(attempt, exc, prices))
        raise
    # Routine, and its ledger row holds the same: DEBUG (failures are WARNINGs above).
    logger.debug(
        "llm.call.ok purpose=%s model=%s attempt=%d cost_usd=%s latency_ms=%d",
        purpose, model, number, result.cost_usd, result.latency_ms,
    )  # fmt: skip
    await write_record(recorder, attempt.record(result=result))
    return result


@contextlib.contextmanager
def tagged(headers: Mapping[str, str]) -> Iterator[None]:
    """Errors raised while reading a reply carry its x-request-id (from its `headers`)
    to the ledger."""
    try:
        yield
    except LLMError as exc:
        exc.request_id = exc.request_id or headers.get("x-request-id")
        raise


def _failed_record(attempt: Attempt, exc: LLMError, prices: PriceTable) -> AttemptRecord:
    if not isinstance(exc, LLMStreamCut):
        return attempt.record(error=exc, request_id=exc.request_id)
    # A late cut may know its usage: DeepSeek bills what it generated.
    cost = prices.cost(attempt.model, exc.usage, attempt.started_at)
    return attempt.record(error=exc, request_id=exc.request_id, usage=exc.usage, cost_usd=cost)


async def write_record(recorder: CallRecorder | None, record: AttemptRecord) -> None:
    """Hand `record` to the ledger; a failing ledger is logged, never raised. Cancelled
    meanwhile, the write still finishes (within 10 s), then the cancel goes on."""
    if recorder is not None:
        await _to_the_end(_write(recorder, record))


async def _write(recorder: CallRecorder, record: AttemptRecord) -> None:
    try:
        await recorder.record(record)
    except Exception:
        # The answer matters more than the ledger: log loudly and carry on.
        logger.exception(
            "llm.ledger.failed purpose=%s attempt=%d", record.context.purpose, record.attempt
        )


async def _to_the_end(step: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(step)
    try:
        await asyncio.shield(task)
        return
    except asyncio.CancelledError:
        if task.done():  # the step itself was cancelled (the loop is closing)
            raise
    # Cancelled while writing: let the write finish (boundedly), then pass the cancel on.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _WRITE_GRACE_SECONDS
    while not task.done() and loop.time() < deadline:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({task}, timeout=deadline - loop.time())
    if not task.done():
        task.cancel()
        logger.error("llm.ledger.abandoned after_s=%.0f", _WRITE_GRACE_SECONDS)
    raise asyncio.CancelledError
