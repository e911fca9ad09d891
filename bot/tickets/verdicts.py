"""Storing a triage verdict on its ticket: labels, route, escalation and SLA, audited."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.audit import audit
from bot.store.models import Ticket, TriageRun
from bot.tickets.sla import SlaPolicy
from bot.tickets.status import escalate
from triage.classify import Classification
from triage.route import Route, RouteDecision

__all__ = ["store_verdict"]

log = logging.getLogger(__name__)


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
                attempts=classification.llm_calls,
                created_at=now,
            )
        )
        _label(ticket, classification, decision)
        if decision.route is Route.HUMAN:
            escalate(session, ticket, sla=sla, now=now, reason=decision.reason)
        _audit_verdict(session, ticket, classification, now)
    log.info(
        "ticket.triaged ticket=%s source=%s route=%s",
        ticket.id,
        classification.source,
        decision.route.value,
    )
    return ticket


def _label(ticket: Ticket, classification: Classification, decision: RouteDecision) -> None:
    result = classification.result
    ticket.category, ticket.urgency = result.category.value, result.urgency.value
    ticket.needs_human, ticket.summary = result.needs_human, result.summary
    ticket.route, ticket.route_reason = decision.route.value, decision.reason


def _audit_verdict(
    session: AsyncSession, ticket: Ticket, classification: Classification, now: datetime
) -> None:
    audit(
        session,
        actor="bot",
        action="ticket.triaged",
        target=f"ticket:{ticket.id}",
        at=now,
        source=classification.source,
        route=ticket.route,
        category=ticket.category,
        urgency=ticket.urgency,
    )
