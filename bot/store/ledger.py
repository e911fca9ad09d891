"""The cost ledger: every model API attempt becomes one `llm_calls` row."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.llm.types import AttemptRecord
from bot.store.models import LlmCall

__all__ = ["SqlCallRecorder"]

log = logging.getLogger(__name__)


class SqlCallRecorder:
    """Writes each attempt in its own short transaction.

    A separate transaction on purpose: the money was spent whether or not the
    caller's own work later commits, so a rollback there must not erase the cost.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, attempt: AttemptRecord) -> None:
        """Insert one `llm_calls` row for `attempt`."""
        ctx = attempt.context
        row = LlmCall(
            ticket_id=ctx.ticket_id,
            purpose=ctx.purpose,
            model=attempt.model,
            prompt_version=ctx.prompt_version,
            status=attempt.status,
            error=(attempt.error or None) and attempt.error[:2000],
            prompt_cache_hit_tokens=attempt.usage.cache_hit_tokens,
            prompt_cache_miss_tokens=attempt.usage.cache_miss_tokens,
            completion_tokens=attempt.usage.completion_tokens,
            reasoning_tokens=attempt.usage.reasoning_tokens,
            cost_usd=attempt.cost_usd,
            latency_ms=attempt.latency_ms,
            attempt=attempt.attempt,
            request_id=attempt.request_id,
            workspace_id=ctx.workspace_id,
            user_id=ctx.user_id,
            retrieved_chunks=ctx.retrieved_chunks,
            retrieved_tokens=ctx.retrieved_tokens,
            created_at=attempt.started_at,
        )
        async with self._sessions.begin() as session:
            session.add(row)
