"""Finding and blanking the copies of erased text, wherever the bot wrote them.

Erasure works two ways. By identity: rows known to belong to what is erased (the
events that carried a message, the replies in a ticket's thread, the text the model
derived from a thread) are blanked whatever they say. By content: every text and JSON
column of every table is searched for the erased text itself (and the escaped forms
an error message or a JSON body gives it), and each copy is replaced by
`PLACEHOLDER`, so a quote in an error, an audit note or someone else's message goes too.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, Text, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.knowledge.vectors import bump_revision
from bot.pipeline.keys import event_reply_key
from bot.store.kb_tables import KbDocument, KbDraft
from bot.store.models import (
    Base,
    InboxItem,
    LlmCall,
    Message,
    OutboxItem,
    Summary,
    Ticket,
    TriageRun,
)

__all__ = [
    "NO_SYNC",
    "PLACEHOLDER",
    "blank_replies",
    "blank_text",
    "erase_copies",
    "erase_derived",
    "labels_only",
    "needles",
    "replace_copies",
    "scrub_events",
]

PLACEHOLDER = "(erased)"
MIN_NEEDLE = 16
"""Shorter texts are not searched for: "ok, thanks" is in too many other messages.
Their copies are still erased by identity."""

TEXT_KEYS = frozenset(
    {"text", "new_text", "summary", "lines", "attachments", "args", "display_name"}
)
"""Keys of event and reply payloads that hold what people wrote (or their names)."""
_NEEDLE_KEYS = frozenset({"text", "new_text"})
_LABELS = frozenset({"category", "urgency", "needs_human", "confidence", "by", "previous"})
"""What a triage verdict keeps once its ticket's text is erased: labels, never words."""
_CHUNK = 100
NO_SYNC = {"synchronize_session": False}
"""For bulk updates: erasure holds no ORM objects to keep in step."""


def needles(texts: Iterable[str | None]) -> set[str]:
    """The texts worth searching for, each as written and as repr() and JSON escape it."""
    found: set[str] = set()
    for text in texts:
        if text is None or len(text.strip()) < MIN_NEEDLE:
            continue
        for form in {text, text.strip()}:
            found.update(
                {
                    form,
                    repr(form)[1:-1],
                    json.dumps(form)[1:-1],
                    json.dumps(form, ensure_ascii=False)[1:-1],
                }
            )
    return found


def blank_text(value: Any, *, blank: bool = False) -> Any:
    """`value` with every string under a `TEXT_KEYS` key replaced by `PLACEHOLDER`."""
    if isinstance(value, dict):
        return {k: blank_text(v, blank=blank or k in TEXT_KEYS) for k, v in value.items()}
    if isinstance(value, list):
        return [blank_text(v, blank=blank) for v in value]
    if blank and isinstance(value, str) and value:
        return PLACEHOLDER
    return value


def labels_only(result: dict[str, Any]) -> dict[str, Any]:
    """A triage verdict without its summary (or anything else that may quote the thread)."""
    return {
        k: labels_only(v) if isinstance(v, dict) else v for k, v in result.items() if k in _LABELS
    }


def _strings(
    value: Any, keys: Collection[str] | None = None, *, inside: bool = False
) -> Iterator[str]:
    """Strings in a JSON value (only those under `keys`, when given)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, keys, inside=inside or keys is None or k in keys)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, keys, inside=inside)
    elif isinstance(value, str) and (inside or keys is None):
        yield value


def _replace(value: Any, ordered: Sequence[str]) -> Any:
    if isinstance(value, str):
        for needle in ordered:
            value = value.replace(needle, PLACEHOLDER)
        return value
    if isinstance(value, dict):
        return {k: _replace(v, ordered) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, ordered) for v in value]
    return value


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def text_columns() -> list[Column[Any]]:
    """Every column of every table that can hold free text: TEXT and JSON."""
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, Text | JSON)
    ]


async def replace_copies(
    session: AsyncSession,
    found: Collection[str],
    columns: Iterable[Column[Any]] | None = None,
    *where: ColumnElement[bool],
) -> int:
    """Replace each copy of the `found` texts by `PLACEHOLDER` (in `columns`, default all).

    The database narrows the rows (LIKE, on JSON as its text); Python replaces, exactly.

    Returns:
        How many rows changed.
    """
    ordered = sorted(found, key=len, reverse=True)
    if not ordered:
        return 0
    changed = 0
    for column in text_columns() if columns is None else columns:
        table = column.table
        key = next(iter(table.primary_key.columns))  # `id`, or `ticket_id` for drafts
        is_json = isinstance(column.type, JSON)
        searched = cast(column, Text) if is_json else column
        patterns = sorted(
            {json.dumps(n, ensure_ascii=a)[1:-1] for n in ordered for a in (True, False)}
            if is_json
            else set(ordered)
        )
        ids: set[int] = set()
        for chunk in _chunks(patterns):
            like = or_(*(searched.contains(p, autoescape=True) for p in chunk))
            ids.update((await session.scalars(select(key).where(like, *where))).all())
        for batch in _chunks(sorted(ids)):
            rows = await session.execute(select(key, column).where(key.in_(batch)))
            for row_id, value in rows.all():
                new = _replace(value, ordered)
                if new != value:
                    await session.execute(
                        update(table).where(key == row_id).values({column.name: new})
                    )
                    changed += 1
    return changed


async def erase_copies(session: AsyncSession, texts: set[str], derived: set[str]) -> None:
    """Replace verbatim copies: of `texts` anywhere, of `derived` in replies naming no ticket
    (command answers, the home view), where the bot's summaries travel."""
    await replace_copies(session, needles(texts))
    unticketed = OutboxItem.ticket_id.is_(None)
    await replace_copies(session, needles(derived), [OutboxItem.__table__.c.payload], unticketed)


async def scrub_events(session: AsyncSession, which: ColumnElement[bool]) -> set[str]:
    """Blank the text of the inbox events `which` selects, and their errors.

    One still waiting is dropped (marked done): it would bring the erased text back.

    Returns:
        The texts the events carried, to search for elsewhere.
    """
    rows = (
        await session.execute(
            select(InboxItem.id, InboxItem.status, InboxItem.payload).where(which)
        )
    ).all()
    carried: set[str] = set()
    for row_id, status, payload in rows:
        carried.update(_strings(payload, _NEEDLE_KEYS))
        values: dict[str, Any] = {"payload": blank_text(payload), "last_error": None}
        if status == "pending":
            values.update(status="done", lease_until=None, next_attempt_at=None)
        await session.execute(update(InboxItem).where(InboxItem.id == row_id).values(**values))
    return carried


async def erase_derived(session: AsyncSession, ticket_ids: Collection[int]) -> set[str]:
    """Erase what the bot derived from these tickets' threads, since it may quote them.

    Summaries, the ticket summary, the bot's answers (and their thinking), the words in
    the verdicts, failed model calls' errors, and every reply about the ticket: its
    thread's and leads' cards, answers, briefs, notes. Labels, routes and costs stay.
    The next summary is written afresh from what is left.

    Returns:
        The derived texts, to search for in replies that name no ticket.
    """
    ids = sorted(ticket_ids)
    if not ids:
        return set()
    derived: set[str] = set()
    for query in (
        select(Summary.text).where(Summary.ticket_id.in_(ids)),
        select(Ticket.summary).where(Ticket.id.in_(ids)),
        select(Message.text).where(Message.ticket_id.in_(ids), Message.is_bot),
        select(Message.reasoning).where(Message.ticket_id.in_(ids)),
    ):
        derived.update(t for t in (await session.scalars(query)).all() if t)
    statements = (
        update(Summary).where(Summary.ticket_id.in_(ids)).values(text=None),
        update(Ticket).where(Ticket.id.in_(ids)).values(summary=None),
        update(Message).where(Message.ticket_id.in_(ids), Message.is_bot).values(text=None),
        update(Message).where(Message.ticket_id.in_(ids)).values(reasoning=None),
        update(LlmCall).where(LlmCall.ticket_id.in_(ids)).values(error=None),
    )
    for statement in statements:
        await session.execute(statement.execution_options(**NO_SYNC))
    # Drafts and saved answers are made from the thread: they go whole, not blanked.
    await session.execute(delete(KbDraft).where(KbDraft.ticket_id.in_(ids)))
    saved = await session.execute(delete(KbDocument).where(KbDocument.ticket_id.in_(ids)))
    if saved.rowcount:  # type: ignore[attr-defined]
        await bump_revision(session)
    for run_id, result in (
        await session.execute(
            select(TriageRun.id, TriageRun.result).where(TriageRun.ticket_id.in_(ids))
        )
    ).all():
        kept = labels_only(result)
        if kept != result:
            derived.update(set(_strings(result)) - set(_strings(kept)))
            await session.execute(
                update(TriageRun).where(TriageRun.id == run_id).values(result=kept)
            )
    # Lead actions on the tickets were answered under keys made from their events.
    actions = await session.execute(
        select(InboxItem.platform, InboxItem.event_id).where(
            InboxItem.kind == "action_invoked",
            InboxItem.payload["ticket_id"].as_integer().in_(ids),
        )
    )
    keys = [event_reply_key(platform, event_id) for platform, event_id in actions.all()]
    about = or_(OutboxItem.ticket_id.in_(ids), OutboxItem.key.in_(keys))
    await blank_replies(session, about)
    return derived


async def blank_replies(session: AsyncSession, which: ColumnElement[bool]) -> None:
    """Blank the text (and the card summaries) of the replies `which` selects."""
    rows = (await session.execute(select(OutboxItem.id, OutboxItem.payload).where(which))).all()
    for row_id, payload in rows:
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == row_id)
            .values(payload=blank_text(payload), last_error=None)
        )
