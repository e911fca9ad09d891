"""What a ticket shows on a card: its labels and the lead actions its status allows.

Labels are read through the workspace's taxonomy: a category since renamed shows
its new name, one since removed shows as stored, and an urgency shows the label
the operator gave it. The reclassify selects offer the workspace's own categories.
"""

from __future__ import annotations

from datetime import datetime

from bot.config.playbook import DEFAULT_PLAYBOOK, Playbook
from bot.config.taxonomy import Taxonomy
from bot.events import TicketAction, TicketCard, TicketStatus
from bot.store.models import Ticket
from bot.tickets.sla import sla_state

__all__ = [
    "ACTIONS_BY_STATUS",
    "card_for",
    "category_choices",
    "escalation_state",
    "urgency_choices",
    "urgency_shown",
]

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


def category_choices(taxonomy: Taxonomy) -> tuple[tuple[str, str], ...]:
    """The categories a lead can pick, (value, label), in the operator's order."""
    return tuple((name, name.replace("_", " ")) for name in taxonomy.names)


def urgency_choices(taxonomy: Taxonomy) -> tuple[tuple[str, str], ...]:
    """The urgencies a lead can pick, (value, label), most urgent first."""
    return tuple((level.name, level.shown) for level in taxonomy.urgencies)


def urgency_shown(taxonomy: Taxonomy, urgency: str | None) -> str | None:
    """A stored urgency as people read it: its label, or as stored when it is none."""
    level = taxonomy.urgency(urgency)
    return level.shown if level is not None else urgency


def card_for(ticket: Ticket, playbook: Playbook = DEFAULT_PLAYBOOK) -> TicketCard:
    """The card a ticket shows, with the buttons that make sense in its state.

    Args:
        ticket: the ticket as stored.
        playbook: its workspace's playbook (taxonomy for labels and choices).
    """
    taxonomy = playbook.taxonomy
    return TicketCard(
        ticket_id=ticket.id,
        status=TicketStatus(ticket.status),
        category=taxonomy.shown(ticket.category),
        urgency=urgency_shown(taxonomy, ticket.urgency),
        summary=ticket.summary or "",
        assignee_id=ticket.assignee_id,
        actions=ACTIONS_BY_STATUS.get(ticket.status, ()),
        team=ticket.team if playbook.team(ticket.team) is not None else None,
        suggested_assignee_id=None if ticket.assignee_id else ticket.suggested_assignee_id,
        category_choices=category_choices(taxonomy),
        urgency_choices=urgency_choices(taxonomy),
    )


def escalation_state(ticket: Ticket, now: datetime) -> str:
    """`claimed by U123`, or the SLA in words (`due in 12 min`, `BREACHED ...`)."""
    if ticket.status == TicketStatus.CLAIMED:
        return f"claimed by {ticket.assignee_id}"
    return sla_state(ticket.sla_due_at, now)
