"""The leads' daily digest: what came in, what waited, what it cost, how good triage was."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.events import TicketStatus
from bot.reports.costs import cost_report
from bot.store.kb_tables import Retrieval
from bot.store.models import Ticket, TriageRun
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
    fallback_rate: float | None = None
    triage_accuracy: float | None = None
    reviewed: int = 0
    docs_outcomes: Counter[str] = field(default_factory=Counter)
    """Answers by how they used the docs: answered (with sources), abstained, suggested."""

    def render(self) -> str:
        """The digest as the text posted to the leads channel."""

        def counts(counter: Counter[str]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"

        def money(spend: dict[str, Decimal]) -> str:
            return ", ".join(f"{k} ${v:.4f}" for k, v in sorted(spend.items())) or "$0"

        def share(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.0%}"

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
                f"Fallback rate: {share(self.fallback_rate)}; triage accuracy: "
                f"{share(self.triage_accuracy)} ({self.reviewed} relabelled by leads)",
                f"From the docs: {self.docs_outcomes['answered']} answered with sources, "
                f"{self.docs_outcomes['abstained']} not in the docs (to a person), "
                f"{self.docs_outcomes['suggested']} pages suggested with no model",
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
) -> Digest:
    """Count a workspace's tickets created in [since, until) and its spend in that time."""
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
        runs = (
            await session.scalars(
                select(TriageRun)
                .where(TriageRun.ticket_id.in_([t.id for t in tickets]))
                .order_by(TriageRun.id)
            )
        ).all()
        outcomes = (
            await session.scalars(
                select(Retrieval.outcome).where(Retrieval.ticket_id.in_([t.id for t in tickets]))
            )
        ).all()
    digest.docs_outcomes.update(outcomes)
    minutes = []
    for ticket in tickets:
        digest.by_category[ticket.category or "untriaged"] += 1
        digest.by_urgency[ticket.urgency or "untriaged"] += 1
        if ticket.escalated_at is not None:
            digest.escalations[_escalation_state(ticket)] += 1
            digest.sla_breaches += SlaPolicy.breached(ticket.sla_due_at, ticket.claimed_at, until)
            if ticket.claimed_at is not None:
                minutes.append((ticket.claimed_at - ticket.escalated_at).total_seconds() / 60)
    if minutes:
        digest.median_minutes_to_claim = statistics.median(minutes)
    _triage_quality(digest, runs)
    report = await cost_report(sessions, since, workspace_id)
    digest.spend_by_model = {k: b.cost_usd for k, b in report.by_model.items()}
    digest.spend_by_purpose = {k: b.cost_usd for k, b in report.by_purpose.items()}
    return digest


def _triage_quality(digest: Digest, runs: list[TriageRun]) -> None:
    """Fallback rate over first verdicts; accuracy = share of model labels leads kept."""
    first: dict[int, TriageRun] = {}
    human: dict[int, TriageRun] = {}
    for run in runs:
        if run.ticket_id is None:
            continue
        if run.source == "human":
            human[run.ticket_id] = run  # the last word of a lead counts
        else:
            first.setdefault(run.ticket_id, run)
    if first:
        digest.fallback_rate = sum(r.source == "fallback" for r in first.values()) / len(first)
    machine = [t for t, run in first.items() if run.source == "llm"]
    reviewed = [(first[t], human[t]) for t in machine if t in human]
    digest.reviewed = len(reviewed)
    if machine:
        # Tickets nobody relabelled count as right: leads fix what is wrong.
        changed = sum(
            m.result.get("category") != h.result.get("category")
            or m.result.get("urgency") != h.result.get("urgency")
            for m, h in reviewed
        )
        digest.triage_accuracy = (len(machine) - changed) / len(machine)
