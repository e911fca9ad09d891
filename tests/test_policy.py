"""Pure ticket rules: transitions, lead checks, SLA due times and their wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.desk.leads import Leads
from bot.events import Actor, Platform
from bot.tickets.sla import SlaPolicy, sla_state
from bot.tickets.status import next_status

FRIDAY_5PM = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
SLA = SlaPolicy(high_minutes=15, medium_minutes=120, low_business_days=1)


@pytest.mark.parametrize(
    ("action", "current", "expected"),
    [
        ("claim", "escalated", "claimed"),
        ("claim", "open", "claimed"),
        ("claim", "claimed", None),
        ("resolve", "claimed", "resolved"),
        ("resolve", "resolved", None),
        ("reopen", "resolved", "open"),
        ("reopen", "closed", "open"),
        ("reopen", "open", None),
        ("close", "resolved", "closed"),
        ("escalate", "open", "escalated"),
        ("fly", "open", None),
    ],
)
def test_transitions(action: str, current: str, expected: str | None) -> None:
    assert next_status(action, current) == expected


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


def test_sla_due_per_urgency_and_low_skips_the_weekend() -> None:
    assert SLA.due("high", FRIDAY_5PM) == FRIDAY_5PM + timedelta(minutes=15)
    assert SLA.due("medium", FRIDAY_5PM) == FRIDAY_5PM + timedelta(hours=2)
    assert SLA.due(None, FRIDAY_5PM) == FRIDAY_5PM + timedelta(hours=2)
    assert SLA.due("low", FRIDAY_5PM) == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


def test_sla_state_words() -> None:
    assert sla_state(FRIDAY_5PM + timedelta(minutes=12), FRIDAY_5PM) == "due in 12 min"
    assert sla_state(FRIDAY_5PM - timedelta(minutes=65), FRIDAY_5PM) == "BREACHED 1 h 05 min ago"
    assert sla_state(None, FRIDAY_5PM) == "no SLA"
