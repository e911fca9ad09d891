"""A team's escalation pings the team's own leads on Discord, and nobody else."""

from __future__ import annotations

from bot.config.playbook import Playbook, Playbooks, Team
from bot.config.routing import RoutingRule
from bot.store.db import Database
from tests.adapters.discord.harness import BOT, LEAD_ROLE, LEADS, LEE, discord_stack
from tests.bot.harness import responder, triage_json
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import message_create

ROOT = 910000000000000001
ESCALATE = triage_json(category="billing", urgency="high", needs_human=True)
BILLING = Playbook(
    teams=(Team(name="billing", discord_channel=str(LEADS), lead_user_ids=(str(LEE),)),),
    routes=(RoutingRule(category=("billing",), team="billing"),),
)


async def test_the_teams_leads_are_pinged_instead_of_the_lead_role(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(ESCALATE)
    async with discord_stack(
        db, fake_discord, fake_deepseek, playbooks=Playbooks(default=BILLING)
    ) as stack:
        mention = message_create(f"<@{BOT}> I was charged twice", message_id=ROOT, mentions=[BOT])
        await stack.fake.dispatch("MESSAGE_CREATE", mention)
        assert await stack.settle(f"message:{ROOT}") == "done"
    (card,) = fake_discord.calls_to("POST", rf"/channels/{LEADS}/messages")
    assert card.json["content"].startswith(f"<@{LEE}> ")
    assert f"<@&{LEAD_ROLE}>" not in card.json["content"]
    allowed = card.json["allowed_mentions"]
    assert [int(u) for u in allowed["users"]] == [LEE]
    assert allowed.get("roles", []) == []
    assert allowed["parse"] == []
