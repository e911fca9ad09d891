"""The only writer of ticket status: the transition table, stamps and audit rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import AuditEntry, Ticket
from bot.tickets.sla import SlaPolicy
from bot.tickets.status import StatusChange, change_status, escalate, next_status

NOW = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("action", "current", "expected"),
    [
        ("claim", "escalated", "claimed"),
        ("claim", "open", "claimed"),
        ("claim", "claimed", None),
        ("resolve", "claimed", "resolved"),
        ("resolve", "resolved", None),
        ("reopen", "resolved", "open"),
        ("reopen", "closed", "open"),
        ("reopen", "open", None),
        ("close", "resolved", "closed"),
        ("escalate", "open", "escalated"),
        ("fly", "open", None),
    ],
)
def test_transitions(action: str, current: str, expected: str | None) -> None:
    assert next_status(action, current) == expected


async def _ticket(db: Database) -> int:
    async with db.sessions.begin() as session:
        ticket = Ticket(
            platform="slack",
            workspace_id="T1",
            channel_id="C1",
            thread_id="1.0",
            requester_id="U1",
            status="open",
            urgency="high",
        )
        session.add(ticket)
        await session.flush()
        return ticket.id


async def test_a_change_stamps_the_ticket_and_writes_one_audit_row(db: Database) -> None:
    ticket_id = await _ticket(db)
    async with db.sessions.begin() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        escalate(session, ticket, sla=SlaPolicy(high_minutes=15), now=NOW, reason="angry")
        status = change_status(
            session, ticket, StatusChange.CLAIM, actor="slack:U9", now=NOW, assignee_id="U9"
        )
    assert status == "claimed"
    async with db.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert (ticket.status, ticket.assignee_id) == ("claimed", "U9")
    assert ticket.escalated_at == ticket.claimed_at == NOW
    assert ticket.sla_due_at == datetime(2026, 11, 27, 17, 15, tzinfo=UTC)
    assert [(r.action, r.actor, r.detail["status"]) for r in rows] == [
        ("ticket.escalated", "bot", "escalated"),
        ("ticket.claimed", "slack:U9", "claimed"),
    ]
    assert rows[0].detail["reason"] == "angry"


async def test_a_change_not_allowed_changes_and_audits_nothing(db: Database) -> None:
    ticket_id = await _ticket(db)
    async with db.sessions.begin() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        assert change_status(session, ticket, StatusChange.REOPEN, actor="bot", now=NOW) is None
    async with db.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        audits = (await session.scalars(select(AuditEntry))).all()
    assert ticket.status == "open"
    assert audits == []


async def test_reopening_clears_the_finish_stamps(db: Database) -> None:
    ticket_id = await _ticket(db)
    async with db.sessions.begin() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        change_status(session, ticket, StatusChange.RESOLVE, actor="bot", now=NOW)
        change_status(session, ticket, StatusChange.CLOSE, actor="bot", now=NOW)
        change_status(session, ticket, StatusChange.REOPEN, actor="bot", now=NOW)
    async with db.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
    assert (ticket.status, ticket.resolved_at, ticket.closed_at) == ("open", None, None)
