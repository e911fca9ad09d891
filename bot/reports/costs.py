"""Read-only reports over the database: spend by day, model, purpose and workspace."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import SupportbotError
from bot.store.models import LlmCall, Ticket

__all__ = [
    "BadWindow",
    "CostReport",
    "cost_report",
    "lead_calls",
    "parse_since",
    "render_costs",
]

_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class BadWindow(SupportbotError, ValueError):
    """A look-back window that is not `<number><m|h|d|w>`."""


def parse_since(text: str) -> timedelta:
    """Parse a look-back window such as `7d`, `24h`, `30m` or `2w`.

    Raises:
        BadWindow: with a message saying what is expected.
    """
    match = _SINCE.match(text)
    if not match or int(match.group(1)) == 0:
        raise BadWindow(f"expected a window like 7d, 24h, 30m or 2w, not {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass
class Bucket:
    """Money and tokens for one group of calls."""

    calls: int = 0
    failed: int = 0
    cost_usd: Decimal = Decimal(0)
    cache_hit_tokens: int = 0
    cache_miss_tokens: int = 0
    completion_tokens: int = 0

    def add(self, row: LlmCall) -> None:
        """Count one ledger row into this bucket."""
        self.calls += 1
        self.failed += not row.status.startswith("ok")  # "ok_cut_off" was paid for and used
        self.cost_usd += row.cost_usd or Decimal(0)
        self.cache_hit_tokens += row.prompt_cache_hit_tokens
        self.cache_miss_tokens += row.prompt_cache_miss_tokens
        self.completion_tokens += row.completion_tokens

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form; money as a string so no precision is lost."""
        return {
            "calls": self.calls,
            "failed": self.failed,
            "cost_usd": str(self.cost_usd),
            "cache_hit_tokens": self.cache_hit_tokens,
            "cache_miss_tokens": self.cache_miss_tokens,
            "completion_tokens": self.completion_tokens,
        }


@dataclass
class CostReport:
    """Spend since a moment, in total and broken down four ways."""

    since: datetime
    total: Bucket = field(default_factory=Bucket)
    by_day: dict[str, Bucket] = field(default_factory=lambda: defaultdict(Bucket))
    by_model: dict[str, Bucket] = field(default_factory=lambda: defaultdict(Bucket))
    by_purpose: dict[str, Bucket] = field(default_factory=lambda: defaultdict(Bucket))
    by_workspace: dict[str, Bucket] = field(default_factory=lambda: defaultdict(Bucket))
    ticket_spend: Decimal = Decimal(0)
    """What the calls made for a ticket cost (the rest: `supportbot triage` runs and such)."""
    ticket_ids: set[int] = field(default_factory=set)
    """The tickets those calls were made for."""

    @property
    def cost_per_ticket(self) -> Decimal | None:
        """Spend on tickets per ticket that had a model call (None with none)."""
        if not self.ticket_ids:
            return None
        return self.ticket_spend / len(self.ticket_ids)

    def add(self, row: LlmCall) -> None:
        """Count one ledger row into the total and each breakdown (UTC days)."""
        self.total.add(row)
        self.by_day[row.created_at.date().isoformat()].add(row)
        self.by_model[row.model].add(row)
        self.by_purpose[row.purpose].add(row)
        self.by_workspace[row.workspace_id or "-"].add(row)
        if row.ticket_id is not None:
            self.ticket_spend += row.cost_usd or Decimal(0)
            self.ticket_ids.add(row.ticket_id)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form of the whole report."""

        def table(groups: dict[str, Bucket]) -> dict[str, object]:
            return {key: groups[key].as_dict() for key in sorted(groups)}

        return {
            "since": self.since.isoformat(),
            "total": self.total.as_dict(),
            "by_day": table(self.by_day),
            "by_model": table(self.by_model),
            "by_purpose": table(self.by_purpose),
            "by_workspace": table(self.by_workspace),
        }


async def cost_report(
    sessions: async_sessionmaker[AsyncSession],
    since: datetime,
    workspace_id: str | None = None,
    *,
    platform: str | None = None,
    workspaces: Collection[str] | None = None,
) -> CostReport:
    """Add up `llm_calls` from `since` on (UTC days), optionally for one workspace, or
    for a dashboard lead's `workspaces` on `platform` (see `lead_calls`)."""
    query = select(LlmCall).where(LlmCall.created_at >= since)
    if workspace_id is not None:
        query = query.where(LlmCall.workspace_id == workspace_id)
    if platform is not None and workspaces is not None:
        query = lead_calls(query, platform, workspaces)
    report = CostReport(since=since)
    async with sessions() as session:
        rows = await session.stream_scalars(query.execution_options(yield_per=1000))
        async for row in rows:
            report.add(row)
    return report


def lead_calls(
    query: Select[tuple[LlmCall]], platform: str, workspaces: Collection[str]
) -> Select[tuple[LlmCall]]:
    """`query` narrowed to the calls of these workspaces on `platform`.

    The ledger names a call's workspace, not its platform: a call made for a ticket
    counts when the ticket is on `platform`, one made for no ticket by its workspace id.
    """
    named = sorted(workspaces)
    theirs = select(Ticket.id).where(Ticket.platform == platform, Ticket.workspace_id.in_(named))
    return query.where(
        LlmCall.workspace_id.in_(named),
        or_(LlmCall.ticket_id.is_(None), LlmCall.ticket_id.in_(theirs)),
    )


def render_costs(report: dict[str, Any]) -> str:
    """A cost report (its `as_dict()` form) as the lines `supportbot costs` prints."""
    lines = []
    total = report["total"]
    lines.append(
        f"Spend since {report['since'][:16].replace('T', ' ')} UTC: "
        f"${total['cost_usd']} over {total['calls']} call(s), {total['failed']} failed"
    )
    for title, key in (
        ("day", "by_day"),
        ("model", "by_model"),
        ("purpose", "by_purpose"),
        ("workspace", "by_workspace"),
    ):
        rows = report[key]
        if not rows:
            continue
        lines.append(f"\nBy {title}:")
        width = max(len(name) for name in rows)
        for name, bucket in rows.items():
            tokens_in = bucket["cache_hit_tokens"] + bucket["cache_miss_tokens"]
            lines.append(
                f"  {name.ljust(width)}  ${bucket['cost_usd']:<14} "
                f"{bucket['calls']:>6} calls  {tokens_in:>9} in"
                f"  {bucket['completion_tokens']:>8} out"
            )
    return "\n".join(lines)
