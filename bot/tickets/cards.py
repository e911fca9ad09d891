"""What a ticket shows on a card: its labels and the lead actions its status allows."""

from __future__ import annotations

from datetime import datetime

from bot.events import TicketAction, TicketCard, TicketStatus
from bot.store.models import Ticket
from bot.tickets.sla import sla_state

__all__ = ["ACTIONS_BY_STATUS", "card_for", "escalation_state"]

_WORKING = (
    TicketAction.CLAIM,
    TicketAction.RESOLVE,
    TicketAction.RECLASSIFY,
    TicketAction.ASK_REASONER,
)
ACTIONS_BY_STATUS: dict[str, tuple[TicketAction, ...]] = {
    TicketStatus.OPEN: _WORKING,
    TicketStatus.ESCALATED: _WORKING,
    TicketStatus.CLAIMED: (
        TicketAction.RESOLVE,
        TicketAction.RECLASSIFY,
        TicketAction.ASK_REASONER,
    ),
    TicketStatus.RESOLVED: (TicketAction.REOPEN, TicketAction.SAVE_ANSWER),
    TicketStatus.CLOSED: (TicketAction.REOPEN,),
}


def card_for(ticket: Ticket) -> TicketCard:
    """The card a ticket shows, with the buttons that make sense in its state."""
    return TicketCard(
        ticket_id=ticket.id,
        status=TicketStatus(ticket.status),
        category=ticket.category,
        urgency=ticket.urgency,
        summary=ticket.summary or "",
        assignee_id=ticket.assignee_id,
        actions=ACTIONS_BY_STATUS.get(ticket.status, ()),
    )


def escalation_state(ticket: Ticket, now: datetime) -> str:
    """`claimed by U123`, or the SLA in words (`due in 12 min`, `BREACHED ...`)."""
    if ticket.status == TicketStatus.CLAIMED:
        return f"claimed by {ticket.assignee_id}"
    return sla_state(ticket.sla_due_at, now)
