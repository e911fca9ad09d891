"""/metrics exports the support lead's figures over the last 30 days, every workspace."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from bot.store.db import Database
from tests.bot.harness import Clock, RecordingOutlet, running_app
from tests.bot.reports.seed import EXPORT, seed_desk

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


async def test_gauges_carry_deflection_satisfaction_times_and_cost_by_route(
    db: Database,
) -> None:
    await seed_desk(db, NOW)
    async with running_app(db, None, RecordingOutlet(), start=False, clock=Clock(NOW)) as app:
        await app.metrics.refresh(app.database.sessions)
        exposition = app.metrics.render().decode()
    samples = _samples(exposition)
    assert samples[("supportbot_deflection_ratio", ())] == 0.8
    assert samples[("supportbot_satisfaction_ratio", ())] == 0.5
    assert samples[("supportbot_first_response_median_seconds", ())] == 105
    assert samples[("supportbot_resolution_median_seconds", ())] == 3600
    cost = {
        dict(labels)["route"]: value
        for (name, labels), value in samples.items()
        if name == "supportbot_cost_per_resolved_ticket_usd"
    }
    assert cost == {"answer": 0.002, "human": 0.001, "reasoner": 0.01}
    assert EXPORT not in exposition
    assert "export" not in exposition.lower()


async def test_with_no_tickets_the_gauges_say_not_measured(db: Database) -> None:
    async with running_app(db, None, RecordingOutlet(), start=False, clock=Clock(NOW)) as app:
        await app.metrics.refresh(app.database.sessions)
        samples = _samples(app.metrics.render().decode())
    assert math.isnan(samples[("supportbot_deflection_ratio", ())])
    assert math.isnan(samples[("supportbot_first_response_median_seconds", ())])
    assert not [name for name, _ in samples if name == "supportbot_cost_per_resolved_ticket_usd"]
