"""What a support lead measures: deflection, time to first response and to resolution,
cost per resolved ticket by route, satisfaction and triage accuracy.

Every figure covers the tickets created in a window [since, until), for one workspace
or for all of them. Only counts, times and money are read; never message text.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.ops.metrics import OutcomeGauges, OutcomeReader
from bot.store.models import LlmCall, Message, Ticket, TriageRun

__all__ = [
    "Outcomes",
    "Spread",
    "TriageQuality",
    "duration",
    "measure_outcomes",
    "outcome_reader",
    "ticket_scope",
    "triage_quality",
]

METRICS_WINDOW = timedelta(days=30)
"""The look-back of the Prometheus gauges."""
_LEDGER_PLACES = Decimal("0.0000000001")  # the ledger's 10 places
NO_ROUTE = "untriaged"


@dataclass(frozen=True)
class TriageQuality:
    """How good triage was: fallback rate, accuracy against the leads' relabelling."""

    fallback_rate: float | None = None
    """Share of tickets whose first verdict came from the offline rules."""
    accuracy: float | None = None
    """Share of model-labelled tickets whose labels no lead changed."""
    reviewed: int = 0
    """Model-labelled tickets a lead relabelled (same labels or not)."""


def triage_quality(runs: Sequence[TriageRun]) -> TriageQuality:
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
    fallback = None
    if first:
        fallback = sum(r.source == "fallback" for r in first.values()) / len(first)
    machine = [t for t, run in first.items() if run.source == "llm"]
    reviewed = [(first[t], human[t]) for t in machine if t in human]
    if not machine:
        return TriageQuality(fallback, None, len(reviewed))
    # Tickets nobody relabelled count as right: leads fix what is wrong.
    changed = sum(
        m.result.get("category") != h.result.get("category")
        or m.result.get("urgency") != h.result.get("urgency")
        for m, h in reviewed
    )
    return TriageQuality(fallback, (len(machine) - changed) / len(machine), len(reviewed))


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile (nearest rank) of some durations, in seconds."""

    count: int = 0
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Spread:
        """The spread of `seconds` (empty: no figures)."""
        if not seconds:
            return cls()
        ordered = sorted(seconds)
        p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
        return cls(len(ordered), statistics.median(ordered), p90)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"tickets": self.count, "median_seconds": self.median, "p90_seconds": self.p90}

    def text(self) -> str:
        """E.g. `median 2 min, p90 10 min (5 tickets)`."""
        if self.median is None or self.p90 is None:
            return "n/a"
        return f"median {duration(self.median)}, p90 {duration(self.p90)} ({self.count} tickets)"


def duration(seconds: float) -> str:
    """A duration as a person reads it: `45 s`, `12 min`, `3.5 h`, `2.0 days`."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


@dataclass
class Outcomes:
    """The support lead's figures for the tickets created in one window."""

    since: datetime
    until: datetime
    tickets: int = 0
    resolved: int = 0
    deflected: int = 0
    """Resolved with no person: never escalated, never claimed."""
    first_response: Spread = field(default_factory=Spread)
    claim: Spread = field(default_factory=Spread)
    """From escalation (or opening, for one claimed straight away) to a lead's claim."""
    resolution: Spread = field(default_factory=Spread)
    resolved_by_route: Counter[str] = field(default_factory=Counter)
    spend_by_route: dict[str, Decimal] = field(default_factory=dict)
    """Model spend on the resolved tickets of each route (all their calls)."""
    ratings: Counter[str] = field(default_factory=Counter)
    """good / bad over rated tickets; unrated over resolved tickets with no rating."""
    triage: TriageQuality = field(default_factory=TriageQuality)

    @property
    def deflection_rate(self) -> float | None:
        """Deflected / resolved (None with nothing resolved)."""
        return self.deflected / self.resolved if self.resolved else None

    @property
    def satisfaction(self) -> float | None:
        """Share of rated tickets rated good (None with no rating)."""
        rated = self.ratings["good"] + self.ratings["bad"]
        return self.ratings["good"] / rated if rated else None

    def cost_per_resolved(self) -> dict[str, Decimal]:
        """Model spend per resolved ticket, by route."""
        return {
            route: (self.spend_by_route.get(route, Decimal(0)) / count).quantize(_LEDGER_PLACES)
            for route, count in sorted(self.resolved_by_route.items())
        }

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form; money as strings so no precision is lost."""
        cost = self.cost_per_resolved()
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "tickets": self.tickets,
            "resolved": self.resolved,
            "deflected": self.deflected,
            "deflection_rate": self.deflection_rate,
            "first_response": self.first_response.as_dict(),
            "claim": self.claim.as_dict(),
            "resolution": self.resolution.as_dict(),
            "cost_per_resolved_ticket": {
                route: {
                    "resolved": self.resolved_by_route[route],
                    "spend_usd": str(self.spend_by_route.get(route, Decimal(0))),
                    "per_ticket_usd": str(per_ticket),
                }
                for route, per_ticket in cost.items()
            },
            "satisfaction": {
                "share_good": self.satisfaction,
                **{key: self.ratings[key] for key in ("good", "bad", "unrated")},
            },
            "triage": {
                "accuracy": self.triage.accuracy,
                "fallback_rate": self.triage.fallback_rate,
                "relabelled": self.triage.reviewed,
            },
        }

    def lines(self) -> list[str]:
        """The figures as the lines of the digest and of `supportbot report`."""
        cost = ", ".join(
            f"{route} ${value:.4f} ({self.resolved_by_route[route]})"
            for route, value in self.cost_per_resolved().items()
        )
        good, bad, unrated = (self.ratings[key] for key in ("good", "bad", "unrated"))
        return [
            f"Resolved: {self.resolved} of {self.tickets} tickets; deflection "
            f"{_share(self.deflection_rate)} ({self.deflected} resolved with no person)",
            f"Time to first response: {self.first_response.text()}",
            f"Time to resolution: {self.resolution.text()}",
            f"Cost per resolved ticket: {cost or 'n/a'}",
            f"Satisfaction: {_share(self.satisfaction)} good ({good} good, {bad} bad); "
            f"{unrated} resolved ticket(s) not rated",
            f"Fallback rate: {_share(self.triage.fallback_rate)}; triage accuracy: "
            f"{_share(self.triage.accuracy)} ({self.triage.reviewed} relabelled by leads)",
        ]

    def gauges(self) -> OutcomeGauges:
        """The figures Prometheus exports."""
        return OutcomeGauges(
            deflection_rate=self.deflection_rate,
            satisfaction=self.satisfaction,
            first_response_seconds=self.first_response.median,
            resolution_seconds=self.resolution.median,
            cost_per_resolved_usd={k: float(v) for k, v in self.cost_per_resolved().items()},
        )


def ticket_scope(
    since: datetime,
    until: datetime,
    *,
    platform: str | None = None,
    workspace_id: str | None = None,
    workspaces: Collection[str] | None = None,
) -> Select[tuple[int]]:
    """The ids of the tickets created in [since, until), in one workspace if named (or
    in `workspaces`, a lead's on the dashboard: none named, no tickets)."""
    query = select(Ticket.id).where(Ticket.created_at >= since, Ticket.created_at < until)
    if platform is not None:
        query = query.where(Ticket.platform == platform)
    if workspace_id is not None:
        query = query.where(Ticket.workspace_id == workspace_id)
    if workspaces is not None:
        query = query.where(Ticket.workspace_id.in_(sorted(workspaces)))
    return query


async def measure_outcomes(
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime,
    until: datetime,
    platform: str | None = None,
    workspace_id: str | None = None,
    workspaces: Collection[str] | None = None,
) -> Outcomes:
    """The figures for the tickets created in [since, until) (one workspace if named, or
    those of `workspaces`)."""
    scope = ticket_scope(
        since, until, platform=platform, workspace_id=workspace_id, workspaces=workspaces
    )
    outcomes = Outcomes(since=since, until=until)
    async with sessions() as session:
        tickets = (await session.scalars(select(Ticket).where(Ticket.id.in_(scope)))).all()
        answered = await _first_responses(session, scope)
        spend = await _spend_by_route(session, scope)
        runs = (
            await session.scalars(
                select(TriageRun).where(TriageRun.ticket_id.in_(scope)).order_by(TriageRun.id)
            )
        ).all()
    _count_tickets(outcomes, tickets)
    waits = [(answered[t.id] - t.created_at).total_seconds() for t in tickets if t.id in answered]
    outcomes.first_response = Spread.of([max(wait, 0) for wait in waits])  # clocks may skew
    outcomes.spend_by_route = spend
    outcomes.triage = triage_quality(runs)
    return outcomes


def _count_tickets(outcomes: Outcomes, tickets: Sequence[Ticket]) -> None:
    """Resolved, deflected, ratings, time to claim and to resolution."""
    outcomes.tickets = len(tickets)
    resolution, claim = [], []
    for ticket in tickets:
        if ticket.satisfaction is not None:
            outcomes.ratings[ticket.satisfaction] += 1
        if ticket.claimed_at is not None:
            waited = ticket.claimed_at - (ticket.escalated_at or ticket.created_at)
            claim.append(max(waited.total_seconds(), 0))
        if ticket.resolved_at is None:
            continue
        outcomes.resolved += 1
        outcomes.deflected += ticket.escalated_at is None and ticket.claimed_at is None
        outcomes.resolved_by_route[ticket.route or NO_ROUTE] += 1
        outcomes.ratings["unrated"] += ticket.satisfaction is None
        resolution.append(max((ticket.resolved_at - ticket.created_at).total_seconds(), 0))
    outcomes.resolution = Spread.of(resolution)
    outcomes.claim = Spread.of(claim)


async def _first_responses(session: AsyncSession, scope: Select[tuple[int]]) -> dict[int, datetime]:
    """When each ticket first heard from the bot or from anyone but its requester."""
    rows = await session.execute(
        select(Message.ticket_id, func.min(Message.posted_at))
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            Message.ticket_id.in_(scope),
            or_(Message.is_bot.is_(True), Message.author_id != Ticket.requester_id),
        )
        .group_by(Message.ticket_id)
    )
    return {ticket_id: first for ticket_id, first in rows}


async def _spend_by_route(session: AsyncSession, scope: Select[tuple[int]]) -> dict[str, Decimal]:
    """Model spend on the resolved tickets in scope, by the ticket's route."""
    rows = await session.execute(
        select(Ticket.route, LlmCall.cost_usd)
        .join(Ticket, Ticket.id == LlmCall.ticket_id)
        .where(Ticket.id.in_(scope), Ticket.resolved_at.is_not(None))
    )
    spend: dict[str, Decimal] = {}
    for route, cost in rows:
        key = route or NO_ROUTE
        spend[key] = spend.get(key, Decimal(0)) + (cost or Decimal(0))
    return spend


def outcome_reader(
    clock: Callable[[], datetime], window: timedelta = METRICS_WINDOW
) -> OutcomeReader:
    """What `Metrics.refresh` calls: every workspace's figures over the last `window`."""

    async def read(sessions: async_sessionmaker[AsyncSession]) -> OutcomeGauges:
        now = clock()
        return (await measure_outcomes(sessions, since=now - window, until=now)).gauges()

    return read
