"""A canary secret in settings never shows in logs, /metrics, `supportbot config` or errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from adapters.slack.adapter import SlackAdapter
from adapters.slack.settings import SlackSettings
from bot.app import SupportApp
from bot.config import load_section, load_settings
from bot.events import Platform
from bot.ops.logs import log_filters
from bot.ops.metrics import metrics_handler
from bot.store.db import Database
from tests.adapters.slack.harness import SIGNING_SECRET, mention_envelope
from tests.bot.pipeline.dump import database_dump
from tests.cli_runner import clean_env, run_cli
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_interactive import json_headers
from tests.settle import wait_settled

CANARY = "sk-CANARY-d41d8cd98f00b204e9800998ecf8427e"
SLACK_CANARY = "xoxb-CANARY-1234567890-abcdefghijklmnop"


async def test_canary_never_appears_in_logs_metrics_errors_or_the_database(
    db: Database, fake_deepseek: FakeDeepSeek, caplog: pytest.LogCaptureFixture
) -> None:
    # The model key is wrong (the fake rejects it), so errors are produced and stored.
    fake_deepseek.responder = lambda body: "{}"
    async with FakeSlack(bot_token=SLACK_CANARY) as fake_slack:
        settings = load_settings(
            database_url=db.url,
            deepseek_api_key=CANARY,
            deepseek_base_url=fake_deepseek.base_url,
            log_level="DEBUG",
        )
        slack = load_section(
            SlackSettings,
            slack_bot_token=SLACK_CANARY,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=fake_slack.base_url,
            slack_messages_per_second=50.0,
        )
        caplog.set_level(logging.DEBUG)
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        for scrub in log_filters(settings, [slack]):
            caplog.handler.addFilter(scrub)
        app = SupportApp(settings, database=Database(db.url))
        adapter = SlackAdapter.from_settings(slack, leads=settings.leads, intake=app.intake)
        adapter.add_route("/metrics", metrics_handler(app.metrics, app.database.sessions))
        app.attach(Platform.SLACK, adapter.outlet)
        await app.start()
        port = await adapter.start_http("127.0.0.1", 0)
        try:
            raw = json.dumps(mention_envelope("hello, my key is " + CANARY))
            async with httpx.AsyncClient() as http:
                await http.post(
                    f"http://127.0.0.1:{port}/slack/events",
                    content=raw,
                    headers=json_headers(SIGNING_SECRET, raw),
                )
                assert await wait_settled(app, "slack", "Ev0001", within=30) == "done"
                metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        finally:
            await adapter.stop()
            await adapter.close()
            await app.stop()
    assert "supportbot_llm_calls_total" in metrics
    assert 'status="http_401"' in metrics
    stored = await database_dump(db)
    assert "http_401" in stored  # the failed attempt is in the ledger, with its error
    for where, content in {"logs": caplog.text, "metrics": metrics, "database": stored}.items():
        assert CANARY not in content, where
        assert SLACK_CANARY not in content, where
        assert CANARY[-12:] not in content, where


async def test_canary_never_appears_in_supportbot_config_or_a_settings_error(
    tmp_path: Path,
) -> None:
    env = clean_env(
        DEEPSEEK_API_KEY=CANARY, SLACK_BOT_TOKEN=SLACK_CANARY, SUPPORTBOT_LOG_LEVEL="DEBUG"
    )
    shown = await run_cli("config", cwd=tmp_path, env=env)
    broken = await run_cli(
        "doctor", cwd=tmp_path, env={**env, "SUPPORTBOT_WORKER_CONCURRENCY": CANARY}
    )
    assert shown.code == 0
    assert broken.code == 2  # a bad setting exits like a bad option
    assert "SUPPORTBOT_WORKER_CONCURRENCY" in broken.stderr
    for output in (shown.stdout, shown.stderr, broken.stdout, broken.stderr):
        assert CANARY not in output
        assert SLACK_CANARY not in output
