"""The cost ledger: every model API attempt becomes one `llm_calls` row."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.llm.types import AttemptRecord
from bot.store.group_commit import GroupCommit
from bot.store.models import LlmCall

__all__ = ["SqlCallRecorder"]

log = logging.getLogger(__name__)


class SqlCallRecorder:
    """Writes attempts in their own short transactions, apart from the caller's.

    A separate transaction on purpose: the money was spent whether or not the
    caller's own work later commits, so a rollback there must not erase the cost.
    Attempts that end while one is being written share the next transaction (group
    commit): hundreds of calls in flight cost a few commits, not one each.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._group: GroupCommit[dict[str, Any], None] = GroupCommit(self._insert)

    async def record(self, attempt: AttemptRecord) -> None:
        """Insert one `llm_calls` row for `attempt`; returns once it is committed."""
        ctx = attempt.context
        row = dict(
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
        await self._group.submit(row)

    async def _insert(self, rows: list[dict[str, Any]]) -> list[None]:
        # On the table: the ORM's unit of work would cost more than the rows' own I/O.
        async with self._sessions.begin() as session:
            await session.execute(insert(LlmCall.__table__), rows)
        return [None] * len(rows)
