"""Prometheus metrics: what an operator graphs and alerts on.

One `Metrics` object per app with its own registry (no hidden global state); the
`/metrics` endpoint renders it in the Prometheus text format. Labels never carry
secrets or message text: only platforms, kinds, models, purposes, routes and statuses.

The support lead's figures (deflection, satisfaction, response and resolution times,
cost per resolved ticket) are computed above this layer, in `bot.reports.outcomes`;
the wiring hands `Metrics` a reader for them, so this module knows only their shape.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.events import TicketStatus
from bot.llm.types import AttemptRecord, CallRecorder
from bot.store.models import InboxItem, OutboxItem, Ticket, status_counts

__all__ = [
    "MeteredRecorder",
    "Metrics",
    "OutcomeGauges",
    "OutcomeReader",
    "health_handler",
    "metrics_app",
    "start_metrics_server",
]

FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0)
SLOW = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


@dataclass(frozen=True)
class OutcomeGauges:
    """The support lead's figures as gauges take them (None: nothing to measure yet)."""

    deflection_rate: float | None = None
    satisfaction: float | None = None
    first_response_seconds: float | None = None
    """Median."""
    resolution_seconds: float | None = None
    """Median."""
    cost_per_resolved_usd: dict[str, float] = field(default_factory=dict)
    """By route."""


OutcomeReader = Callable[[async_sessionmaker[AsyncSession]], Awaitable[OutcomeGauges]]


class Metrics:
    """Every metric supportbot exports."""

    def __init__(
        self, registry: CollectorRegistry | None = None, *, outcomes: OutcomeReader | None = None
    ) -> None:
        self.registry = registry or CollectorRegistry()
        self._outcomes = outcomes
        r = self.registry
        self.events_received = Counter(
            "supportbot_events_received",
            "Events accepted into the inbox",
            ["platform", "kind"],
            registry=r,
        )
        self.events_deduplicated = Counter(
            "supportbot_events_deduplicated",
            "Duplicate deliveries dropped",
            ["platform"],
            registry=r,
        )
        self.events_failed = Counter(
            "supportbot_events_failed",
            "Event attempts that failed",
            ["platform", "kind"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "supportbot_ack_seconds",
            "From receiving a platform request to acknowledging it",
            ["platform"],
            buckets=FAST,
            registry=r,
        )
        self.processing_seconds = Histogram(
            "supportbot_processing_seconds",
            "Handling one event",
            ["kind"],
            buckets=SLOW,
            registry=r,
        )
        self.llm_calls = Counter(
            "supportbot_llm_calls", "Model API attempts", ["model", "purpose", "status"], registry=r
        )
        self.llm_tokens = Counter(
            "supportbot_llm_tokens", "Tokens billed", ["model", "purpose", "kind"], registry=r
        )
        self.llm_cost = Counter(
            "supportbot_llm_cost_usd", "Model spend in USD", ["model", "purpose"], registry=r
        )
        self.fallbacks = Counter(
            "supportbot_triage_fallbacks",
            "Tickets triaged by the offline rules",
            ["reason"],
            registry=r,
        )
        self.corrections = Counter(
            "supportbot_triage_corrections", "Correction re-asks", registry=r
        )
        self.inbox_rows = Gauge(
            "supportbot_inbox_rows", "Inbox rows by status", ["status"], registry=r
        )
        self.outbox_rows = Gauge(
            "supportbot_outbox_rows", "Outbox replies by status", ["status"], registry=r
        )
        self.replies_failed = Counter(
            "supportbot_replies_failed",
            "Replies given up on after their bounded attempts",
            ["platform"],
            registry=r,
        )
        self.escalations_open = Gauge(
            "supportbot_escalations_open", "Escalated or claimed tickets", registry=r
        )
        self._outcome_gauges(r)

    def _outcome_gauges(self, r: CollectorRegistry) -> None:
        window = "tickets created in the last 30 days"
        self.deflection = Gauge(
            "supportbot_deflection_ratio",
            f"Resolved tickets no person handled, of all resolved ({window})",
            registry=r,
        )
        self.satisfaction = Gauge(
            "supportbot_satisfaction_ratio",
            f"Rated tickets rated good, of all rated ({window})",
            registry=r,
        )
        self.first_response = Gauge(
            "supportbot_first_response_median_seconds",
            f"Median time to first response by the bot or a person ({window})",
            registry=r,
        )
        self.resolution = Gauge(
            "supportbot_resolution_median_seconds",
            f"Median time from opened to resolved ({window})",
            registry=r,
        )
        self.cost_per_resolved = Gauge(
            "supportbot_cost_per_resolved_ticket_usd",
            f"Model spend per resolved ticket ({window})",
            ["route"],
            registry=r,
        )
        self._set_outcomes(OutcomeGauges())  # not measured (NaN) until a reader says

    async def refresh(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Read the gauges that live in the database (inbox and outbox depth, open
        escalations and, given a reader, the support lead's figures)."""
        async with sessions() as session:
            depth = await status_counts(session, InboxItem)
            replies = await status_counts(session, OutboxItem)
            open_escalations = await session.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.status.in_((TicketStatus.ESCALATED, TicketStatus.CLAIMED)))
            )
        for status in ("pending", "processing", "done", "failed"):
            self.inbox_rows.labels(status).set(depth.get(status, 0))
        for status in ("pending", "sending", "sent", "failed"):
            self.outbox_rows.labels(status).set(replies.get(status, 0))
        self.escalations_open.set(open_escalations or 0)
        if self._outcomes is not None:
            self._set_outcomes(await self._outcomes(sessions))

    def _set_outcomes(self, figures: OutcomeGauges) -> None:
        def known(value: float | None) -> float:
            return math.nan if value is None else value  # NaN: nothing measured yet

        self.deflection.set(known(figures.deflection_rate))
        self.satisfaction.set(known(figures.satisfaction))
        self.first_response.set(known(figures.first_response_seconds))
        self.resolution.set(known(figures.resolution_seconds))
        self.cost_per_resolved.clear()  # a route with nothing resolved any more drops out
        for route, cost in figures.cost_per_resolved_usd.items():
            self.cost_per_resolved.labels(route).set(cost)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)


class MeteredRecorder:
    """Counts every model attempt, then hands it to the real ledger."""

    def __init__(self, inner: CallRecorder, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def record(self, attempt: AttemptRecord) -> None:
        """Count and store one attempt."""
        m, model, purpose = self._metrics, attempt.model, attempt.context.purpose
        m.llm_calls.labels(model, purpose, attempt.status).inc()
        usage = attempt.usage
        for kind, count in (
            ("cache_hit", usage.cache_hit_tokens),
            ("cache_miss", usage.cache_miss_tokens),
            ("completion", usage.completion_tokens),
            ("reasoning", usage.reasoning_tokens),
        ):
            if count:
                m.llm_tokens.labels(model, purpose, kind).inc(count)
        if attempt.cost_usd:
            m.llm_cost.labels(model, purpose).inc(float(attempt.cost_usd))
        await self._inner.record(attempt)


def metrics_handler(metrics: Metrics, sessions: async_sessionmaker[AsyncSession]) -> Any:
    """An aiohttp handler for GET /metrics."""

    async def handle(_request: web.Request) -> web.Response:
        await metrics.refresh(sessions)
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return handle


def health_handler(check: Callable[[], Awaitable[bool]]) -> Any:
    """An aiohttp handler for GET /healthz: 200 when `check()` is true, else 503."""

    async def handle(_request: web.Request) -> web.Response:
        if await check():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unavailable"}, status=503)

    return handle


def metrics_app(metrics: Metrics, sessions: async_sessionmaker[AsyncSession]) -> web.Application:
    """A tiny web app serving only /metrics (for `--metrics-port`)."""
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(metrics, sessions))
    return app


async def start_metrics_server(
    metrics: Metrics, sessions: async_sessionmaker[AsyncSession], host: str, port: int
) -> web.AppRunner:
    """Serve /metrics on its own port; the caller cleans the runner up."""
    runner = web.AppRunner(metrics_app(metrics, sessions))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
