"""Teams on tickets: the team's SLA when a ticket is escalated, and who the card suggests.

A routing rule sets `tickets.team`; the team is looked up in the playbook of the
ticket's own workspace, so a team since removed from the configuration reads as none
and a team of one workspace never applies to another's tickets. A team with
`assign = "round_robin"` or `"least_loaded"` gets a suggested assignee among its
`lead_user_ids` on each escalation, derived from the tickets table alone (no counter
to keep in step).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config.playbook import Playbooks, Team
from bot.events import TeamPing, TicketStatus
from bot.store.models import Ticket
from bot.tickets.sla import SlaPolicy
from bot.tickets.status import escalate

__all__ = [
    "escalate_to_team",
    "least_loaded",
    "next_in_turn",
    "suggest_assignee",
    "team_of",
    "team_ping",
]

log = logging.getLogger(__name__)


def team_of(playbooks: Playbooks, ticket: Ticket) -> Team | None:
    """The ticket's team in its workspace's playbook, or None."""
    if ticket.team is None:
        return None
    return playbooks.for_workspace(ticket.workspace_id).team(ticket.team)


def team_ping(team: Team | None) -> TeamPing | None:
    """Who a notice about the team's ticket pings; None: the desk's leads."""
    if team is None or not (team.lead_user_ids or team.lead_role_ids or team.slack_usergroup_id):
        return None
    return TeamPing(
        user_ids=team.lead_user_ids,
        role_ids=team.lead_role_ids,
        usergroup_id=team.slack_usergroup_id,
    )


def next_in_turn(leads: Sequence[str], last: str | None) -> str:
    """Round robin: the lead after `last` in `leads` (the first when `last` is not one)."""
    if last not in leads:
        return leads[0]
    return leads[(list(leads).index(last) + 1) % len(leads)]


def least_loaded(leads: Sequence[str], load: dict[str, int]) -> str:
    """The lead with the fewest tickets in hand; a tie goes to the one listed first."""
    return min(leads, key=lambda lead: (load.get(lead, 0), list(leads).index(lead)))


def _same_team(ticket: Ticket, team: Team) -> tuple[object, ...]:
    return (
        Ticket.platform == ticket.platform,
        Ticket.workspace_id == ticket.workspace_id,
        Ticket.team == team.name,
        Ticket.id != ticket.id,
    )


async def _last_suggested(session: AsyncSession, ticket: Ticket, team: Team) -> str | None:
    return await session.scalar(
        select(Ticket.suggested_assignee_id)
        .where(*_same_team(ticket, team), Ticket.suggested_assignee_id.is_not(None))
        .order_by(Ticket.escalated_at.desc().nulls_last(), Ticket.id.desc())
        .limit(1)
    )


async def _load(session: AsyncSession, ticket: Ticket, leads: Sequence[str]) -> dict[str, int]:
    """Open escalations each lead has in this workspace: claimed by them, or suggested
    to them and not claimed yet."""
    where = (
        Ticket.platform == ticket.platform,
        Ticket.workspace_id == ticket.workspace_id,
        Ticket.id != ticket.id,
    )
    load: dict[str, int] = {}
    for column, status in (
        (Ticket.assignee_id, TicketStatus.CLAIMED),
        (Ticket.suggested_assignee_id, TicketStatus.ESCALATED),
    ):
        rows = await session.execute(
            select(column, func.count())
            .where(*where, Ticket.status == status, column.in_(leads))
            .group_by(column)
        )
        for lead, count in rows.all():
            load[lead] = load.get(lead, 0) + count
    return load


async def suggest_assignee(session: AsyncSession, ticket: Ticket, team: Team) -> str | None:
    """The lead `team`'s assignment mode picks for `ticket`, or None (no mode, no leads)."""
    leads = team.lead_user_ids
    if team.assign == "none" or not leads:
        return None
    if team.assign == "round_robin":
        return next_in_turn(leads, await _last_suggested(session, ticket, team))
    return least_loaded(leads, await _load(session, ticket, leads))


async def escalate_to_team(
    session: AsyncSession,
    ticket: Ticket,
    team: Team | None,
    *,
    sla: SlaPolicy,
    now: datetime,
    reason: str,
) -> TicketStatus | None:
    """Escalate an open ticket, due by its team's SLA (the workspace's where the team
    sets none), with the assignee the team's mode suggests.

    Returns:
        The new status, or None when the ticket could not be escalated (nothing changed).
    """
    status = escalate(session, ticket, sla=sla.for_team(team), now=now, reason=reason)
    if status is None or team is None:
        return status
    suggested = await suggest_assignee(session, ticket, team)
    ticket.suggested_assignee_id = suggested
    if suggested is not None:
        log.info("ticket.assignee_suggested ticket=%s team=%s", ticket.id, team.name)
    return status
