"""The one SLA policy: due times, reminders, breaches and their wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.tickets.sla import SlaPolicy, sla_state

FRIDAY_5PM = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
SLA = SlaPolicy(high_minutes=15, medium_minutes=120, low_business_days=1)


def test_sla_due_per_urgency_and_low_skips_the_weekend() -> None:
    assert SLA.due("high", FRIDAY_5PM) == FRIDAY_5PM + timedelta(minutes=15)
    assert SLA.due("medium", FRIDAY_5PM) == FRIDAY_5PM + timedelta(hours=2)
    assert SLA.due(None, FRIDAY_5PM) == FRIDAY_5PM + timedelta(hours=2)
    assert SLA.due("low", FRIDAY_5PM) == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


def test_sla_state_words() -> None:
    assert sla_state(FRIDAY_5PM + timedelta(minutes=12), FRIDAY_5PM) == "due in 12 min"
    assert sla_state(FRIDAY_5PM - timedelta(minutes=65), FRIDAY_5PM) == "BREACHED 1 h 05 min ago"
    assert sla_state(None, FRIDAY_5PM) == "no SLA"


def test_reminders_repeat_one_sla_length_apart_up_to_the_cap() -> None:
    due = FRIDAY_5PM
    assert SLA.reminders_due("high", due, due - timedelta(minutes=1), cap=3) == 0
    assert SLA.reminders_due("high", due, due, cap=3) == 1
    assert SLA.reminders_due("high", due, due + timedelta(minutes=15), cap=3) == 2
    assert SLA.reminders_due("high", due, due + timedelta(hours=5), cap=3) == 3


def test_low_reminders_count_business_days_like_the_due_time() -> None:
    # Due Friday 17:00; the next low reminder is a business day later: Monday 17:00.
    assert SLA.reminders_due("low", FRIDAY_5PM, FRIDAY_5PM + timedelta(days=2), cap=3) == 1
    monday_5pm = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert SLA.reminders_due("low", FRIDAY_5PM, monday_5pm, cap=3) == 2


def test_breached_while_unclaimed_or_claimed_late() -> None:
    assert SlaPolicy.breached(FRIDAY_5PM, None, FRIDAY_5PM + timedelta(minutes=1))
    assert not SlaPolicy.breached(FRIDAY_5PM, FRIDAY_5PM - timedelta(minutes=1), FRIDAY_5PM)
    assert SlaPolicy.breached(FRIDAY_5PM, FRIDAY_5PM + timedelta(minutes=1), FRIDAY_5PM)
    assert not SlaPolicy.breached(None, None, FRIDAY_5PM)
