"""The numbers pages: analytics (tickets per day by category, the lead's figures) and
costs (the ledger by day, model, purpose and workspace). Both cover the last N UTC
days, today included, of the lead's own workspaces, and reuse the reports the digest
and `supportbot report` / `supportbot costs` print.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config.playbook import Playbooks
from bot.dashboard.charts import stacked_bars
from bot.dashboard.queries import opened_per_day
from bot.dashboard.viewer import Viewer
from bot.dashboard.views import money
from bot.knowledge.embeddings import Embedder
from bot.reports.costs import Bucket, cost_report
from bot.reports.lead_report import lead_report
from bot.reports.outcomes import Outcomes, Spread, duration, measure_outcomes

__all__ = ["UNTRIAGED", "analytics", "costs", "window_days"]

UNTRIAGED = "untriaged"
"""How tickets with no category yet are counted."""


def window_days(now: datetime, days: int) -> tuple[datetime, list[str]]:
    """The start of a window of `days` UTC days ending today, and the days as YYYY-MM-DD."""
    first = now.astimezone(UTC).date() - timedelta(days=days - 1)
    return datetime.combine(first, time(), UTC), [
        (first + timedelta(days=n)).isoformat() for n in range(days)
    ]


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _timing(label: str, spread: Spread) -> dict[str, str]:
    known = spread.median is not None and spread.p90 is not None
    return {
        "label": label,
        "median": duration(spread.median) if known else "n/a",  # type: ignore[arg-type]
        "p90": duration(spread.p90) if known else "n/a",  # type: ignore[arg-type]
        "tickets": str(spread.count),
    }


def _figures(outcomes: Outcomes) -> list[dict[str, str]]:
    good, bad, unrated = (outcomes.ratings[key] for key in ("good", "bad", "unrated"))
    triage = outcomes.triage
    return [
        {"label": "Tickets opened", "value": str(outcomes.tickets), "note": ""},
        {"label": "Resolved", "value": str(outcomes.resolved), "note": ""},
        {
            "label": "Deflection",
            "value": _share(outcomes.deflection_rate),
            "note": f"{outcomes.deflected} resolved with no person",
        },
        {
            "label": "Satisfaction",
            "value": _share(outcomes.satisfaction),
            "note": f"{good} good, {bad} bad; {unrated} resolved not rated",
        },
        {
            "label": "Triage accuracy",
            "value": _share(triage.accuracy),
            "note": f"model labels leads kept; {triage.reviewed} relabelled by leads",
        },
        {
            "label": "Fallback rate",
            "value": _share(triage.fallback_rate),
            "note": "first verdicts from the offline rules",
        },
    ]


async def analytics(
    sessions: async_sessionmaker[AsyncSession],
    viewer: Viewer,
    playbooks: Playbooks,
    *,
    now: datetime,
    days: int,
    embedder: Embedder | None = None,
) -> dict[str, Any]:
    """The analytics page's context: the per-day chart and table, figures, timings, gaps."""
    since, columns = window_days(now, days)
    async with sessions() as session:
        counts = await opened_per_day(session, viewer, since, now)
    index = {day: i for i, day in enumerate(columns)}
    per_category: dict[str, list[int]] = {}
    for day, workspace, category, count in counts:
        if day not in index:
            continue
        name = playbooks.for_workspace(workspace).taxonomy.shown(category) or UNTRIAGED
        per_category.setdefault(name.replace("_", " "), [0] * days)[index[day]] += count
    series = {
        name: per_category[name]
        for name in sorted(per_category, key=lambda n: (-sum(per_category[n]), n))
    }
    chart = stacked_bars(
        "Tickets opened per day, by category",
        columns,
        {k: [float(v) for v in vs] for k, vs in series.items()},
    )
    table = [
        {
            "day": day,
            "total": sum(v[i] for v in series.values()),
            "counts": [v[i] for v in series.values()],
        }
        for i, day in enumerate(columns)
    ]
    report = await lead_report(
        sessions,
        since=since,
        until=now,
        platform=viewer.platform,
        workspaces=viewer.workspaces,
        embedder=embedder,
    )
    outcomes = report.outcomes
    return {
        "since": since,
        "chart": chart,
        "series": list(series),
        "table": table,
        "totals": [sum(values) for values in series.values()],
        "figures": _figures(outcomes),
        "timings": [
            _timing("Time to first response", outcomes.first_response),
            _timing("Time to claim (from escalation)", outcomes.claim),
            _timing("Time to resolution", outcomes.resolution),
        ],
        "gaps": report.gaps,
    }


def _per_resolved(outcomes: Outcomes) -> list[dict[str, str]]:
    rows = [
        {
            "route": route,
            "resolved": str(outcomes.resolved_by_route[route]),
            "spend": money(outcomes.spend_by_route.get(route, Decimal(0))),
            "per_ticket": money(per_ticket),
        }
        for route, per_ticket in outcomes.cost_per_resolved().items()
    ]
    if outcomes.resolved:
        spend = sum(outcomes.spend_by_route.values(), Decimal(0))
        rows.append(
            {
                "route": "all routes",
                "resolved": str(outcomes.resolved),
                "spend": money(spend),
                "per_ticket": money(spend / outcomes.resolved),
            }
        )
    return rows


def _groups(groups: dict[str, Bucket]) -> list[tuple[str, Bucket]]:
    return sorted(groups.items())


async def costs(
    sessions: async_sessionmaker[AsyncSession], viewer: Viewer, *, now: datetime, days: int
) -> dict[str, Any]:
    """The costs page's context: the per-day chart, the four breakdowns, per-ticket costs."""
    since, columns = window_days(now, days)
    platform, workspaces = viewer.platform, viewer.workspaces
    report = await cost_report(sessions, since, platform=platform, workspaces=workspaces)
    outcomes = await measure_outcomes(
        sessions, since=since, until=now, platform=platform, workspaces=workspaces
    )
    spend = [float(report.by_day[day].cost_usd) if day in report.by_day else 0.0 for day in columns]
    chart = stacked_bars(
        "Model spend per day (USD)",
        columns,
        {"model spend": spend},
        value_label=money,
        whole=False,
    )
    per_ticket = report.cost_per_ticket
    return {
        "since": since,
        "chart": chart,
        "total": report.total,
        "by_day": _groups(report.by_day),
        "by_model": _groups(report.by_model),
        "by_purpose": _groups(report.by_purpose),
        "by_workspace": _groups(report.by_workspace),
        "tickets_charged": len(report.ticket_ids),
        "ticket_spend": money(report.ticket_spend),
        "per_ticket": money(per_ticket) if per_ticket is not None else "n/a",
        "per_resolved": _per_resolved(outcomes),
    }
