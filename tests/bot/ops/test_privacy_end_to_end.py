"""Redaction end to end: no raw secret in model requests, the database or the logs."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from bot.config import load_settings
from bot.ops.logs import configure_logging, log_filters
from bot.store.db import Database
from bot.store.models import Message
from tests.bot.harness import RecordingOutlet, mention, responder, running_app, settle
from tests.bot.ops.corpus import LOOK_ALIKES, SENSITIVE
from tests.bot.pipeline.dump import database_dump
from tests.fakes.deepseek import FakeDeepSeek


async def test_no_raw_secret_reaches_the_model_the_database_or_the_logs(
    db: Database, fake_deepseek: FakeDeepSeek, caplog: pytest.LogCaptureFixture
) -> None:
    assert len(SENSITIVE) + len(LOOK_ALIKES) >= 60
    fake_deepseek.responder = responder()
    # A look-alike may legitimately contain a secret's digits ("latency 0.4111111111111111").
    raw_values = [
        raw
        for case in SENSITIVE
        for _, raw in case.found
        if not any(raw in look_alike for look_alike in LOOK_ALIKES)
    ]
    caplog.set_level(logging.DEBUG)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)  # its SQL echo is only noise here
    handler_filters = log_filters(load_settings(database_url=db.url))
    for scrub in handler_filters:
        caplog.handler.addFilter(scrub)
    async with running_app(db, fake_deepseek, RecordingOutlet()) as app:
        messages = [case.text for case in SENSITIVE] + LOOK_ALIKES
        for i, body in enumerate(messages):
            event = mention(body, message_id=f"1700007000.{i:06d}")
            await app.intake.submit(event)
            assert await settle(app, event.event_id) == "done"
    sent = json.dumps([r.json for r in fake_deepseek.requests], ensure_ascii=False)
    stored = await database_dump(db)
    logged = caplog.text
    leaks = {
        "model": [raw for raw in raw_values if raw in sent],
        "database": [raw for raw in raw_values if raw in stored],
        "logs": [raw for raw in raw_values if raw in logged],
    }
    assert leaks == {"model": [], "database": [], "logs": []}
    async with db.sessions() as session:
        kept = set((await session.scalars(select(Message.text).where(~Message.is_bot))).all())
    untouched = [look_alike for look_alike in LOOK_ALIKES if look_alike.strip() in kept]
    assert untouched == [a for a in LOOK_ALIKES if a.strip()]  # no look-alike was redacted


def test_configure_logging_writes_scrubbed_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(deepseek_api_key="sk-CANARY-logs-0123456789abcdef")
    configure_logging("INFO", "json", log_filters(settings))
    logging.getLogger("supportbot.test").info(
        "ticket.note user=%s key=%s", "alice@example.com", "sk-CANARY-logs-0123456789abcdef"
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    data = json.loads(line)
    assert data["level"] == "info"
    assert data["logger"] == "supportbot.test"
    assert "alice@example.com" not in line
    assert "sk-CANARY" not in line
    logging.getLogger().handlers.clear()
