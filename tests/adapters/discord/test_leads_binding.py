"""A bare DISCORD_LEADS_CHANNEL serves only the guild that channel is in (issue 10, item 2)."""

from __future__ import annotations

from bot.store.db import Database
from tests.adapters.discord.harness import GUILD, LEADS, discord_stack
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.discord import FakeDiscord


async def test_a_bare_leads_channel_is_bound_to_its_own_guild_only(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        ours = stack.app.leads_channels.place("discord", str(GUILD))
        theirs = stack.app.leads_channels.place("discord", "999999")
        assert stack.adapter.workspace_of_channel(str(LEADS)) == str(GUILD)
        assert stack.adapter.workspace_of_channel("424242") is None
    assert ours is not None
    assert ours.channel_id == str(LEADS)
    assert theirs is None  # another guild's tickets are never announced here
