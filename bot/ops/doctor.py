"""`supportbot doctor`: one line per check, each failure with the fix.

The platform checks are plain HTTPS calls (Slack `auth.test`, Discord
`GET /users/@me`, which is what a discord.py login does first), so the core needs
no platform SDK to diagnose a token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from bot.app import deepseek_client
from bot.config import Settings
from bot.llm.errors import LLMError
from bot.store.db import Database
from bot.store.migrate import current_revision, head_revision

__all__ = ["Check", "run_checks"]

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


async def check_database(settings: Settings) -> Check:
    """The database answers and is at the newest migration."""
    url = make_url(settings.database_url)
    is_file = url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:")
    # Connecting would create an empty SQLite file; doctor only looks.
    if is_file and not Path(str(url.database)).exists():  # noqa: ASYNC240 - one stat call
        return Check(
            "database",
            False,
            f"SQLite file {url.database} does not exist yet",
            "run `supportbot db upgrade` (the bot also creates it on start)",
        )
    database = Database(settings.database_url)
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


async def check_deepseek(settings: Settings) -> list[Check]:
    """The key works, both configured models exist, and the balance is usable."""
    if settings.deepseek_api_key is None:
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
            balance = await client.balance()
        except LLMError as exc:
            return [Check("deepseek", False, str(exc), _llm_hint(exc))]
    checks = []
    for setting, model in (
        ("SUPPORTBOT_TRIAGE_MODEL", settings.triage_model),
        ("SUPPORTBOT_REASONER_MODEL", settings.reasoner_model),
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
    if balance.is_available:
        checks.append(Check("deepseek balance", True, "available"))
    else:
        checks.append(
            Check(
                "deepseek balance",
                False,
                "the account cannot pay for calls",
                "top up at https://platform.deepseek.com",
            )
        )
    return checks


def _llm_hint(exc: LLMError) -> str:
    if exc.status == 401:
        return "DEEPSEEK_API_KEY is wrong or revoked; create a new key"
    if exc.status == 402:
        return "the account is out of balance; top it up"
    return "check DEEPSEEK_BASE_URL and the network"


async def check_slack(settings: Settings) -> Check:
    """The Slack bot token passes `auth.test`."""
    if settings.slack_bot_token is None:
        return Check(
            "slack", None, "SLACK_BOT_TOKEN not set; Slack adapter off", "see README: Slack set-up"
        )
    url = settings.slack_api_url.rstrip("/") + "/auth.test"
    headers = {"Authorization": f"Bearer {settings.slack_bot_token.get_secret_value()}"}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            body = (await http.post(url, headers=headers)).json()
    except (httpx.HTTPError, ValueError) as exc:
        return Check(
            "slack",
            False,
            f"auth.test failed ({type(exc).__name__})",
            "check SLACK_API_URL and the network",
        )
    if not body.get("ok"):
        return Check(
            "slack",
            False,
            f"auth.test says {body.get('error', 'not ok')}",
            "reinstall the app and copy the Bot User OAuth Token (xoxb-...)",
        )
    return Check("slack", True, f"signed in as {body.get('user')} in {body.get('team')}")


# View Channels, Send Messages, Embed Links, Read Message History, Create Public
# Threads, Send Messages in Threads: exactly what the adapter does.
DISCORD_PERMISSIONS = sum(1 << bit for bit in (10, 11, 14, 16, 35, 38))
MESSAGE_CONTENT_FLAGS = (1 << 18) | (1 << 19)  # GATEWAY_MESSAGE_CONTENT (or _LIMITED)


def discord_invite_url(application_id: str) -> str:
    """The URL that adds the bot to a server with the permissions it needs."""
    return (
        "https://discord.com/oauth2/authorize?client_id="
        f"{application_id}&scope=bot+applications.commands&permissions={DISCORD_PERMISSIONS}"
    )


async def check_discord(settings: Settings) -> list[Check]:
    """The token logs in, the Message Content intent is on, and how to invite the bot."""
    if settings.discord_bot_token is None:
        return [
            Check(
                "discord",
                None,
                "DISCORD_BOT_TOKEN not set; Discord adapter off",
                "see README: Discord set-up",
            )
        ]
    base = settings.discord_api_url.rstrip("/")
    headers = {"Authorization": f"Bot {settings.discord_bot_token.get_secret_value()}"}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, headers=headers) as http:
            me = await http.get(f"{base}/users/@me")
            app = await http.get(f"{base}/oauth2/applications/@me") if me.is_success else me
    except httpx.HTTPError as exc:
        return [
            Check(
                "discord",
                False,
                f"login failed ({type(exc).__name__})",
                "check DISCORD_API_URL and the network",
            )
        ]
    if me.status_code == 401:
        return [
            Check(
                "discord",
                False,
                "the token was refused (401)",
                "reset the token in the Developer Portal, Bot tab, and set DISCORD_BOT_TOKEN",
            )
        ]
    if not me.is_success or not app.is_success:
        return [
            Check(
                "discord",
                False,
                f"login answered HTTP {app.status_code}",
                "try again later; check Discord's status page",
            )
        ]
    application = app.json()
    checks = [
        Check("discord", True, f"logged in as {me.json().get('username')}"),
        Check("discord invite", True, discord_invite_url(str(application.get("id")))),
    ]
    if not int(application.get("flags") or 0) & MESSAGE_CONTENT_FLAGS:
        checks.append(
            Check(
                "discord message content intent",
                False,
                "not enabled",
                "Developer Portal -> your app -> Bot -> Privileged Gateway "
                "Intents -> MESSAGE CONTENT INTENT",
            )
        )
    return checks


CheckFn = Callable[[Settings], Awaitable["Check | list[Check]"]]
CHECKS: tuple[CheckFn, ...] = (check_database, check_deepseek, check_slack, check_discord)


async def run_checks(settings: Settings, checks: tuple[CheckFn, ...] = CHECKS) -> list[Check]:
    """Run every check; a check that crashes becomes a failed line, never a traceback."""
    results: list[Check] = []
    for check in checks:
        name = check.__name__.removeprefix("check_")
        try:
            outcome = await check(settings)
        except Exception as exc:
            outcome = Check(
                name,
                False,
                f"check crashed: {type(exc).__name__}",
                "run with SUPPORTBOT_LOG_LEVEL=DEBUG and report it",
            )
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    return results
