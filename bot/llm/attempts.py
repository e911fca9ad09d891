"""One HTTP attempt on its way to the ledger: timed from its start, recorded however it
ends (answered, failed, or cancelled while DeepSeek worked), and written by a step
that a cancellation arriving meanwhile does not cut short."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.llm.errors import LLMError
from bot.llm.types import AttemptRecord, CallContext, CallRecorder, ChatResult, Usage

__all__ = ["CANCELLED", "CUT_OFF", "Attempt", "ms_since", "write_record"]

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
    ) -> AttemptRecord:
        """The ledger row for how the attempt ended."""
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
            usage=result.usage if result else Usage(),
            cost_usd=result.cost_usd if result else Decimal(0),
            latency_ms=result.latency_ms if result else ms_since(self.clock),
            attempt=self.number,
            request_id=result.request_id if result else request_id,
            started_at=self.started_at,
        )


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
