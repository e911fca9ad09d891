"""Pure decisions about tickets: who may act, which state change is allowed, SLA due times."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.events import Actor, Platform

__all__ = ["TicketStatus", "Transition", "is_lead", "next_status", "sla_due", "sla_state"]


class TicketStatus:
    """The life of a ticket: open -> escalated/claimed -> resolved -> closed."""

    OPEN = "open"
    ESCALATED = "escalated"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ACTIVE = (OPEN, ESCALATED, CLAIMED)


@dataclass(frozen=True)
class Transition:
    """A state change an action asks for."""

    allowed_from: tuple[str, ...]
    to: str


TRANSITIONS: dict[str, Transition] = {
    "escalate": Transition((TicketStatus.OPEN,), TicketStatus.ESCALATED),
    "claim": Transition((TicketStatus.OPEN, TicketStatus.ESCALATED), TicketStatus.CLAIMED),
    "resolve": Transition(TicketStatus.ACTIVE, TicketStatus.RESOLVED),
    "reopen": Transition((TicketStatus.RESOLVED, TicketStatus.CLOSED), TicketStatus.OPEN),
    "close": Transition((*TicketStatus.ACTIVE, TicketStatus.RESOLVED), TicketStatus.CLOSED),
}


def next_status(action: str, current: str) -> str | None:
    """The status after `action`, or None when the action makes no sense from `current`."""
    transition = TRANSITIONS.get(action)
    if transition is None or current not in transition.allowed_from:
        return None
    return transition.to


def is_lead(actor: Actor, lead_user_ids: Iterable[str], lead_role_ids: Iterable[str]) -> bool:
    """Leads are named by user id or hold a lead role; the terminal user is always one."""
    if actor.platform is Platform.CONSOLE:
        return True
    return actor.user_id in set(lead_user_ids) or bool(set(actor.roles) & set(lead_role_ids))


def _add_business_days(start: datetime, days: int) -> datetime:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def sla_due(
    urgency: str | None,
    start: datetime,
    *,
    high_minutes: int,
    medium_minutes: int,
    low_business_days: int,
) -> datetime:
    """When an escalation of `urgency` must be claimed by (unknown urgency counts as medium)."""
    if urgency == "high":
        return start + timedelta(minutes=high_minutes)
    if urgency == "low":
        return _add_business_days(start, low_business_days)
    return start + timedelta(minutes=medium_minutes)


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
