"""`supportbot report`: the support lead's figures and the coverage gaps, for one
window, across every workspace or for one."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.knowledge.embeddings import Embedder
from bot.reports.gaps import Gap, coverage_gaps, gap_lines
from bot.reports.outcomes import Outcomes, measure_outcomes

__all__ = ["LeadReport", "lead_report"]


@dataclass(frozen=True)
class LeadReport:
    """What `supportbot report` prints."""

    outcomes: Outcomes
    gaps: list[Gap]
    workspace_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "workspace": self.workspace_id,
            **self.outcomes.as_dict(),
            "coverage_gaps": [gap.as_dict() for gap in self.gaps],
        }

    def render(self) -> str:
        """The readable text."""
        where = f"workspace {self.workspace_id}" if self.workspace_id else "every workspace"
        since, until = self.outcomes.since, self.outcomes.until
        return "\n".join(
            [
                f"Tickets opened {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC, {where}",
                *self.outcomes.lines(),
                *gap_lines(self.gaps),
            ]
        )


async def lead_report(
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime,
    until: datetime,
    workspace_id: str | None = None,
    embedder: Embedder | None = None,
    platform: str | None = None,
    workspaces: Collection[str] | None = None,
) -> LeadReport:
    """The figures and gaps of the tickets created in [since, until) (of one workspace,
    or of a dashboard lead's `workspaces` on `platform`)."""
    scope = {"platform": platform, "workspace_id": workspace_id, "workspaces": workspaces}
    outcomes = await measure_outcomes(sessions, since=since, until=until, **scope)
    gaps = await coverage_gaps(sessions, since=since, until=until, embedder=embedder, **scope)
    return LeadReport(outcomes, gaps, workspace_id)
