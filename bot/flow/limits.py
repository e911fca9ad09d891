"""Budgets and rate limits: what keeps the bot from spending or answering too much.

A workspace over its daily USD budget gets the offline rules and no model answers
until midnight UTC; a user over the per-minute message rate gets one polite reply
and no model call. Both are counted from the database, so every instance agrees.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.llm.types import CallContext
from bot.store.db import Prepared
from bot.store.models import LlmCall, Message, Ticket, utcnow

__all__ = ["BUDGET_REACHED", "Limits"]

BUDGET_REACHED = "daily budget reached"

# Read for every question (`Prepared` says why it is built once).
_RECENT_MESSAGES = Prepared(
    lambda _: (
        select(func.count())
        .select_from(Message)
        .join(Ticket)
        .where(
            Ticket.platform == bindparam("platform"),
            Message.author_id == bindparam("user_id"),
            ~Message.is_bot,
            Message.posted_at >= bindparam("since"),
        )
    )
)


class Limits:
    """The daily budget per workspace and the message rate per user."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        daily_budget_usd: Decimal | None = None,
        user_messages_per_minute: int = 10,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.daily_budget_usd = daily_budget_usd
        self.user_messages_per_minute = user_messages_per_minute
        self._clock = clock

    def _midnight(self) -> datetime:
        return self._clock().replace(hour=0, minute=0, second=0, microsecond=0)

    async def spent_today(self, workspace_id: str | None) -> Decimal:
        """USD spent on model calls for a workspace since midnight UTC."""
        async with self._sessions() as session:
            total = await session.scalar(
                select(func.sum(LlmCall.cost_usd)).where(
                    LlmCall.workspace_id == workspace_id, LlmCall.created_at >= self._midnight()
                )
            )
        return Decimal(total or 0)

    async def over_budget(self, workspace_id: str | None) -> bool:
        """True when the workspace has used its budget for today."""
        if self.daily_budget_usd is None or workspace_id is None:
            return False
        return await self.spent_today(workspace_id) >= self.daily_budget_usd

    async def refusal(self, context: CallContext) -> str | None:
        """The LlmGate check: refuse model calls for a workspace over budget."""
        return BUDGET_REACHED if await self.over_budget(context.workspace_id) else None

    async def over_rate(
        self, platform: str, user_id: str, *, session: AsyncSession | None = None
    ) -> bool:
        """True when the user posted more than the per-minute limit in the last minute.
        `session`: the caller's transaction (the message just stored counts), else one
        of its own."""
        if session is None:
            async with self._sessions() as own:
                return await self.over_rate(platform, user_id, session=own)
        since = self._clock() - timedelta(minutes=1)
        count = await session.scalar(
            _RECENT_MESSAGES.on(session), {"platform": platform, "user_id": user_id, "since": since}
        )
        return (count or 0) > self.user_messages_per_minute
