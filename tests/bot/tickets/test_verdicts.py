"""Storing a verdict: its knowledge-base queries are kept, reused on a retry, erased
with the verdict's other words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.events import Category, Urgency
from bot.llm.types import Usage
from bot.store.db import Database
from bot.store.models import Ticket, TriageRun
from bot.tickets.purge import purge_older_than
from bot.tickets.scrub import erase_derived
from bot.tickets.sla import SlaPolicy
from bot.tickets.verdicts import store_verdict, stored_search_queries
from triage.classify import Classification
from triage.fallback import classify_offline
from triage.route import Route, RouteDecision
from triage.schema import TriageResult

NOW = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
QUERIES = ("duplicate charge refund", "billing invoice charged twice")
ANSWER = RouteDecision(Route.ANSWER, "confident (0.90), no deep analysis asked")


def verdict(queries: tuple[str, ...] | list[str] = QUERIES) -> Classification:
    result = TriageResult(
        category=Category.BILLING,
        urgency=Urgency.MEDIUM,
        summary="Customer was charged twice and wants one charge refunded.",
        needs_human=False,
        confidence=0.9,
        search_queries=queries,
    )
    return _classified(result, source="llm")


def _classified(result: TriageResult, *, source: str) -> Classification:
    return Classification(
        result=result,
        source=source,  # type: ignore[arg-type]
        model="deepseek-chat" if source == "llm" else None,
        prompt_version="triage.v2",
        llm_calls=1 if source == "llm" else 0,
        corrected=False,
        usage=Usage(),
        cost_usd=Decimal(0),
        fallback_reason=None if source == "llm" else "no API key",
        latency_ms=5,
    )


async def _ticket(db: Database, thread_id: str = "1.0") -> int:
    async with db.sessions.begin() as session:
        ticket = Ticket(
            platform="slack",
            workspace_id="T1",
            channel_id="C1",
            thread_id=thread_id,
            requester_id="U1",
        )
        session.add(ticket)
        await session.flush()
        return ticket.id


async def _runs(db: Database, ticket_id: int) -> list[TriageRun]:
    async with db.sessions() as session:
        query = select(TriageRun).where(TriageRun.ticket_id == ticket_id).order_by(TriageRun.id)
        return list((await session.scalars(query)).all())


async def _queries(db: Database, ticket_id: int) -> tuple[str, ...]:
    async with db.sessions() as session:
        return await stored_search_queries(session, ticket_id)


async def test_the_stored_verdict_keeps_its_search_queries(db: Database) -> None:
    ticket_id = await _ticket(db)
    ticket = await store_verdict(db.sessions, ticket_id, verdict(), ANSWER, SlaPolicy(), NOW)
    assert ticket.route == "answer"
    (run,) = await _runs(db, ticket_id)
    assert (run.source, run.prompt_version) == ("llm", "triage.v2")
    assert run.result["search_queries"] == list(QUERIES)
    assert await _queries(db, ticket_id) == QUERIES


async def test_a_retry_reuses_the_first_verdicts_queries(db: Database) -> None:
    ticket_id = await _ticket(db)
    await store_verdict(db.sessions, ticket_id, verdict(), ANSWER, SlaPolicy(), NOW)
    again = verdict(["something else entirely"])
    later = NOW + timedelta(minutes=1)
    ticket = await store_verdict(db.sessions, ticket_id, again, ANSWER, SlaPolicy(), later)
    assert ticket.route is not None  # what the flow checks before it reuses the verdict
    assert len(await _runs(db, ticket_id)) == 1
    assert await _queries(db, ticket_id) == QUERIES


async def test_no_queries_for_an_untriaged_ticket_or_a_rules_verdict(db: Database) -> None:
    untriaged, ruled = await _ticket(db, "1.0"), await _ticket(db, "2.0")
    rules = _classified(classify_offline("I was charged twice"), source="fallback")
    human = RouteDecision(Route.HUMAN, "rule-based fallback verdict: a person must check it")
    await store_verdict(db.sessions, ruled, rules, human, SlaPolicy(), NOW)
    (run,) = await _runs(db, ruled)
    assert run.result["search_queries"] == []
    assert await _queries(db, untriaged) == ()
    assert await _queries(db, ruled) == ()


async def test_a_leads_relabel_does_not_hide_the_queries(db: Database) -> None:
    ticket_id = await _ticket(db)
    await store_verdict(db.sessions, ticket_id, verdict(), ANSWER, SlaPolicy(), NOW)
    async with db.sessions.begin() as session:
        session.add(
            TriageRun(
                ticket_id=ticket_id,
                source="human",
                result={"category": "bug", "urgency": "high", "by": "slack:U_LEAD"},
                attempts=0,
                created_at=NOW,
            )
        )
    assert await _queries(db, ticket_id) == QUERIES


async def test_old_or_odd_stored_runs_read_as_clean_queries(db: Database) -> None:
    v1_run, odd_run = await _ticket(db, "1.0"), await _ticket(db, "2.0")
    async with db.sessions.begin() as session:
        for ticket_id, result in (
            (v1_run, {"category": "billing", "summary": "Before triage.v2."}),
            (odd_run, {"category": "billing", "search_queries": [" Refund  ", "refund", 7]}),
        ):
            session.add(TriageRun(ticket_id=ticket_id, source="llm", result=result))
    assert await _queries(db, v1_run) == ()
    assert await _queries(db, odd_run) == ("Refund",)


async def test_erasing_a_threads_words_erases_its_queries(db: Database) -> None:
    ticket_id = await _ticket(db)
    await store_verdict(db.sessions, ticket_id, verdict(), ANSWER, SlaPolicy(), NOW)
    async with db.sessions.begin() as session:
        derived = await erase_derived(session, {ticket_id})
    # Returned so that their copies in replies naming no ticket are searched for too.
    assert set(QUERIES) <= derived
    (run,) = await _runs(db, ticket_id)
    assert "search_queries" not in run.result
    assert "summary" not in run.result
    assert run.result["category"] == "billing"  # labels stay
    assert await _queries(db, ticket_id) == ()


async def test_retention_purges_the_queries_with_the_summary(db: Database) -> None:
    ticket_id = await _ticket(db)
    await store_verdict(db.sessions, ticket_id, verdict(), ANSWER, SlaPolicy(), NOW)
    later = NOW + timedelta(days=400)
    await purge_older_than(db.sessions, cutoff=NOW + timedelta(days=1), now=later)
    (run,) = await _runs(db, ticket_id)
    assert "search_queries" not in run.result
    assert run.result["urgency"] == "medium"
    assert await _queries(db, ticket_id) == ()
