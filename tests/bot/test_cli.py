"""The `supportbot` command as an operator meets it: real subprocesses, real files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.llm.types import AttemptRecord, CallContext, Usage
from bot.store.db import Database
from bot.store.ledger import SqlCallRecorder
from bot.store.migrate import upgrade
from bot.store.models import OutboxItem
from tests.cli_runner import clean_env, run_cli
from tests.conftest import FAKE_KEY
from tests.fakes.deepseek import FakeDeepSeek

CANARY = "sk-CANARY-cli-0a1b2c3d4e5f"


async def test_doctor_with_nothing_configured_fails_with_fixes_and_no_traceback(
    tmp_path: Path,
) -> None:
    outcome = await run_cli("doctor", cwd=tmp_path, env=clean_env())
    assert outcome.code == 1
    assert "Traceback" not in outcome.stdout + outcome.stderr
    assert "FAIL database" in outcome.stdout
    assert "supportbot db upgrade" in outcome.stdout
    assert "FAIL deepseek: DEEPSEEK_API_KEY is not set" in outcome.stdout
    assert "skip slack" in outcome.stdout
    assert "skip discord" in outcome.stdout
    assert not (tmp_path / "supportbot.db").exists()  # doctor looks, it does not create


async def test_doctor_passes_against_the_fake_and_names_missing_models(
    tmp_path: Path, fake_deepseek: FakeDeepSeek
) -> None:
    env = clean_env(DEEPSEEK_API_KEY=FAKE_KEY, DEEPSEEK_BASE_URL=fake_deepseek.base_url)
    assert (await run_cli("db", "upgrade", cwd=tmp_path, env=env)).code == 0
    ok = await run_cli("doctor", cwd=tmp_path, env=env)
    assert ok.code == 0, ok.stdout + ok.stderr
    assert "ok   deepseek model deepseek-chat" in ok.stdout
    assert "all checks passed" in ok.stdout

    env["SUPPORTBOT_TRIAGE_MODEL"] = "deepseek-v9-imaginary"
    bad = await run_cli("doctor", cwd=tmp_path, env=env)
    assert bad.code == 1
    assert "FAIL deepseek model deepseek-v9-imaginary" in bad.stdout
    assert "available: deepseek-chat, deepseek-reasoner" in bad.stdout
    assert "SUPPORTBOT_TRIAGE_MODEL" in bad.stdout


async def test_doctor_with_a_wrong_key_says_so_without_leaking_it(
    tmp_path: Path, fake_deepseek: FakeDeepSeek
) -> None:
    env = clean_env(
        DEEPSEEK_API_KEY=CANARY,
        DEEPSEEK_BASE_URL=fake_deepseek.base_url,
        SUPPORTBOT_LOG_LEVEL="DEBUG",
    )
    outcome = await run_cli("doctor", cwd=tmp_path, env=env)
    assert outcome.code == 1
    assert "DEEPSEEK_API_KEY is wrong" in outcome.stdout
    assert CANARY not in outcome.stdout + outcome.stderr
    assert CANARY[-8:] not in outcome.stdout + outcome.stderr


async def test_config_masks_every_secret(tmp_path: Path) -> None:
    env = clean_env(
        DEEPSEEK_API_KEY=CANARY,
        SLACK_BOT_TOKEN=CANARY,
        DISCORD_BOT_TOKEN=CANARY,
        SLACK_SIGNING_SECRET=CANARY,
        SUPPORTBOT_LOG_LEVEL="DEBUG",
        DATABASE_URL=f"postgresql+asyncpg://bot:{CANARY}@127.0.0.1/x",
    )
    outcome = await run_cli("config", cwd=tmp_path, env=env)
    assert outcome.code == 0
    assert CANARY not in outcome.stdout + outcome.stderr
    assert "DEEPSEEK_API_KEY" in outcome.stdout
    assert "postgresql+asyncpg://bot:***@127.0.0.1/x" in outcome.stdout


async def test_config_error_names_the_setting(tmp_path: Path) -> None:
    outcome = await run_cli(
        "config", cwd=tmp_path, env=clean_env(SUPPORTBOT_LLM_MAX_ATTEMPTS="many")
    )
    assert outcome.code == 2
    assert "SUPPORTBOT_LLM_MAX_ATTEMPTS" in outcome.stderr
    assert "Traceback" not in outcome.stderr


async def test_costs_adds_up_the_ledger_by_model_purpose_day_and_workspace(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'supportbot.db'}"
    database = Database(url)
    await upgrade(database)
    recorder = SqlCallRecorder(database.sessions)
    now = datetime.now(UTC)
    for model, purpose, cost, age in [
        ("deepseek-chat", "triage", "0.0010", timedelta(hours=1)),
        ("deepseek-chat", "answer", "0.0020", timedelta(hours=2)),
        ("deepseek-reasoner", "reasoner", "0.0100", timedelta(days=2)),
        ("deepseek-chat", "triage", "9.9999", timedelta(days=30)),  # outside 7d
    ]:
        await recorder.record(
            AttemptRecord(
                context=CallContext(purpose=purpose, workspace_id="T1"),
                model=model,
                status="ok",
                error=None,
                usage=Usage(cache_miss_tokens=100, completion_tokens=10),
                cost_usd=Decimal(cost),
                latency_ms=5,
                attempt=1,
                request_id=None,
                started_at=now - age,
            )
        )
    await database.dispose()

    outcome = await run_cli(
        "costs", "--since", "7d", "--json", cwd=tmp_path, env=clean_env(DATABASE_URL=url)
    )
    assert outcome.code == 0, outcome.stderr
    report = json.loads(outcome.stdout)
    assert Decimal(report["total"]["cost_usd"]) == Decimal("0.0130")
    assert report["total"]["calls"] == 3
    assert Decimal(report["by_model"]["deepseek-chat"]["cost_usd"]) == Decimal("0.0030")
    assert Decimal(report["by_purpose"]["reasoner"]["cost_usd"]) == Decimal("0.0100")
    assert report["by_workspace"]["T1"]["calls"] == 3
    assert len(report["by_day"]) in (2, 3)  # "1 h ago" may fall on yesterday near midnight

    text = await run_cli("costs", cwd=tmp_path, env=clean_env(DATABASE_URL=url))
    assert "$0.0130" in text.stdout
    assert "deepseek-reasoner" in text.stdout

    bad = await run_cli("costs", "--since", "forever", cwd=tmp_path, env=clean_env())
    assert bad.code == 2
    assert "7d" in bad.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SUPPORTBOT_REDACTION_PATTERNS": "{not json"}, "SUPPORTBOT_REDACTION_PATTERNS"),
        (
            {"SUPPORTBOT_REDACTION_PATTERNS": '{"ORDER": "(unclosed"}'},
            "SUPPORTBOT_REDACTION_PATTERNS",
        ),
        ({"SUPPORTBOT_REDACTION_PATTERNS": '{"lower": "x"}'}, "SUPPORTBOT_REDACTION_PATTERNS"),
        ({"SUPPORTBOT_PRICES_FILE": "/no/such/prices.json"}, "SUPPORTBOT_PRICES_FILE"),
        ({"SUPPORTBOT_CONFIG": "broken.toml"}, "SUPPORTBOT_CONFIG"),
    ],
)
async def test_every_bad_setting_is_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    (tmp_path / "broken.toml").write_text("triage_model = [\n")
    outcome = await run_cli("config", cwd=tmp_path, env=clean_env(**env))
    assert outcome.code == 2, outcome.stderr
    assert named in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) <= 3  # "Error: invalid settings:" + the line


async def test_an_unreachable_database_is_a_setting_error_not_a_traceback(tmp_path: Path) -> None:
    missing_dir = f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'bot.db'}"
    server_down = "postgresql+asyncpg://bot:pw@127.0.0.1:1/support"  # nothing listens on 1
    for url, says in (
        (missing_dir, "DATABASE_URL: expected a SQLite file in a folder that exists"),
        (server_down, "DATABASE_URL: cannot open the database"),
    ):
        for args in (("db", "upgrade"), ("tickets",)):
            outcome = await run_cli(*args, cwd=tmp_path, env=clean_env(DATABASE_URL=url))
            assert outcome.code == 2, outcome.stderr
            assert says in outcome.stderr
            assert "Traceback" not in outcome.stderr
            assert "bot:pw" not in outcome.stderr  # no credentials echoed


async def test_config_masks_credentials_inside_every_url(tmp_path: Path) -> None:
    env = clean_env(
        DEEPSEEK_BASE_URL="https://gw-user:gw-pass-123@gateway.example/v1",
        SLACK_API_URL="https://proxy:proxy-pass-456@proxy.example/api/",
        DATABASE_URL="postgres://bot:db-pass-789@db.example/support",
    )
    outcome = await run_cli("config", cwd=tmp_path, env=env)
    assert outcome.code == 0, outcome.stderr
    for password in ("gw-pass-123", "proxy-pass-456", "db-pass-789"):
        assert password not in outcome.stdout + outcome.stderr
    assert "https://gw-user:***@gateway.example/v1" in outcome.stdout


async def test_doctor_names_the_replies_the_bot_gave_up_on(
    tmp_path: Path, fake_deepseek: FakeDeepSeek
) -> None:
    env = clean_env(DEEPSEEK_API_KEY=FAKE_KEY, DEEPSEEK_BASE_URL=fake_deepseek.base_url)
    assert (await run_cli("db", "upgrade", cwd=tmp_path, env=env)).code == 0
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'supportbot.db'}")
    async with db.sessions.begin() as session:
        session.add(
            OutboxItem(key="ticket:7:card", platform="slack", kind="post_reply",
                       payload={"text": "Secret reply text"}, status="failed", attempts=8,
                       last_error="SlackApiError: channel_not_found")
        )  # fmt: skip
    await db.dispose()

    outcome = await run_cli("doctor", cwd=tmp_path, env=env)

    assert outcome.code == 1
    assert "FAIL replies: 1 could not be delivered (first: ticket:7:card)" in outcome.stdout
    assert "SUPPORTBOT_REPLY_MAX_ATTEMPTS" in outcome.stdout
    assert "Secret reply text" not in outcome.stdout + outcome.stderr
