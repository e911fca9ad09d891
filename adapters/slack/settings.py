"""The Slack adapter's own settings: its tokens, API address, pacing and bot allow-list.

Who the leads are and where escalations go are the core's (`bot.config.LeadsSettings`).
"""

from __future__ import annotations

from pydantic import SecretStr, field_validator

from bot.config import Section, comma_list, setting, url_of

__all__ = ["SlackSettings"]


class SlackSettings(Section):
    """Slack: set the bot token to turn the adapter on."""

    bot_token: SecretStr | None = setting("SLACK_BOT_TOKEN")
    app_token: SecretStr | None = setting("SLACK_APP_TOKEN")
    signing_secret: SecretStr | None = setting("SLACK_SIGNING_SECRET")
    api_url: str = setting("SLACK_API_URL", "https://slack.com/api/")
    allowed_bot_ids: list[str] = setting("SLACK_ALLOWED_BOT_IDS", [])
    messages_per_second: float = setting("SLACK_MESSAGES_PER_SECOND", 1.0, gt=0)

    _api_url = field_validator("api_url")(url_of("http:", "https:"))
    _bot_ids = field_validator("allowed_bot_ids", mode="before")(comma_list)
