"""Settings: sources, precedence, and messages that name the setting but never a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.slack.settings import SlackSettings
from bot import ConfigError
from bot.config import load_section, load_settings

CANARY = "sk-CANARY-7f3e9b2c41d8"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "DEEPSEEK_API_KEY",
        "DEEPSEEK_BASE_URL",
        "DATABASE_URL",
        "SUPPORTBOT_CONFIG",
        "SUPPORTBOT_TRIAGE_MODEL",
        "SUPPORTBOT_LLM_MAX_ATTEMPTS",
        "SLACK_BOT_TOKEN",
        "SLACK_LEADS_CHANNEL",
        "DISCORD_LEADS_CHANNEL",
        "SUPPORTBOT_WORKER_CONCURRENCY",
        "SUPPORTBOT_LOG_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_defaults_match_the_documented_ones() -> None:
    settings = load_settings()
    assert settings.llm.base_url == "https://api.deepseek.com"
    assert settings.llm.triage_model == "deepseek-chat"
    assert settings.llm.reasoner_model == "deepseek-reasoner"
    assert settings.storage.database_url == "sqlite+aiosqlite:///supportbot.db"
    assert settings.llm.api_key is None


def test_environment_beats_toml_file_which_beats_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    toml = tmp_path / "supportbot.toml"
    toml.write_text('triage_model = "deepseek-v4-flash"\nreasoner_model = "deepseek-v4-pro"\n')
    monkeypatch.setenv("SUPPORTBOT_CONFIG", str(toml))
    monkeypatch.setenv("SUPPORTBOT_TRIAGE_MODEL", "deepseek-flash")
    settings = load_settings()
    assert settings.llm.triage_model == "deepseek-flash"
    assert settings.llm.reasoner_model == "deepseek-v4-pro"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DEEPSEEK_API_KEY={CANARY}\n")
    settings = load_settings()
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == CANARY


def test_plain_postgres_url_gets_the_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://bot@db.internal/support")
    assert load_settings().storage.database_url == "postgresql+asyncpg://bot@db.internal/support"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SUPPORTBOT_LLM_MAX_ATTEMPTS", "lots", "SUPPORTBOT_LLM_MAX_ATTEMPTS"),
        ("DEEPSEEK_BASE_URL", "api.deepseek.com", "DEEPSEEK_BASE_URL: expected an http"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: expected an async SQLAlchemy URL"),
    ],
)
def test_a_wrong_value_gets_one_message_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert expected in str(caught.value)
    assert value not in str(caught.value).replace(name, "")


def test_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTBOT_CONFIG", "/nonexistent/supportbot.toml")
    with pytest.raises(ConfigError, match="SUPPORTBOT_CONFIG"):
        load_settings()


def test_canary_secret_never_in_repr_or_validation_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", CANARY)
    settings = load_settings()
    assert CANARY not in repr(settings)
    assert CANARY not in str(settings.model_dump())
    assert CANARY not in str(settings.masked())
    # A secret of the wrong type is refused without being echoed back.
    monkeypatch.delenv("DEEPSEEK_API_KEY")
    toml = tmp_path / "bad.toml"
    toml.write_text(f'deepseek_api_key = ["{CANARY}"]\nslack_signing_secret = ["{CANARY}"]\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(toml)
    assert "DEEPSEEK_API_KEY" in str(caught.value)
    assert CANARY not in str(caught.value)
    assert CANARY not in repr(caught.value.__cause__) + repr(caught.value.__context__)
    # A platform's settings group is read from the same file and refuses the same way.
    with pytest.raises(ConfigError) as caught:
        load_section(SlackSettings, toml)
    assert "SLACK_SIGNING_SECRET" in str(caught.value)
    assert CANARY not in str(caught.value)


def test_groups_read_flat_names_and_toml_tables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    toml = tmp_path / "supportbot.toml"
    toml.write_text('[leads]\nsla_high_minutes = 5\n\n[llm]\ntriage_model = "deepseek-v4"\n')
    monkeypatch.setenv("SUPPORTBOT_WORKER_CONCURRENCY", "32")
    monkeypatch.setenv("SLACK_LEADS_CHANNEL", "T1:C1, T2:C2")
    monkeypatch.setenv("DISCORD_LEADS_CHANNEL", "C9")
    settings = load_settings(toml)
    assert settings.leads.sla_high_minutes == 5
    assert settings.llm.triage_model == "deepseek-v4"
    assert settings.pipeline.worker_concurrency == 32
    assert settings.leads.slack_channels == {"T1": "C1", "T2": "C2"}
    assert settings.leads.discord_channels == {"": "C9"}
    assert settings.masked()["SLACK_LEADS_CHANNEL"] == "T1:C1,T2:C2"


def test_every_wrong_setting_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTBOT_WORKER_CONCURRENCY", "lots")
    monkeypatch.setenv("SUPPORTBOT_LOG_FORMAT", "xml")
    monkeypatch.setenv("SLACK_LEADS_CHANNEL", "T1:")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    lines = str(caught.value).splitlines()
    assert lines[0] == "invalid settings:"
    assert sorted(line.split(":")[0].strip() for line in lines[1:]) == [
        "SLACK_LEADS_CHANNEL",
        "SUPPORTBOT_LOG_FORMAT",
        "SUPPORTBOT_WORKER_CONCURRENCY",
    ]
    assert "lots" not in str(caught.value)
