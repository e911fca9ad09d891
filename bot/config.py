"""Settings: environment variables, an optional `.env`, and an optional TOML file.

Precedence, highest first: explicit arguments, environment, `.env`, the TOML file
named by `--config` or `SUPPORTBOT_CONFIG`, then defaults. Secrets are `SecretStr`
so they never show in a repr, a log line or a validation error.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot import ConfigError

__all__ = ["ConfigError", "Settings", "load_settings"]

CONFIG_ENV = "SUPPORTBOT_CONFIG"


def _setting(env: str, default: Any = None, **kwargs: Any) -> Any:
    """A field read from `env` (any case) or from its lower-case name in TOML."""
    short = env.lower().removeprefix("supportbot_")
    return Field(default, validation_alias=AliasChoices(env, short), **kwargs)


class Settings(BaseSettings):
    """Every knob of supportbot, validated once at startup."""

    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
        case_sensitive=False,
    )
    # Set by load_settings() before construction; a class-level slot, not a global
    # the app reads: only the TOML source consults it.
    _toml_path: ClassVar[Path | None] = None

    # --- DeepSeek -------------------------------------------------------------
    deepseek_api_key: SecretStr | None = _setting("DEEPSEEK_API_KEY")
    deepseek_base_url: str = _setting("DEEPSEEK_BASE_URL", "https://api.deepseek.com")
    triage_model: str = _setting("SUPPORTBOT_TRIAGE_MODEL", "deepseek-chat")
    reasoner_model: str = _setting("SUPPORTBOT_REASONER_MODEL", "deepseek-reasoner")
    llm_timeout_seconds: float = _setting("SUPPORTBOT_LLM_TIMEOUT_SECONDS", 60.0, gt=0)
    llm_deadline_seconds: float = _setting("SUPPORTBOT_LLM_DEADLINE_SECONDS", 120.0, gt=0)
    llm_max_attempts: int = _setting("SUPPORTBOT_LLM_MAX_ATTEMPTS", 3, ge=1, le=3)
    llm_retry_after_cap_seconds: float = _setting(
        "SUPPORTBOT_LLM_RETRY_AFTER_CAP_SECONDS", 20.0, ge=0
    )
    prices_file: Path | None = _setting("SUPPORTBOT_PRICES_FILE")

    # --- Storage --------------------------------------------------------------
    database_url: str = _setting("DATABASE_URL", "sqlite+aiosqlite:///supportbot.db", repr=False)

    # --- Slack ----------------------------------------------------------------
    slack_bot_token: SecretStr | None = _setting("SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = _setting("SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = _setting("SLACK_SIGNING_SECRET")
    slack_api_url: str = _setting("SLACK_API_URL", "https://slack.com/api/")
    slack_lead_usergroup_id: str | None = _setting("SLACK_LEAD_USERGROUP_ID")
    slack_allowed_bot_ids: Annotated[list[str], NoDecode] = _setting("SLACK_ALLOWED_BOT_IDS", [])
    slack_messages_per_second: float = _setting("SLACK_MESSAGES_PER_SECOND", 1.0, gt=0)

    # --- Discord --------------------------------------------------------------
    discord_bot_token: SecretStr | None = _setting("DISCORD_BOT_TOKEN")
    discord_api_url: str = _setting("DISCORD_API_URL", "https://discord.com/api/v10")
    discord_gateway_url: str = _setting("DISCORD_GATEWAY_URL", "wss://gateway.discord.gg")
    discord_shard_count: int | None = _setting("DISCORD_SHARD_COUNT", None, ge=1)
    discord_shard_ids: Annotated[list[int], NoDecode] = _setting("DISCORD_SHARD_IDS", [])
    discord_global_commands: bool = _setting("DISCORD_GLOBAL_COMMANDS", False)

    # --- Triage and answers ---------------------------------------------------
    reasoner_confidence_threshold: float = _setting(
        "SUPPORTBOT_REASONER_CONFIDENCE_THRESHOLD", 0.6, ge=0, le=1
    )
    triage_max_tokens: int = _setting("SUPPORTBOT_TRIAGE_MAX_TOKENS", 400, ge=50, le=8000)
    answer_max_tokens: int = _setting("SUPPORTBOT_ANSWER_MAX_TOKENS", 800, ge=50, le=8000)
    max_message_chars: int = _setting("SUPPORTBOT_MAX_MESSAGE_CHARS", 4000, ge=100)
    human_brief: bool = _setting("SUPPORTBOT_HUMAN_BRIEF", False)
    summary_every_messages: int = _setting("SUPPORTBOT_SUMMARY_EVERY_MESSAGES", 5, ge=1)

    # --- Leads and SLAs ------------------------------------------------------
    lead_user_ids: Annotated[list[str], NoDecode] = _setting("SUPPORTBOT_LEAD_USER_IDS", [])
    lead_role_ids: Annotated[list[str], NoDecode] = _setting("SUPPORTBOT_LEAD_ROLE_IDS", [])
    slack_leads_channel: str | None = _setting("SLACK_LEADS_CHANNEL")
    discord_leads_channel: str | None = _setting("DISCORD_LEADS_CHANNEL")
    sla_high_minutes: int = _setting("SUPPORTBOT_SLA_HIGH_MINUTES", 15, ge=1)
    sla_medium_minutes: int = _setting("SUPPORTBOT_SLA_MEDIUM_MINUTES", 120, ge=1)
    sla_low_business_days: int = _setting("SUPPORTBOT_SLA_LOW_BUSINESS_DAYS", 1, ge=1)

    sla_reminders: int = _setting("SUPPORTBOT_SLA_REMINDERS", 3, ge=1, le=10)
    stale_warn_days: float = _setting("SUPPORTBOT_STALE_WARN_DAYS", 3.0, gt=0)
    stale_close_days: float = _setting("SUPPORTBOT_STALE_CLOSE_DAYS", 4.0, gt=0)
    digest_hour_utc: int = _setting("SUPPORTBOT_DIGEST_HOUR_UTC", 9, ge=0, le=23)

    # --- Privacy, budgets and limits ---------------------------------------------
    redaction: bool = _setting("SUPPORTBOT_REDACTION", True)
    redaction_patterns: dict[str, str] = _setting("SUPPORTBOT_REDACTION_PATTERNS", {})
    retention_days: int = _setting("SUPPORTBOT_RETENTION_DAYS", 90, ge=1)
    daily_budget_usd: Decimal | None = _setting("SUPPORTBOT_DAILY_BUDGET_USD", None, ge=0)
    user_messages_per_minute: int = _setting("SUPPORTBOT_USER_MESSAGES_PER_MINUTE", 10, ge=1)
    max_context_chars: int = _setting("SUPPORTBOT_MAX_CONTEXT_CHARS", 12000, ge=1000)

    # --- Pipeline -------------------------------------------------------------
    worker_concurrency: int = _setting("SUPPORTBOT_WORKER_CONCURRENCY", 16, ge=1, le=256)
    inbox_max_attempts: int = _setting("SUPPORTBOT_INBOX_MAX_ATTEMPTS", 5, ge=1)
    inbox_lease_seconds: float = _setting("SUPPORTBOT_INBOX_LEASE_SECONDS", 120.0, gt=0)
    inbox_retry_base_seconds: float = _setting("SUPPORTBOT_INBOX_RETRY_BASE_SECONDS", 2.0, ge=0)
    outbox_lease_seconds: float = _setting("SUPPORTBOT_OUTBOX_LEASE_SECONDS", 20.0, gt=0)

    # --- Serving --------------------------------------------------------------
    http_port: int = _setting("SUPPORTBOT_HTTP_PORT", 3000, ge=1, le=65535)
    metrics_port: int | None = _setting("SUPPORTBOT_METRICS_PORT", None, ge=1, le=65535)
    log_format: str = _setting("SUPPORTBOT_LOG_FORMAT", "json")

    # --- Behaviour ------------------------------------------------------------
    log_level: str = _setting("SUPPORTBOT_LOG_LEVEL", "INFO")

    @field_validator("deepseek_base_url", "slack_api_url", "discord_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL")
        return value

    @field_validator(
        "lead_user_ids",
        "lead_role_ids",
        "slack_allowed_bot_ids",
        "discord_shard_ids",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("discord_gateway_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("a ws:// or wss:// URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        # Accept the plain URLs people copy from their hosting panel.
        for plain, driver in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if value.startswith(plain):
                value = driver + value.removeprefix(plain)
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "an async SQLAlchemy URL: sqlite+aiosqlite:///path.db or "
                "postgresql+asyncpg://user@host/db"
            )
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value.lower() not in {"json", "text"}:
            raise ValueError("json or text")
        return value.lower()

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("one of DEBUG, INFO, WARNING, ERROR")
        return level

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Add the TOML file below the environment and `.env`."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        if cls._toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_path))
        return tuple(sources)

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets `field` (for messages to operators)."""
        alias = cls.model_fields[field].validation_alias
        assert isinstance(alias, AliasChoices)
        return str(alias.choices[0])

    def secret_values(self) -> list[str]:
        """The raw values of every secret set, for scrubbing them out of logs."""
        values = [v.get_secret_value() for v in self.__dict__.values() if isinstance(v, SecretStr)]
        password = _url_password(self.database_url)
        return [v for v in [*values, password] if v]

    def masked(self) -> dict[str, str]:
        """Effective settings by environment name, secrets masked, for `supportbot config`."""
        shown: dict[str, str] = {}
        for field in type(self).model_fields:
            value = getattr(self, field)
            if isinstance(value, SecretStr):
                text = "********  (set)"
            elif isinstance(value, list):
                text = ", ".join(map(str, value))
            elif isinstance(value, dict):
                text = ", ".join(f"{k}={v}" for k, v in value.items())
            elif field == "database_url":
                text = mask_url_password(value)
            else:
                text = "" if value is None else str(value)
            shown[self.env_name(field)] = text
        return shown


def _url_password(url: str) -> str | None:
    creds = url.partition("://")[2].rpartition("@")[0]
    return creds.split(":", 1)[1] if ":" in creds else None


def mask_url_password(url: str) -> str:
    """Replace the password in a URL with `***` so it can be printed."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _explain(error: ValidationError) -> str:
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        field = str(item["loc"][0]) if item["loc"] else ""
        name = Settings.env_name(field) if field in Settings.model_fields else field
        expected = item["msg"].removeprefix("Value error, ")
        lines.append(
            f"{name}: expected {expected}"
            if item["type"] == "value_error"
            else f"{name}: {expected}"
        )
    return "invalid settings:\n  " + "\n  ".join(lines)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build validated settings.

    Args:
        config_file: a TOML file; defaults to `$SUPPORTBOT_CONFIG` when set.
        **overrides: explicit values by field name (used by tests and the CLI).

    Raises:
        ConfigError: a setting is wrong; the message names it and what it expects,
            and never repeats the value.
    """
    path = config_file or os.environ.get(CONFIG_ENV)
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"{CONFIG_ENV}: expected a readable TOML file, none at {path}")
    Settings._toml_path = Path(path) if path else None
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None
    finally:
        Settings._toml_path = None
