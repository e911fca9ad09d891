"""`/support dashboard` on Discord: a lead by role gets a one-time login link in an
ephemeral follow-up, carrying that role; anyone else a private refusal."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import LoginLink
from tests.adapters.discord.harness import ALICE, GUILD, LEAD_ROLE, LEE, discord_stack
from tests.adapters.discord.test_discord import _slash
from tests.fakes.discord import FakeDiscord

LINK = re.compile(r"https://support\.example\.test/dashboard/login/[A-Za-z0-9_-]+")


async def test_a_lead_by_role_gets_a_private_link_and_anyone_else_a_refusal(
    db: Database, fake_discord: FakeDiscord
) -> None:
    async with discord_stack(
        db, fake_discord, None, public_url="https://support.example.test"
    ) as stack:
        lead_cb, lead = await _slash(stack, "dashboard", user=LEE, roles=(LEAD_ROLE,))
        refused_cb, refused = await _slash(stack, "dashboard", user=ALICE)
    for callback in (lead_cb, refused_cb):
        assert callback["type"] == 5
        assert callback["data"]["flags"] == 64  # ephemeral: only the caller sees it
    assert LINK.search(lead[0]["content"])
    assert "/login/" not in refused[0]["content"]
    assert "Only support leads of this workspace" in refused[0]["content"]
    async with db.sessions() as session:
        (link,) = (await session.scalars(select(LoginLink))).all()
    assert (link.platform, link.user_id, link.workspaces, link.roles) == (
        "discord",
        str(LEE),
        [str(GUILD)],
        [str(LEAD_ROLE)],
    )
