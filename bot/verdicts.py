"""Storing a triage verdict on its ticket: labels, route, escalation and SLA, audited."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.policy import TicketStatus, sla_due
from bot.store.models import Ticket, TriageRun
from bot.tickets import audit
from triage.classify import Classification
from triage.route import Route, RouteDecision

__all__ = ["SlaPolicy", "store_verdict"]

log = logging.getLogger(__name__)


class SlaPolicy(Protocol):
    """How long each urgency may wait for a lead."""

    sla_high_minutes: int
    sla_medium_minutes: int
    sla_low_business_days: int


async def store_verdict(
    sessions: async_sessionmaker[AsyncSession],
    ticket_id: int,
    classification: Classification,
    decision: RouteDecision,
    sla: SlaPolicy,
    now: datetime,
) -> Ticket:
    """Record the verdict once; a retry finds the route set and returns the ticket as is."""
    result = classification.result
    async with sessions.begin() as session:
        ticket = await session.get_one(Ticket, ticket_id, with_for_update=True)
        if ticket.route is not None:  # a previous attempt got this far already
            return ticket
        session.add(
            TriageRun(
                ticket_id=ticket.id,
                source=classification.source,
                model=classification.model,
                prompt_version=classification.prompt_version,
                result=result.model_dump(mode="json"),
                valid=True,
                attempts=classification.llm_calls,
                created_at=now,
            )
        )
        ticket.category, ticket.urgency = result.category.value, result.urgency.value
        ticket.needs_human, ticket.summary = result.needs_human, result.summary
        ticket.route, ticket.route_reason = decision.route.value, decision.reason
        if decision.route is Route.HUMAN:
            _escalate(session, ticket, decision, sla, now)
        audit(
            session,
            actor="bot",
            action="ticket.triaged",
            target=f"ticket:{ticket.id}",
            at=now,
            source=classification.source,
            route=decision.route.value,
            category=ticket.category,
            urgency=ticket.urgency,
        )
    log.info(
        "ticket.triaged ticket=%s source=%s route=%s",
        ticket.id,
        classification.source,
        decision.route.value,
    )
    return ticket


def _escalate(
    session: AsyncSession, ticket: Ticket, decision: RouteDecision, sla: SlaPolicy, now: datetime
) -> None:
    ticket.status, ticket.escalated_at = TicketStatus.ESCALATED, now
    ticket.sla_due_at = sla_due(
        ticket.urgency,
        now,
        high_minutes=sla.sla_high_minutes,
        medium_minutes=sla.sla_medium_minutes,
        low_business_days=sla.sla_low_business_days,
    )
    audit(
        session,
        actor="bot",
        action="ticket.escalated",
        target=f"ticket:{ticket.id}",
        at=now,
        reason=decision.reason,
    )
