"""Logging: one JSON object per line on stderr, with the event, ticket and platform
being worked on, and secrets and personal data scrubbed before anything is written.

Message text is never logged above DEBUG; the scrubbing filter is the safety net.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.config import Section, Settings
from bot.ops.redaction import RedactingFilter, Redactor

__all__ = [
    "QuietLibrariesFilter",
    "SecretsFilter",
    "bind_log_context",
    "configure_logging",
    "log_filters",
    "reset_log_context",
]

_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "supportbot_log_context", default=None
)
_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def bind_log_context(**fields: Any) -> contextvars.Token[dict[str, Any] | None]:
    """Attach fields (event_id, ticket_id, platform) to every log line in this task."""
    return _CONTEXT.set({**(_CONTEXT.get() or {}), **fields})


def reset_log_context(token: contextvars.Token[dict[str, Any] | None]) -> None:
    """Undo a `bind_log_context`."""
    _CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "event", ...context, ...extra}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **(_CONTEXT.get() or {}),
        }
        data.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["error"] = record.exc_text
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Plain lines for people reading a terminal, with the same context fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{k}={v}" for k, v in (_CONTEXT.get() or {}).items())
        return f"{line} {context}".rstrip()


class SecretsFilter(logging.Filter):
    """Replaces the configured secrets' literal values in every record by `[SECRET]`.

    A belt to the braces of `SecretStr`: if a token ever reaches a log call, through a
    URL, an exception or a library's debug line, it still never reaches the output.
    """

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub the rendered message and any traceback; never drops the record."""
        if not self._secrets:
            return True
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info:
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[SECRET]")
        return text


_TALKATIVE = ("slack_bolt", "slack_sdk")
"""Libraries that put request bodies (message text) in their INFO lines."""


class QuietLibrariesFilter(logging.Filter):
    """Drops records below WARNING that Slack's libraries write, unless logging at DEBUG.

    Silencing the `slack_bolt` logger is not enough: bolt gives each of its loggers an
    explicit level copied from the root when it makes them (`slack_bolt.RequestVerification`
    logs a forged request's whole body at INFO), and names an app's loggers after the
    script that built it. So the filter sits on the handler and also knows a record
    by the library file that wrote it.
    """

    def __init__(self, threshold: int = logging.WARNING) -> None:
        super().__init__()
        self._threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a library's record below the threshold."""
        return record.levelno >= self._threshold or not _from_talkative_library(record)


def _from_talkative_library(record: logging.LogRecord) -> bool:
    if any(record.name == n or record.name.startswith(f"{n}.") for n in _TALKATIVE):
        return True
    path = record.pathname.replace("\\", "/")
    return any(f"/{n}/" in path for n in _TALKATIVE)


def configure_logging(
    level: str = "INFO", fmt: str = "json", filters: list[logging.Filter] | None = None
) -> None:
    """Send log records to stderr at `level`, as JSON or text, through `filters`."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.setLevel(level)
    if root.level > logging.DEBUG:
        handler.addFilter(QuietLibrariesFilter())
    for scrubber in filters or ():
        handler.addFilter(scrubber)
    root.handlers[:] = [handler]
    for noisy in (
        "httpx",
        "httpcore",
        "aiosqlite",
        "asyncio",
        "alembic",
        "discord",
        "slack_bolt",
        "slack_sdk",
        "apscheduler",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def log_filters(settings: Settings, sections: Iterable[Section] = ()) -> list[logging.Filter]:
    """Scrub secrets' values and personal data out of every log line."""
    privacy = settings.privacy
    redactor = Redactor(enabled=privacy.redaction, extra_patterns=privacy.redaction_patterns)
    secrets = [*settings.secret_values(), *(v for s in sections for v in s.secret_values())]
    return [SecretsFilter(secrets), RedactingFilter(redactor)]
