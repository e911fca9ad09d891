"""Answers written and not yet posted.

A new ticket's chat answer is drafted while triage runs (`MessageFlow`), so an answered
ticket waits one model round trip, not two; a verdict for a person or the reasoner
drops the draft. A draft stores nothing: `ThreadReplies` posts it, or hands the ticket
over, once the verdict is in.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.events import MessagePosted
from bot.flow.answers import Reply, Writer
from bot.flow.grounding import Found, Grounding
from bot.flow.live import Feed
from bot.flow.summaries import Summaries
from bot.store.models import Ticket
from bot.tickets.queries import (
    ThreadLine,
    call_context,
    facts_of,
    latest_summary,
    thread_lines,
)

__all__ = ["Draft", "Drafts", "discard"]

log = logging.getLogger(__name__)


class Draft(NamedTuple):
    """An answer written and not yet posted, with what retrieval found for it."""

    reply: Reply | None
    """None: the docs have nothing on it and the ticket may only be answered from them."""
    found: Found | None


async def discard(ahead: asyncio.Task[Draft] | None) -> None:
    """Drop a draft started ahead of triage: a model call still running is cancelled
    (its ledger row says so); one that finished stays recorded with its cost."""
    if ahead is None:
        return
    ahead.cancel()
    try:
        await ahead
    except asyncio.CancelledError:
        pass
    except Exception as exc:  # nobody wants the draft: a failure is worth a line, no more
        log.warning("answer.draft_dropped error=%s", type(exc).__name__)


class Drafts:
    """Retrieves and writes answers to thread messages."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        writer: Writer,
        summaries: Summaries | None = None,
        grounding: Grounding | None = None,
        context_chars: int = 12000,
    ) -> None:
        self._sessions = sessions
        self._writer = writer
        self._summaries = summaries
        self._grounding = grounding
        self._context_chars = context_chars

    async def draft(
        self,
        ticket: Ticket,
        event: MessagePosted,
        *,
        deep: bool,
        feed: Feed | None = None,
        just_opened: bool = False,
    ) -> Draft:
        """An answer to `event` from the thread, its summary and the docs; `deep` asks
        the reasoning model. Drafted while triage runs, the ticket has no verdict yet,
        so the search uses the question's own words. `feed`: gets the text as the model
        writes it (shown once the verdict lets it be). `just_opened`: `event` opened the
        ticket, so its thread is the question alone and it has no summary (nothing to read).
        """
        if just_opened:
            lines, summary = [ThreadLine(author="user", text=event.text)], None
        else:
            async with self._sessions() as session:
                lines = await thread_lines(session, ticket, ticket.requester_id)
                summary = await latest_summary(session, ticket.id)
        stale = summary is None or ticket.messages_since_summary > 0
        if self._summaries and stale and sum(len(x.text) for x in lines) > self._context_chars:
            # A long thread: fold the older turns into the summary rather than drop them.
            await self._summaries.refresh(ticket.id)
            async with self._sessions() as session:
                summary = await latest_summary(session, ticket.id)
        found = await self._grounding.find(ticket, event.text) if self._grounding else None
        if found is not None and found.required and not found.sources:
            return Draft(None, found)
        context = call_context(ticket, "answer", event.author.user_id)
        if found is not None and found.sources:
            context = replace(context, retrieved_chunks=found.chunks, retrieved_tokens=found.tokens)
        reply = await self._writer.answer(
            facts_of(ticket),
            lines,
            summary.text if summary else None,
            deep=deep,
            context=context,
            sources=found.sources if found else None,
            shown=feed,
        )
        return Draft(reply, found)
