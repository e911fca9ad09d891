"""/metrics in the Prometheus text format, with the numbers an operator alerts on."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.ops.metrics import start_metrics_server
from bot.store.db import Database
from tests.bot.harness import RecordingOutlet, mention, running_app, settle, triage_json
from tests.fakes.deepseek import FakeDeepSeek
from tests.net import free_port


async def test_metrics_port_serves_counts_latencies_costs_and_gauges(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    # One correction, then a valid verdict needing a person.
    fake_deepseek.reply("not json", json_mode=True)
    fake_deepseek.reply(triage_json(needs_human=True))
    port = free_port()
    async with running_app(db, fake_deepseek, RecordingOutlet()) as app:
        event = mention("hello")
        await app.intake.submit(event)
        await app.intake.submit(event)  # a duplicate delivery
        assert await settle(app, event.event_id) == "done"
        runner = await start_metrics_server(app.metrics, app.database.sessions, "127.0.0.1", port)
        try:
            async with httpx.AsyncClient() as http:
                response = await http.get(f"http://127.0.0.1:{port}/metrics")
        finally:
            await runner.cleanup()
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("supportbot_events_received_total", platform="slack", kind="message_posted") == 1
    assert value("supportbot_events_deduplicated_total", platform="slack") == 1
    assert (
        value("supportbot_llm_calls_total", model="deepseek-chat", purpose="triage", status="ok")
        == 1
    )
    assert (
        value(
            "supportbot_llm_calls_total", model="deepseek-chat", purpose="correction", status="ok"
        )
        == 1
    )
    assert value("supportbot_llm_cost_usd_total", model="deepseek-chat", purpose="triage") > 0
    assert value("supportbot_triage_corrections_total") == 1
    assert value("supportbot_processing_seconds_count", kind="message_posted") == 1
    assert value("supportbot_inbox_rows", status="done") == 1
    assert value("supportbot_escalations_open") == 1
