"""Who counts as a support lead."""

from __future__ import annotations

import pytest

from bot.desk.leads import Leads
from bot.events import Actor, Platform


@pytest.mark.parametrize(
    ("actor", "lead"),
    [
        (Actor(platform=Platform.SLACK, user_id="U1"), True),
        (Actor(platform=Platform.SLACK, user_id="U2"), False),
        (Actor(platform=Platform.DISCORD, user_id="9", roles=("777",)), True),
        (Actor(platform=Platform.DISCORD, user_id="9", roles=("778",)), False),
        (Actor(platform=Platform.CONSOLE, user_id="you"), True),
    ],
)
def test_leads_by_user_id_or_role(actor: Actor, lead: bool) -> None:
    assert Leads.of(["U1"], ["777"]).includes(actor) is lead
