"""The only writer of a ticket's status, its timestamps and their audit rows.

Every change goes through the transition table: a change that makes no sense from
the current status is refused (None), never half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import TicketStatus
from bot.store.audit import audit
from bot.store.models import Ticket
from bot.tickets.sla import SlaPolicy

__all__ = [
    "ACTIVE",
    "ESCALATION_STATES",
    "FINISHED",
    "StatusChange",
    "change_status",
    "escalate",
    "next_status",
]

ACTIVE = (TicketStatus.OPEN, TicketStatus.ESCALATED, TicketStatus.CLAIMED)
ESCALATION_STATES = (TicketStatus.ESCALATED, TicketStatus.CLAIMED)
FINISHED = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class StatusChange(StrEnum):
    """A change of status someone (a lead, the bot, a job) asks for."""

    ESCALATE = "escalate"
    CLAIM = "claim"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"


@dataclass(frozen=True)
class Transition:
    """Where a change may start from, where it leads, and how the audit log names it."""

    allowed_from: tuple[TicketStatus, ...]
    to: TicketStatus
    audited_as: str


TRANSITIONS: dict[StatusChange, Transition] = {
    StatusChange.ESCALATE: Transition(
        (TicketStatus.OPEN,), TicketStatus.ESCALATED, "ticket.escalated"
    ),
    StatusChange.CLAIM: Transition(
        (TicketStatus.OPEN, TicketStatus.ESCALATED), TicketStatus.CLAIMED, "ticket.claimed"
    ),
    StatusChange.RESOLVE: Transition(ACTIVE, TicketStatus.RESOLVED, "ticket.resolved"),
    StatusChange.REOPEN: Transition(FINISHED, TicketStatus.OPEN, "ticket.reopened"),
    StatusChange.CLOSE: Transition(
        (*ACTIVE, TicketStatus.RESOLVED), TicketStatus.CLOSED, "ticket.closed"
    ),
}


def next_status(change: str, current: str) -> TicketStatus | None:
    """The status after `change`, or None when it makes no sense from `current`."""
    transition = TRANSITIONS.get(change)  # type: ignore[call-overload]
    if transition is None or current not in transition.allowed_from:
        return None
    return transition.to


def change_status(
    session: AsyncSession,
    ticket: Ticket,
    change: StatusChange,
    *,
    actor: str,
    now: datetime,
    assignee_id: str | None = None,
    **detail: Any,
) -> TicketStatus | None:
    """Apply `change` to `ticket` in the caller's transaction, stamped and audited.

    Returns:
        The new status, or None (and nothing changed) when the change is not allowed.
    """
    status = next_status(change, ticket.status)
    if status is None:
        return None
    ticket.status = status
    if change is StatusChange.ESCALATE:
        ticket.escalated_at = now
    elif change is StatusChange.CLAIM:
        ticket.assignee_id, ticket.claimed_at = assignee_id, now
    elif change is StatusChange.RESOLVE:
        ticket.resolved_at = now
    elif change is StatusChange.REOPEN:
        ticket.resolved_at = ticket.closed_at = None
    elif change is StatusChange.CLOSE:
        ticket.closed_at = now
    audit(
        session,
        actor=actor,
        action=TRANSITIONS[change].audited_as,
        target=f"ticket:{ticket.id}",
        at=now,
        status=status.value,
        **detail,
    )
    return status


def escalate(
    session: AsyncSession, ticket: Ticket, *, sla: SlaPolicy, now: datetime, reason: str
) -> TicketStatus | None:
    """Hand an open ticket to the leads, due by its urgency's SLA."""
    status = change_status(
        session, ticket, StatusChange.ESCALATE, actor="bot", now=now, reason=reason
    )
    if status is not None:
        ticket.sla_due_at = sla.due(ticket.urgency, now)
    return status
