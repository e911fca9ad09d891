"""The Discord adapter's own settings: its token, API and gateway addresses, shards.

Who the leads are and where escalations go are the core's (`bot.config.LeadsSettings`).
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr, field_validator

from bot.config import Section, setting

__all__ = ["DiscordSettings"]


class DiscordSettings(Section):
    """Discord: set the bot token to turn the adapter on."""

    bot_token: SecretStr | None = setting("DISCORD_BOT_TOKEN")
    api_url: str = setting("DISCORD_API_URL", "https://discord.com/api/v10")
    gateway_url: str = setting("DISCORD_GATEWAY_URL", "wss://gateway.discord.gg")
    shard_count: int | None = setting("DISCORD_SHARD_COUNT", None, ge=1)
    shard_ids: list[int] = setting("DISCORD_SHARD_IDS", [])
    global_commands: bool = setting("DISCORD_GLOBAL_COMMANDS", False)

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL")
        return value

    @field_validator("gateway_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("a ws:// or wss:// URL")
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
