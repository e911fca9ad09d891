"""The SLA policy: how long each urgency may wait for a lead, and how that reads.

A team of the playbook may set its own times; `SlaPolicy.for_team` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.config.playbook import Team
from bot.events import Urgency

__all__ = ["SlaPolicy", "sla_state"]


@dataclass(frozen=True)
class SlaPolicy:
    """High and medium escalations get minutes; low ones get business days (Mon-Fri).

    The one definition of an SLA: escalation due times and repeat reminders both
    come from `due()`, so a "low" ticket is measured in business days everywhere.
    """

    high_minutes: int = 15
    medium_minutes: int = 120
    low_business_days: int = 1

    def for_team(self, team: Team | None) -> SlaPolicy:
        """This policy with `team`'s own times where it sets them (its tickets' SLA)."""
        if team is None:
            return self
        return replace(
            self,
            high_minutes=team.sla_high_minutes or self.high_minutes,
            medium_minutes=team.sla_medium_minutes or self.medium_minutes,
            low_business_days=team.sla_low_business_days or self.low_business_days,
        )

    def due(self, urgency: str | None, start: datetime) -> datetime:
        """When an escalation of `urgency` must be claimed by (unknown counts as medium)."""
        if urgency == Urgency.HIGH:
            return start + timedelta(minutes=self.high_minutes)
        if urgency == Urgency.LOW:
            return _add_business_days(start, self.low_business_days)
        return start + timedelta(minutes=self.medium_minutes)

    def reminders_due(
        self, urgency: str | None, first_due: datetime, now: datetime, cap: int
    ) -> int:
        """How many reminders are due by `now`: one at the SLA, one each SLA later, up to `cap`."""
        count, at = 0, first_due
        while at <= now and count < cap:
            count += 1
            at = self.due(urgency, at)
        return count

    @staticmethod
    def breached(due: datetime | None, claimed_at: datetime | None, now: datetime) -> bool:
        """True when a ticket was (or still is) unclaimed past its due time."""
        if due is None:
            return False
        return (claimed_at or now) > due


def _add_business_days(start: datetime, days: int) -> datetime:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // (24 * 60)} days"


def sla_state(due: datetime | None, now: datetime) -> str:
    """Human words for an SLA: `due in 12 min` or `BREACHED 1 h 05 min ago`."""
    if due is None:
        return "no SLA"
    if due >= now:
        return f"due in {_span(due - now)}"
    return f"BREACHED {_span(now - due)} ago"
