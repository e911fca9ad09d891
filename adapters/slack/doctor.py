"""`supportbot doctor` for Slack: the bot token passes `auth.test`.

A plain HTTPS call, so diagnosing a token needs no running adapter.
"""

from __future__ import annotations

import httpx

from adapters.slack.settings import SlackSettings
from bot.ops.doctor import TIMEOUT, Check

__all__ = ["check_slack"]


async def check_slack(settings: SlackSettings) -> Check:
    """The Slack bot token passes `auth.test`."""
    if settings.bot_token is None:
        return Check(
            "slack", None, "SLACK_BOT_TOKEN not set; Slack adapter off", "see README: Slack set-up"
        )
    url = settings.api_url.rstrip("/") + "/auth.test"
    headers = {"Authorization": f"Bearer {settings.bot_token.get_secret_value()}"}
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
