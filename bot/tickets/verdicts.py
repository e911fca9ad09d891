"""Storing a triage verdict on its ticket: labels, route, escalation and SLA, audited.

The whole verdict, knowledge-base search queries included, is kept in
`triage_runs.result`, so a retried event that finds the ticket triaged reads them
back with `stored_search_queries` instead of asking the model again. The route's
team is stored on the ticket; an escalation is due by that team's SLA.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config.playbook import DEFAULT_PLAYBOOK, Playbook
from bot.store.audit import audit
from bot.store.db import Prepared
from bot.store.models import Ticket, TriageRun
from bot.tickets.sla import SlaPolicy
from bot.tickets.teams import escalate_to_team
from triage.classify import Classification
from triage.route import Route, RouteDecision
from triage.schema import normalise_search_queries

__all__ = ["store_verdict", "stored_search_queries"]

log = logging.getLogger(__name__)
_RECORD_RUN = Prepared(lambda _: insert(TriageRun.__table__))  # every ticket's verdict


async def store_verdict(
    sessions: async_sessionmaker[AsyncSession],
    ticket_id: int,
    classification: Classification,
    decision: RouteDecision,
    sla: SlaPolicy,
    now: datetime,
    *,
    playbook: Playbook = DEFAULT_PLAYBOOK,
) -> Ticket:
    """Record the verdict once; a retry finds the route set and returns the ticket as is.

    Args:
        sessions: the database.
        ticket_id: the ticket triaged.
        classification: the verdict and how it was reached.
        decision: its route, reason and team (`triage.route.decide_route`).
        sla: the workspace's SLA; the team's own times override it.
        now: when.
        playbook: the ticket's workspace's playbook (where its team is defined).
    """
    result = classification.result
    async with sessions.begin() as session:
        ticket = await session.get_one(Ticket, ticket_id, with_for_update=True)
        if ticket.route is not None:  # a previous attempt got this far already
            return ticket
        await session.execute(
            _RECORD_RUN.on(session),
            {
                "ticket_id": ticket.id,
                "source": classification.source,
                "model": classification.model,
                "prompt_version": classification.prompt_version,
                "result": result.model_dump(mode="json"),
                "attempts": classification.llm_calls,
                "created_at": now,
            },
        )
        _label(ticket, classification, decision)
        if decision.route is Route.HUMAN:
            team = playbook.team(ticket.team)
            await escalate_to_team(session, ticket, team, sla=sla, now=now, reason=decision.reason)
        _audit_verdict(session, ticket, classification, now)
    log.info(
        "ticket.triaged ticket=%s source=%s route=%s team=%s",
        ticket.id,
        classification.source,
        decision.route.value,
        ticket.team,
    )
    return ticket


async def stored_search_queries(session: AsyncSession, ticket_id: int) -> tuple[str, ...]:
    """The knowledge-base queries of the ticket's latest model or rules verdict.

    A lead's relabel carries none and does not hide them. Empty when the ticket is
    untriaged, the rules decided, or the words were erased or purged.

    Args:
        session: any session; only reads.
        ticket_id: the ticket.
    """
    result = await session.scalar(
        select(TriageRun.result)
        .where(TriageRun.ticket_id == ticket_id, TriageRun.source != "human")
        .order_by(TriageRun.id.desc())
        .limit(1)
    )
    # Stored JSON is re-normalised: older or erased runs have no such key.
    return normalise_search_queries((result or {}).get("search_queries"))


def _label(ticket: Ticket, classification: Classification, decision: RouteDecision) -> None:
    result = classification.result
    # str() reads a plain string and an enum member alike.
    ticket.category, ticket.urgency = str(result.category), str(result.urgency)
    ticket.needs_human, ticket.summary = result.needs_human, result.summary
    ticket.route, ticket.route_reason = decision.route.value, decision.reason
    ticket.team = decision.team


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
        team=ticket.team,
    )
