"""The Discord adapter's own settings: its token, API and gateway addresses, shards.

Who the leads are and where escalations go are the core's (`bot.config.LeadsSettings`).
"""

from __future__ import annotations

from pydantic import SecretStr, field_validator

from bot.config import Section, comma_list, setting, url_of

__all__ = ["DiscordSettings"]


class DiscordSettings(Section):
    """Discord: set the bot token to turn the adapter on."""

    bot_token: SecretStr | None = setting("DISCORD_BOT_TOKEN")
    api_url: str = setting("DISCORD_API_URL", "https://discord.com/api/v10")
    gateway_url: str = setting("DISCORD_GATEWAY_URL", "wss://gateway.discord.gg")
    shard_count: int | None = setting("DISCORD_SHARD_COUNT", None, ge=1)
    shard_ids: list[int] = setting("DISCORD_SHARD_IDS", [])
    global_commands: bool = setting("DISCORD_GLOBAL_COMMANDS", False)

    _api_url = field_validator("api_url")(url_of("http:", "https:"))
    _gateway_url = field_validator("gateway_url")(url_of("ws:", "wss:"))
    _shard_ids = field_validator("shard_ids", mode="before")(comma_list)
