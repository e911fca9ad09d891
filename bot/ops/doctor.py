"""`supportbot doctor`: one line per check, each failure with the fix.

The core checks the database and DeepSeek; each platform adapter adds its own
checks (`adapters/*/doctor.py`) through the CLI's extensions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import deepseek_client
from bot.config import Settings
from bot.llm.client import DeepSeekClient
from bot.llm.errors import LLMError
from bot.store.db import Database
from bot.store.migrate import current_revision, head_revision
from bot.store.models import OutboxItem, status_counts

__all__ = ["TIMEOUT", "Check", "NamedCheck", "core_checks", "run_checks"]

TIMEOUT = 10.0


@dataclass(frozen=True)
class Check:
    """The outcome of one check: ok True/False, or None when skipped."""

    name: str
    ok: bool | None
    detail: str
    hint: str = ""

    def line(self) -> str:
        """How the check prints: `ok`, `FAIL` or `skip`, the detail, and the fix."""
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        text = f"{mark} {self.name}: {self.detail}"
        return f"{text}\n       fix: {self.hint}" if self.hint and self.ok is not True else text


def _no_sqlite_file(settings: Settings) -> bool:
    """True when the database is a SQLite file that does not exist yet."""
    url = make_url(settings.storage.database_url)
    is_file = url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:")
    return is_file and not Path(str(url.database)).exists()


async def check_database(settings: Settings) -> Check:
    """The database answers and is at the newest migration."""
    url = make_url(settings.storage.database_url)
    # Connecting would create an empty SQLite file; doctor only looks.
    if _no_sqlite_file(settings):
        return Check(
            "database",
            False,
            f"SQLite file {url.database} does not exist yet",
            "run `supportbot db upgrade` (the bot also creates it on start)",
        )
    database = Database(settings.storage.database_url)
    try:
        revision = await current_revision(database)
    except Exception as exc:  # any driver error means "not reachable"
        return Check(
            "database",
            False,
            f"not reachable ({type(exc).__name__})",
            "check DATABASE_URL and that the server is running",
        )
    finally:
        await database.dispose()
    head = head_revision()
    if revision != head:
        return Check(
            "database",
            False,
            f"schema at {revision or 'nothing'}, newest is {head}",
            "run `supportbot db upgrade`",
        )
    return Check("database", True, f"reachable, schema at {head}")


async def check_replies(settings: Settings) -> Check:
    """No reply was given up on: the outbox relay sent everything it was given."""
    if _no_sqlite_file(settings):
        return Check("replies", None, "no database yet")
    database = Database(settings.storage.database_url)
    try:
        async with database.sessions() as session:
            counts = await status_counts(session, OutboxItem)
            oldest = await session.scalar(
                select(OutboxItem.key).where(OutboxItem.status == "failed").order_by(OutboxItem.id)
            )
    except Exception as exc:  # not migrated, or not reachable: the database check says why
        return Check("replies", None, f"could not be read ({type(exc).__name__})")
    finally:
        await database.dispose()
    failed, waiting = counts.get("failed", 0), counts.get("pending", 0) + counts.get("sending", 0)
    if failed:
        return Check(
            "replies",
            False,
            f"{failed} could not be delivered (first: {oldest}); {waiting} waiting",
            "their last_error in the outbox table says why (a revoked token, a removed "
            "channel); the bot gave up on them after SUPPORTBOT_REPLY_MAX_ATTEMPTS tries",
        )
    return Check("replies", True, f"none given up on; {waiting} waiting to be sent")


async def check_deepseek(settings: Settings) -> list[Check]:
    """The key works, both configured models exist, and the balance is usable."""
    if settings.llm.api_key is None:
        return [
            Check(
                "deepseek",
                False,
                "DEEPSEEK_API_KEY is not set; triage runs offline on rules",
                "create a key at https://platform.deepseek.com and set DEEPSEEK_API_KEY",
            )
        ]
    async with deepseek_client(settings) as client:
        try:
            models = await client.list_models()
        except LLMError as exc:
            return [Check("deepseek", False, str(exc), _llm_hint(exc))]
        balance_check = await _check_balance(client)
    checks = []
    for setting, model in (
        ("SUPPORTBOT_TRIAGE_MODEL", settings.llm.triage_model),
        ("SUPPORTBOT_REASONER_MODEL", settings.llm.reasoner_model),
    ):
        if model in models:
            checks.append(Check(f"deepseek model {model}", True, "available"))
        else:
            checks.append(
                Check(
                    f"deepseek model {model}",
                    False,
                    f"not offered; available: {', '.join(models) or 'none'}",
                    f"set {setting} to one of the available models",
                )
            )
    return [*checks, balance_check]


async def _check_balance(client: DeepSeekClient) -> Check:
    """The balance, where the endpoint has one: a gateway in front of DeepSeek may not."""
    try:
        balance = await client.balance()
    except LLMError as exc:
        if exc.status == 404:
            return Check("deepseek balance", None, "not available through this endpoint")
        return Check("deepseek balance", False, str(exc), _llm_hint(exc))
    if balance.is_available:
        return Check("deepseek balance", True, "available")
    return Check(
        "deepseek balance",
        False,
        "the account cannot pay for calls",
        "top up at https://platform.deepseek.com",
    )


def _llm_hint(exc: LLMError) -> str:
    if exc.status == 401:
        return "DEEPSEEK_API_KEY is wrong or revoked; create a new key"
    if exc.status == 402:
        return "the account is out of balance; top it up"
    return "check DEEPSEEK_BASE_URL and the network"


NamedCheck = tuple[str, Callable[[], Awaitable["Check | list[Check]"]]]
"""A check's name (for `--only`) and a call that runs it."""


def core_checks(settings: Settings) -> list[NamedCheck]:
    """The core's own checks: the database, undelivered replies and DeepSeek."""
    return [
        ("database", lambda: check_database(settings)),
        ("replies", lambda: check_replies(settings)),
        ("deepseek", lambda: check_deepseek(settings)),
    ]


async def run_checks(checks: list[NamedCheck]) -> list[Check]:
    """Run every check; a check that crashes becomes a failed line, never a traceback."""
    results: list[Check] = []
    for name, check in checks:
        try:
            outcome = await check()
        except Exception as exc:
            outcome = Check(
                name,
                False,
                f"check crashed: {type(exc).__name__}",
                "run with SUPPORTBOT_LOG_LEVEL=DEBUG and report it",
            )
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    return results
