"""The client's one retry policy (tenacity): what is retried, how long to wait, when to stop.

429, 500, 503, timeouts and connection errors (every `LLMError` with `retryable`)
are retried with exponential backoff and full jitter, or after the server's
Retry-After (capped); attempts stop when spent or when the next wait would end past
the call's deadline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from bot.llm.errors import LLMError

__all__ = ["RetryPolicy"]

logger = logging.getLogger("bot.llm.client")


@dataclass(frozen=True)
class RetryPolicy:
    """How the DeepSeek client retries one call."""

    max_attempts: int = 3
    deadline: float = 120.0
    retry_after_cap: float = 20.0
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    _backoff: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        backoff = wait_random_exponential(multiplier=self.backoff_initial, max=self.backoff_max)
        object.__setattr__(self, "_backoff", backoff)

    def retrying(self) -> AsyncRetrying:
        """A fresh tenacity loop for one call."""
        return AsyncRetrying(
            retry=retry_if_exception(lambda exc: isinstance(exc, LLMError) and exc.retryable),
            stop=stop_after_attempt(self.max_attempts) | stop_before_delay(self.deadline),
            wait=self._wait,
            before_sleep=_log_retry,
            reraise=True,  # callers catch our typed errors, never tenacity's RetryError
        )

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, LLMError) and error.retry_after is not None:
            return min(error.retry_after, self.retry_after_cap)
        return float(self._backoff(state))


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    kind = error.kind if isinstance(error, LLMError) else type(error).__name__
    sleep = state.next_action.sleep if state.next_action else 0.0
    logger.info(
        "llm.call.retrying attempt=%d kind=%s wait_s=%.2f", state.attempt_number, kind, sleep
    )
