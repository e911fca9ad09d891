"""Rows as the pages show them: labels in today's taxonomy, SLAs in words, money in dollars.

Pure functions of stored rows and the playbooks, so the templates only lay out text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.config.playbook import Playbooks
from bot.events import TicketAction, TicketStatus
from bot.store.kb_tables import Retrieval
from bot.store.models import AuditEntry, LlmCall, Message, Ticket, TriageRun
from bot.tickets.cards import ACTIONS_BY_STATUS, category_choices, urgency_choices, urgency_shown
from bot.tickets.scrub import PLACEHOLDER
from bot.tickets.sla import SlaPolicy, sla_state

__all__ = [
    "DASHBOARD_ACTIONS",
    "ActionForms",
    "CallRow",
    "Field",
    "MessageRow",
    "TicketRow",
    "action_forms",
    "audit_fields",
    "call_row",
    "message_row",
    "money",
    "retrieval_hits",
    "ticket_row",
    "verdict_fields",
]

DASHBOARD_ACTIONS = (
    TicketAction.CLAIM,
    TicketAction.RESOLVE,
    TicketAction.REOPEN,
    TicketAction.RECLASSIFY,
)
"""The card actions the dashboard offers as forms (asking the reasoner and saving an
answer stay in chat)."""
_VERDICT_ORDER = ("category", "urgency", "confidence", "needs_human", "summary")
_SUMMARY_CHARS = 140


def money(value: Decimal | float | None) -> str:
    """Dollars as the pages show them: `$0.0123` (the ledger's exact figure is kept in
    a tooltip by the templates)."""
    return f"${Decimal(value or 0):.4f}"


def _clip(text: str | None, limit: int = _SUMMARY_CHARS) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + "…"


@dataclass(frozen=True)
class TicketRow:
    """One ticket in the queue or the tickets list."""

    id: int
    workspace: str
    channel: str
    status: str
    category: str
    urgency: str
    route: str
    team: str
    assignee: str
    """Who claimed it, or `suggested: U123` (the card's suggestion), or empty."""
    summary: str
    opened: datetime
    sla: str
    """`due in 12 min`, `BREACHED 1 h 05 min ago`, `claimed by U123`; empty when done."""
    breached: bool


def _due(ticket: Ticket, playbooks: Playbooks, sla: SlaPolicy) -> datetime | None:
    if ticket.sla_due_at is not None:
        return ticket.sla_due_at
    if ticket.escalated_at is None:
        return None
    # Escalated before due times were stored: the policy (the team's own) says when.
    team = playbooks.for_workspace(ticket.workspace_id).team(ticket.team)
    return sla.for_team(team).due(ticket.urgency, ticket.escalated_at)


def _sla_text(ticket: Ticket, due: datetime | None, now: datetime) -> tuple[str, bool]:
    if ticket.status == TicketStatus.CLAIMED:
        late = SlaPolicy.breached(due, ticket.claimed_at, now)
        return f"claimed by {ticket.assignee_id}" + (" (after the SLA)" if late else ""), late
    if ticket.status == TicketStatus.ESCALATED:
        return sla_state(due, now), SlaPolicy.breached(due, None, now)
    return "", False


def ticket_row(
    ticket: Ticket, playbooks: Playbooks, sla: SlaPolicy, now: datetime, *, clip: bool = True
) -> TicketRow:
    """How a ticket reads in a list: labels in its workspace's taxonomy, SLA in words."""
    playbook = playbooks.for_workspace(ticket.workspace_id)
    taxonomy = playbook.taxonomy
    suggested = ticket.suggested_assignee_id if not ticket.assignee_id else None
    text, breached = _sla_text(ticket, _due(ticket, playbooks, sla), now)
    return TicketRow(
        id=ticket.id,
        workspace=ticket.workspace_id,
        channel=ticket.channel_id,
        status=ticket.status,
        category=(taxonomy.shown(ticket.category) or "").replace("_", " "),
        urgency=urgency_shown(taxonomy, ticket.urgency) or "",
        route=ticket.route or "",
        team=ticket.team if playbook.team(ticket.team) is not None else "",
        assignee=ticket.assignee_id or (f"suggested: {suggested}" if suggested else ""),
        summary=_clip(ticket.summary) if clip else ticket.summary or "",
        opened=ticket.created_at,
        sla=text,
        breached=breached,
    )


@dataclass(frozen=True)
class MessageRow:
    """One message of a transcript."""

    author: str
    role: str
    """`requester`, `bot` or `lead` (anyone else in the thread)."""
    posted_at: datetime
    text: str
    erased: bool
    reasoning: str
    edited: bool


def message_row(message: Message, ticket: Ticket) -> MessageRow:
    """A stored message as the transcript shows it (erased text says so)."""
    if message.is_bot:
        role = "bot"
    elif message.author_id == ticket.requester_id:
        role = "requester"
    else:
        role = "lead"
    erased = message.text is None
    return MessageRow(
        author="supportbot" if message.is_bot else message.author_id,
        role=role,
        posted_at=message.posted_at,
        text=PLACEHOLDER if erased else message.text or "",
        erased=erased,
        reasoning=message.reasoning or "",
        edited=message.edited_at is not None,
    )


@dataclass(frozen=True)
class Field:
    """A name and its value as text."""

    name: str
    value: str


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.2f}"
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def verdict_fields(run: TriageRun, playbooks: Playbooks, workspace_id: str) -> list[Field]:
    """A triage verdict's fields, labels first, in today's names."""
    taxonomy = playbooks.for_workspace(workspace_id).taxonomy
    result = dict(run.result or {})
    shown = {
        "category": lambda v: taxonomy.shown(v) or "",
        "urgency": lambda v: urgency_shown(taxonomy, v) or "",
    }
    keys = [k for k in _VERDICT_ORDER if k in result] + sorted(set(result) - set(_VERDICT_ORDER))
    return [
        Field(
            key.replace("_", " "), shown[key](result[key]) if key in shown else _text(result[key])
        )
        for key in keys
    ]


def retrieval_hits(retrieval: Retrieval) -> list[dict[str, Any]]:
    """What one retrieval found: title, heading, location (a link when it is a URL), score."""
    hits = []
    for hit in retrieval.hits or []:
        location = str(hit.get("location") or "")
        hits.append(
            {
                "title": str(hit.get("title") or location),
                "heading": str(hit.get("heading") or ""),
                "location": location,
                "href": location if location.startswith(("https://", "http://")) else None,
                "score": hit.get("score"),
            }
        )
    return hits


@dataclass(frozen=True)
class CallRow:
    """One model call of the ledger."""

    at: datetime
    purpose: str
    model: str
    prompt_version: str
    status: str
    tokens_in: int
    cache_hit: int
    tokens_out: int
    reasoning: int
    cost: Decimal
    latency_ms: int
    attempt: int


def call_row(call: LlmCall) -> CallRow:
    """A ledger row for the transcript (never its error text: it may quote the thread)."""
    return CallRow(
        at=call.created_at,
        purpose=call.purpose,
        model=call.model,
        prompt_version=call.prompt_version or "",
        status=call.status,
        tokens_in=call.prompt_cache_hit_tokens + call.prompt_cache_miss_tokens,
        cache_hit=call.prompt_cache_hit_tokens,
        tokens_out=call.completion_tokens,
        reasoning=call.reasoning_tokens,
        cost=call.cost_usd or Decimal(0),
        latency_ms=call.latency_ms,
        attempt=call.attempt,
    )


def audit_fields(entry: AuditEntry) -> list[Field]:
    """An audit row's details (it holds no message content)."""
    return [Field(key, _text(value)) for key, value in sorted((entry.detail or {}).items())]


@dataclass(frozen=True)
class ActionForms:
    """The lead's forms for a ticket, as its status allows them."""

    actions: tuple[str, ...]
    """Of claim, resolve, reopen (a button each) and reclassify (two selects)."""
    categories: tuple[tuple[str, str], ...]
    urgencies: tuple[tuple[str, str], ...]
    category: str
    """The ticket's category in today's name, preselected."""
    urgency: str


def action_forms(ticket: Ticket, playbooks: Playbooks) -> ActionForms:
    """The forms the ticket page offers: those the chat card would show as buttons."""
    taxonomy = playbooks.for_workspace(ticket.workspace_id).taxonomy
    allowed = ACTIONS_BY_STATUS.get(ticket.status, ())
    return ActionForms(
        actions=tuple(action.value for action in DASHBOARD_ACTIONS if action in allowed),
        categories=category_choices(taxonomy),
        urgencies=urgency_choices(taxonomy),
        category=taxonomy.canonical(ticket.category) or "",
        urgency=ticket.urgency or "",
    )
