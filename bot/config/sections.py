"""The settings groups: llm, storage, pipeline, leads (and SLAs), privacy, serving,
knowledge.

Each field has one flat name (`DEEPSEEK_API_KEY`, `SUPPORTBOT_SLA_HIGH_MINUTES`) and
a short name (the same lower-cased without `supportbot_`) for TOML and overrides.
Secrets are `SecretStr`, so they never show in a repr, a log line or an error.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic import field_validator as check

from bot import ConfigError
from bot.config.base import Section, setting
from bot.config.knowledge import KnowledgeSettings
from bot.config.playbook import Playbooks
from bot.config.validators import comma_list, url_of
from bot.ops.redaction import Redactor

__all__ = [
    "DASHBOARD_PATH",
    "KnowledgeSettings",
    "LeadsSettings",
    "LlmSettings",
    "PipelineSettings",
    "PrivacySettings",
    "Section",
    "ServingSettings",
    "Settings",
    "StorageSettings",
    "setting",
]

DASHBOARD_PATH = "/dashboard"
"""Where the dashboard is mounted, standalone (`supportbot web`) and in `run --http` alike."""


class LlmSettings(Section):
    """DeepSeek, and how much of it triage, answers and summaries use."""

    api_key: SecretStr | None = setting("DEEPSEEK_API_KEY")
    base_url: str = setting("DEEPSEEK_BASE_URL", "https://api.deepseek.com")
    triage_model: str = setting("SUPPORTBOT_TRIAGE_MODEL", "deepseek-chat")
    reasoner_model: str = setting("SUPPORTBOT_REASONER_MODEL", "deepseek-reasoner")
    timeout_seconds: float = setting("SUPPORTBOT_LLM_TIMEOUT_SECONDS", 60.0, gt=0)
    deadline_seconds: float = setting("SUPPORTBOT_LLM_DEADLINE_SECONDS", 120.0, gt=0)
    max_attempts: int = setting("SUPPORTBOT_LLM_MAX_ATTEMPTS", 3, ge=1, le=3)
    retry_after_cap_seconds: float = setting("SUPPORTBOT_LLM_RETRY_AFTER_CAP_SECONDS", 20.0, ge=0)
    # Two per worker: a new ticket asks triage and drafts its answer at once.
    concurrency: int = setting("SUPPORTBOT_LLM_CONCURRENCY", 512, ge=1, le=1024)
    prices_file: Path | None = setting("SUPPORTBOT_PRICES_FILE")
    reasoner_confidence_threshold: float = setting(
        "SUPPORTBOT_REASONER_CONFIDENCE_THRESHOLD", 0.6, ge=0, le=1
    )
    triage_max_tokens: int = setting("SUPPORTBOT_TRIAGE_MAX_TOKENS", 400, ge=50, le=8000)
    answer_max_tokens: int = setting("SUPPORTBOT_ANSWER_MAX_TOKENS", 800, ge=50, le=8000)
    answer_max_chars: int = setting("SUPPORTBOT_ANSWER_MAX_CHARS", 3000, ge=300, le=40000)
    max_message_chars: int = setting("SUPPORTBOT_MAX_MESSAGE_CHARS", 4000, ge=100)
    max_context_chars: int = setting("SUPPORTBOT_MAX_CONTEXT_CHARS", 12000, ge=1000)
    human_brief: bool = setting("SUPPORTBOT_HUMAN_BRIEF", False)
    answer_while_triaging: bool = setting("SUPPORTBOT_ANSWER_WHILE_TRIAGING", True)
    stream_answers: bool = setting("SUPPORTBOT_STREAM_ANSWERS", True)
    summary_every_messages: int = setting("SUPPORTBOT_SUMMARY_EVERY_MESSAGES", 5, ge=1)

    _base_url = check("base_url")(url_of("http:", "https:"))


class StorageSettings(Section):
    """Where tickets, the inbox, the outbox and the ledger live."""

    database_url: str = setting("DATABASE_URL", "sqlite+aiosqlite:///supportbot.db", repr=False)

    @check("database_url")
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
        path = value.removeprefix("sqlite+aiosqlite:///").partition("?")[0]
        if value.startswith("sqlite") and path and path != ":memory:":
            folder = Path(path).parent
            if not folder.is_dir():
                raise ValueError(f"a SQLite file in a folder that exists; there is no {folder}")
        return value


class PipelineSettings(Section):
    """How events are worked off and replies sent."""

    worker_concurrency: int = setting("SUPPORTBOT_WORKER_CONCURRENCY", 256, ge=1, le=1024)
    inbox_max_attempts: int = setting("SUPPORTBOT_INBOX_MAX_ATTEMPTS", 5, ge=1)
    inbox_lease_seconds: float = setting("SUPPORTBOT_INBOX_LEASE_SECONDS", 120.0, gt=0)
    inbox_retry_base_seconds: float = setting("SUPPORTBOT_INBOX_RETRY_BASE_SECONDS", 2.0, ge=0)
    outbox_lease_seconds: float = setting("SUPPORTBOT_OUTBOX_LEASE_SECONDS", 20.0, gt=0)
    reply_max_attempts: int = setting("SUPPORTBOT_REPLY_MAX_ATTEMPTS", 8, ge=1)
    reply_retry_base_seconds: float = setting("SUPPORTBOT_REPLY_RETRY_BASE_SECONDS", 2.0, ge=0)


class LeadsSettings(Section):
    """Who the leads are, where they hear of escalations, and how long tickets may wait."""

    user_ids: list[str] = setting("SUPPORTBOT_LEAD_USER_IDS", [])
    role_ids: list[str] = setting("SUPPORTBOT_LEAD_ROLE_IDS", [])
    slack_usergroup_id: str | None = setting("SLACK_LEAD_USERGROUP_ID")
    slack_channels: dict[str, str] = setting("SLACK_LEADS_CHANNEL", {})
    discord_channels: dict[str, str] = setting("DISCORD_LEADS_CHANNEL", {})
    sla_high_minutes: int = setting("SUPPORTBOT_SLA_HIGH_MINUTES", 15, ge=1)
    sla_medium_minutes: int = setting("SUPPORTBOT_SLA_MEDIUM_MINUTES", 120, ge=1)
    sla_low_business_days: int = setting("SUPPORTBOT_SLA_LOW_BUSINESS_DAYS", 1, ge=1)
    sla_reminders: int = setting("SUPPORTBOT_SLA_REMINDERS", 3, ge=1, le=10)
    stale_warn_days: float = setting("SUPPORTBOT_STALE_WARN_DAYS", 3.0, gt=0)
    stale_close_days: float = setting("SUPPORTBOT_STALE_CLOSE_DAYS", 4.0, gt=0)
    digest_hour_utc: int = setting("SUPPORTBOT_DIGEST_HOUR_UTC", 9, ge=0, le=23)

    _lists = check("user_ids", "role_ids", mode="before")(comma_list)

    @check("slack_channels", "discord_channels", mode="before")
    @classmethod
    def _per_workspace(cls, value: Any) -> Any:
        """`C1` (every workspace: key "") or `T1:C1,T2:C2` (one channel per workspace)."""
        if not isinstance(value, str):
            return value
        found: dict[str, str] = {}
        for part in comma_list(value):
            workspace, _, channel = part.rpartition(":")
            if not channel:
                raise ValueError("a channel id, or WORKSPACE:CHANNEL pairs separated by commas")
            found[workspace] = channel
        return found

    def masked(self) -> dict[str, str]:
        """Effective values; per-workspace channels shown as they are written."""
        shown = super().masked()
        for field in ("slack_channels", "discord_channels"):
            pairs = getattr(self, field).items()
            shown[self.env_name(field)] = ",".join(f"{w}:{c}" if w else c for w, c in pairs)
        return shown


class PrivacySettings(Section):
    """Redaction, retention, budgets and per-user limits."""

    redaction: bool = setting("SUPPORTBOT_REDACTION", True)
    redaction_patterns: dict[str, str] = setting("SUPPORTBOT_REDACTION_PATTERNS", {})
    retention_days: int = setting("SUPPORTBOT_RETENTION_DAYS", 90, ge=1)
    daily_budget_usd: Decimal | None = setting("SUPPORTBOT_DAILY_BUDGET_USD", None, ge=0)
    user_messages_per_minute: int = setting("SUPPORTBOT_USER_MESSAGES_PER_MINUTE", 10, ge=1)

    @check("redaction_patterns", mode="before")
    @classmethod
    def _json_object(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError('a JSON object such as {"ORDER": "ORD-\\\\d+"}') from None
        return value

    @check("redaction_patterns")
    @classmethod
    def _compiles(cls, value: dict[str, str]) -> dict[str, str]:
        # Build the rules now: a bad kind or regex stops start-up with this setting's name.
        try:
            Redactor(extra_patterns=value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return value


class ServingSettings(Section):
    """Ports, logs, and where the dashboard's login links point."""

    http_port: int = setting("SUPPORTBOT_HTTP_PORT", 3000, ge=1, le=65535)
    metrics_port: int | None = setting("SUPPORTBOT_METRICS_PORT", None, ge=1, le=65535)
    log_format: str = setting("SUPPORTBOT_LOG_FORMAT", "json")
    log_level: str = setting("SUPPORTBOT_LOG_LEVEL", "INFO")
    public_url: str | None = setting("SUPPORTBOT_PUBLIC_URL")
    """How leads' browsers reach this server (`https://support.example.com`); login links
    point at `{public_url}/dashboard/login/...`. Default `http://localhost:{http_port}`."""
    dashboard_link_minutes: int = setting("SUPPORTBOT_DASHBOARD_LINK_MINUTES", 10, ge=1, le=60)
    dashboard_session_hours: int = setting(
        "SUPPORTBOT_DASHBOARD_SESSION_HOURS", 12, ge=1, le=24 * 30
    )

    @check("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = url_of("http:", "https:")(value.strip()).rstrip("/")
        # The dashboard lives at /dashboard under it; a proxy's own path prefix would make
        # the cookie's path and every redirect disagree with what the browser sees.
        if "/" in value.partition("://")[2]:
            raise ValueError("a scheme and host only, such as https://support.example.com")
        return value

    def dashboard_url(self) -> str:
        """Where the dashboard is, as leads' browsers reach it (no trailing slash)."""
        return f"{self.public_url or f'http://localhost:{self.http_port}'}{DASHBOARD_PATH}"

    @check("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value.lower() not in {"json", "text"}:
            raise ValueError("json or text")
        return value.lower()

    @check("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("one of DEBUG, INFO, WARNING, ERROR")
        return value.upper()


class Settings(BaseModel):
    """Every knob of the core, in groups."""

    model_config = ConfigDict(frozen=True)

    llm: LlmSettings = Field(default_factory=LlmSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    leads: LeadsSettings = Field(default_factory=LeadsSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    playbooks: Playbooks = Field(default_factory=Playbooks)
    """Taxonomy, product, teams, routing rules and listening, per workspace."""

    def sections(self) -> list[Section]:
        """The groups, in order."""
        return [getattr(self, name) for name in type(self).model_fields if name != "playbooks"]

    def secret_values(self) -> list[str]:
        """The raw values of every secret set, for scrubbing them out of logs."""
        return [value for section in self.sections() for value in section.secret_values()]

    def masked(self) -> dict[str, str]:
        """Every effective setting by environment name, secrets masked."""
        return {
            name: text for section in self.sections() for name, text in section.masked().items()
        }
