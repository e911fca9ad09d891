"""The leads' daily digest: what came in, what waited, what it cost, how good triage was,
what a support lead measures, and what the docs could not answer."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from bot.events import TicketStatus
from bot.knowledge.embeddings import Embedder
from bot.reports.costs import cost_report
from bot.reports.gaps import Gap, coverage_gaps, gap_lines
from bot.reports.outcomes import Outcomes, measure_outcomes
from bot.store.kb_tables import Retrieval
from bot.store.models import Ticket
from bot.tickets.sla import SlaPolicy
from bot.tickets.status import FINISHED

__all__ = ["Digest", "build_digest"]


@dataclass
class Digest:
    """One workspace's numbers for one period."""

    since: datetime
    until: datetime
    by_category: Counter[str] = field(default_factory=Counter)
    by_urgency: Counter[str] = field(default_factory=Counter)
    escalations: Counter[str] = field(default_factory=Counter)  # open / claimed / resolved
    sla_breaches: int = 0
    median_minutes_to_claim: float | None = None
    spend_by_model: dict[str, Decimal] = field(default_factory=dict)
    spend_by_purpose: dict[str, Decimal] = field(default_factory=dict)
    docs_outcomes: Counter[str] = field(default_factory=Counter)
    """Answers by how they used the docs: answered (with sources), abstained, suggested."""
    outcomes: Outcomes | None = None
    """Deflection, response and resolution times, cost per resolved, CSAT, triage."""
    gaps: list[Gap] = field(default_factory=list)

    def render(self) -> str:
        """The digest as the text posted to the leads channel."""

        def counts(counter: Counter[str]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"

        def money(spend: dict[str, Decimal]) -> str:
            return ", ".join(f"{k} ${v:.4f}" for k, v in sorted(spend.items())) or "$0"

        claim = (
            "n/a"
            if self.median_minutes_to_claim is None
            else f"{self.median_minutes_to_claim:.0f} min"
        )
        return "\n".join(
            [
                f"Daily digest {self.since:%Y-%m-%d %H:%M} to {self.until:%Y-%m-%d %H:%M} UTC",
                f"Tickets by category: {counts(self.by_category)}",
                f"Tickets by urgency: {counts(self.by_urgency)}",
                f"Escalations: {counts(self.escalations)}; SLA breaches: {self.sla_breaches}; "
                f"median time to claim: {claim}",
                f"Spend by model: {money(self.spend_by_model)}",
                f"Spend by purpose: {money(self.spend_by_purpose)}",
                *(self.outcomes.lines() if self.outcomes is not None else []),
                f"From the docs: {self.docs_outcomes['answered']} answered with sources, "
                f"{self.docs_outcomes['abstained']} not in the docs (to a person), "
                f"{self.docs_outcomes['suggested']} pages suggested with no model",
                *gap_lines(self.gaps),
            ]
        )


def _escalation_state(ticket: Ticket) -> str:
    if ticket.status in FINISHED:
        return TicketStatus.RESOLVED
    return TicketStatus.CLAIMED if ticket.status == TicketStatus.CLAIMED else TicketStatus.OPEN


async def build_digest(
    sessions: async_sessionmaker[AsyncSession],
    *,
    platform: str,
    workspace_id: str,
    since: datetime,
    until: datetime,
    embedder: Embedder | None = None,
    taxonomy: Taxonomy = DEFAULT_TAXONOMY,
) -> Digest:
    """Count a workspace's tickets created in [since, until) and its spend in that time.

    `embedder` groups the questions the docs did not answer (None: by shared words);
    `taxonomy` (the workspace's) counts a renamed category's tickets under today's name.
    """
    digest = Digest(since=since, until=until)
    async with sessions() as session:
        tickets = (
            await session.scalars(
                select(Ticket).where(
                    Ticket.platform == platform,
                    Ticket.workspace_id == workspace_id,
                    Ticket.created_at >= since,
                    Ticket.created_at < until,
                )
            )
        ).all()
        outcomes = (
            await session.scalars(
                select(Retrieval.outcome).where(Retrieval.ticket_id.in_([t.id for t in tickets]))
            )
        ).all()
    digest.docs_outcomes.update(outcomes)
    _count_tickets(digest, tickets, until, taxonomy)
    tenant = {"platform": platform, "workspace_id": workspace_id}
    digest.outcomes = await measure_outcomes(sessions, since=since, until=until, **tenant)
    digest.gaps = await coverage_gaps(
        sessions, since=since, until=until, embedder=embedder, **tenant
    )
    report = await cost_report(sessions, since, workspace_id)
    digest.spend_by_model = {k: b.cost_usd for k, b in report.by_model.items()}
    digest.spend_by_purpose = {k: b.cost_usd for k, b in report.by_purpose.items()}
    return digest


def _count_tickets(
    digest: Digest, tickets: Sequence[Ticket], until: datetime, taxonomy: Taxonomy
) -> None:
    """Categories, urgencies, escalations, SLA breaches and time to claim."""
    minutes = []
    for ticket in tickets:
        digest.by_category[taxonomy.shown(ticket.category) or "untriaged"] += 1
        digest.by_urgency[ticket.urgency or "untriaged"] += 1
        if ticket.escalated_at is not None:
            digest.escalations[_escalation_state(ticket)] += 1
            digest.sla_breaches += SlaPolicy.breached(ticket.sla_due_at, ticket.claimed_at, until)
            if ticket.claimed_at is not None:
                minutes.append((ticket.claimed_at - ticket.escalated_at).total_seconds() / 60)
    if minutes:
        digest.median_minutes_to_claim = statistics.median(minutes)
