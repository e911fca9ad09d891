"""A seeded desk: tickets in two workspaces with known outcomes, and the figures they make.

Workspace T_ACME (slack), tickets #1-#9, opened in the last 10 hours:
  #1 answer route, resolved by the bot in 30 min, first reply 60 s, rated good, $0.0030
  #2 answer route, resolved in 1 h, first reply 120 s, not rated, $0.0010
  #3 human route, escalated, claimed, resolved by a lead in 4 h, lead replied at 600 s,
     rated bad, $0.0010; a lead relabelled it (category changed)
  #4 "export invoices" question, abstained and escalated as not in the docs; the
     requester wrote again at 10 s, the bot answered at 30 s; $0.0050 (unresolved)
  #5 "export invoices" again, abstained, no reply
  #6 abstained, its question erased
  #7 a long webhooks question, abstained
  #8 "export invoices" a third time, escalated as not in the docs (no retrieval row)
  #9 reasoner route, resolved in 2 h, first reply 300 s, rated good, $0.0100
Workspace T_OTHER (slack): #10, answer route, resolved in 10 min, first reply 90 s, rated
  bad, $0.0020, an "export invoices" question that abstained.
T_ACME again: #11, 40 days old (outside every window), resolved, $1.0000.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from bot.flow import copy
from bot.store.db import Database
from bot.store.kb_tables import Retrieval
from bot.store.models import LlmCall, Message, Ticket, TriageRun

EXPORT = "How do I export my invoices to CSV?"
EXPORT_AGAIN = "Can I export invoices as a CSV file?"
EXPORT_THIRD = "Is there a way to export all my invoices as CSV?"
WEBHOOKS = (
    "Does the API support webhooks for payment events, and if so where do I configure "
    "the endpoint URL and the signing secret for them?"
)
CLIPPED = (
    "Does the API support webhooks for payment events, and if so where do I configure "
    "the endpoint URL…"
)
"""How the webhooks question is shown: clipped at a word, about 100 characters."""
LABELS = {"category": "how_to", "urgency": "low"}


@dataclass
class Seeded:
    """One ticket to write, with its thread, its model calls and its triage."""

    number: int
    hours_ago: float
    route: str = "answer"
    workspace: str = "T_ACME"
    question: str | None = "How do I add a teammate?"
    resolved_after: float | None = None  # seconds
    escalated: bool = False
    claimed_after: float | None = None
    rating: str | None = None
    route_reason: str | None = None
    replies: list[tuple[float, str, bool]] = field(default_factory=list)
    """(seconds after opening, author, is_bot)."""
    costs: list[str] = field(default_factory=list)
    abstained: bool = False
    triage: str | None = "llm"
    relabel: dict[str, str] | None = None


TICKETS = [
    Seeded(1, 10, resolved_after=1800, rating="good", replies=[(60, "bot", True)],
           costs=["0.0010", "0.0020"]),
    Seeded(2, 9, resolved_after=3600, replies=[(120, "bot", True)], costs=["0.0010"],
           relabel=LABELS),
    Seeded(3, 8, route="human", escalated=True, claimed_after=300, resolved_after=14400,
           rating="bad", replies=[(600, "U_LEAD", False)], costs=["0.0010"],
           relabel={"category": "billing", "urgency": "low"}),
    Seeded(4, 7, question=EXPORT, escalated=True, route_reason=copy.NOT_IN_DOCS,
           replies=[(10, "U_ALICE", False), (30, "bot", True)], costs=["0.0050"],
           abstained=True, triage="fallback"),
    Seeded(5, 6, question=EXPORT_AGAIN, abstained=True, triage=None),
    Seeded(6, 5, question=None, escalated=True, abstained=True, triage=None),
    Seeded(7, 4, question=WEBHOOKS, abstained=True, triage=None),
    Seeded(8, 3, question=EXPORT_THIRD, escalated=True, route_reason=copy.NOT_IN_DOCS,
           triage=None),
    Seeded(9, 2.5, route="reasoner", resolved_after=7200, rating="good",
           replies=[(300, "bot", True)], costs=["0.0100"]),
    Seeded(10, 1, workspace="T_OTHER", question="How do I export invoices to CSV?",
           resolved_after=600, rating="bad", replies=[(90, "bot", True)], costs=["0.0020"],
           abstained=True, triage=None),
    Seeded(11, 24 * 40, question=EXPORT, resolved_after=60, rating="good", costs=["1.0000"],
           abstained=True, triage=None),
]  # fmt: skip


def _ticket(seed: Seeded, opened: datetime) -> Ticket:
    def after(seconds: float | None) -> datetime | None:
        return None if seconds is None else opened + timedelta(seconds=seconds)

    resolved = after(seed.resolved_after)
    rated = resolved + timedelta(minutes=1) if resolved and seed.rating else None
    return Ticket(
        id=seed.number,
        platform="slack",
        workspace_id=seed.workspace,
        channel_id="C_HELP",
        thread_id=f"1700000000.{seed.number:06d}",
        requester_id="U_ALICE",
        status="resolved" if resolved else ("escalated" if seed.escalated else "open"),
        route=seed.route,
        route_reason=seed.route_reason,
        root_message_id=f"m{seed.number}",
        escalated_at=opened if seed.escalated else None,
        claimed_at=after(seed.claimed_after),
        resolved_at=resolved,
        satisfaction=seed.rating,
        rated_at=rated,
        created_at=opened,
        last_activity_at=opened,
    )


def _rows(seed: Seeded, opened: datetime) -> list[object]:
    rows: list[object] = [
        Message(ticket_id=seed.number, message_id=f"m{seed.number}", author_id="U_ALICE",
                text=seed.question, posted_at=opened),
        *(
            Message(ticket_id=seed.number, message_id=f"r{seed.number}.{i}", author_id=author,
                    is_bot=is_bot, text="a reply", posted_at=opened + timedelta(seconds=after))
            for i, (after, author, is_bot) in enumerate(seed.replies)
        ),
        *(
            LlmCall(ticket_id=seed.number, purpose="answer", model="deepseek-chat",
                    status="ok", cost_usd=Decimal(cost), workspace_id=seed.workspace,
                    created_at=opened)
            for cost in seed.costs
        ),
    ]  # fmt: skip
    if seed.abstained:
        rows.append(Retrieval(ticket_id=seed.number, outcome="abstained", created_at=opened))
    if seed.triage:
        rows.append(TriageRun(ticket_id=seed.number, source=seed.triage, result=LABELS,
                              created_at=opened))  # fmt: skip
    if seed.relabel:
        rows.append(TriageRun(ticket_id=seed.number, source="human", result=seed.relabel,
                              created_at=opened + timedelta(minutes=2)))  # fmt: skip
    return rows


async def seed_desk(db: Database, now: datetime) -> None:
    """Write the tickets above, opened relative to `now`."""
    async with db.sessions.begin() as session:
        for seed in TICKETS:
            session.add(_ticket(seed, now - timedelta(hours=seed.hours_ago)))
        await session.flush()
        for seed in TICKETS:
            session.add_all(_rows(seed, now - timedelta(hours=seed.hours_ago)))
        # A call of no ticket (a `supportbot triage` run) is no ticket's cost.
        session.add(
            LlmCall(purpose="triage", model="deepseek-chat", status="ok",
                    cost_usd=Decimal("0.5000"), workspace_id="T_ACME", created_at=now)
        )  # fmt: skip


ACME_LINES = [
    "Resolved: 4 of 9 tickets; deflection 75% (3 resolved with no person)",
    "Time to first response: median 2 min, p90 10 min (5 tickets)",
    "Time to resolution: median 1.5 h, p90 4.0 h (4 tickets)",
    "Cost per resolved ticket: answer $0.0020 (2), human $0.0010 (1), reasoner $0.0100 (1)",
    "Satisfaction: 67% good (2 good, 1 bad); 1 resolved ticket(s) not rated",
    "Fallback rate: 20%; triage accuracy: 75% (2 relabelled by leads)",
]
"""What the figures of T_ACME (tickets #1-#9) read as."""
