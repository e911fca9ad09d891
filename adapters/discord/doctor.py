"""`supportbot doctor` for Discord: the token logs in, the Message Content intent is on,
and the URL that invites the bot. Plain HTTPS calls (`GET /users/@me` is what a
discord.py login does first), so diagnosing a token needs no gateway connection.
"""

from __future__ import annotations

import httpx

from adapters.discord.settings import DiscordSettings
from bot.ops.doctor import TIMEOUT, Check

__all__ = ["DISCORD_PERMISSIONS", "check_discord", "discord_invite_url"]


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


async def check_discord(settings: DiscordSettings) -> list[Check]:
    """The token logs in, the Message Content intent is on, and how to invite the bot."""
    if settings.bot_token is None:
        return [
            Check(
                "discord",
                None,
                "DISCORD_BOT_TOKEN not set; Discord adapter off",
                "see README: Discord set-up",
            )
        ]
    base = settings.api_url.rstrip("/")
    headers = {"Authorization": f"Bot {settings.bot_token.get_secret_value()}"}
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
