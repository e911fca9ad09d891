"""What the docs say about a ticket: retrieval before an answer, the floor that makes
"I don't know" an outcome, suggestions when no model can answer, and a record of
what was found (chunks and scores, never text) for leads and reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.events import SourceLink
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.citations import NumberedSource, number_sources
from bot.knowledge.fulltext import query_words
from bot.knowledge.retrieval import Hit
from bot.store.kb_tables import Retrieval
from bot.store.models import Ticket
from bot.tickets.verdicts import stored_search_queries

__all__ = ["Found", "Grounding", "Outcome", "latest_retrieval", "matching_lines"]

SUGGESTED_PAGES = 3
PASSAGE_CHARS = 160


class Outcome:
    """How an answer used the docs (the `retrievals.outcome` values)."""

    ANSWERED = "answered"
    ABSTAINED = "abstained"
    SUGGESTED = "suggested"


@dataclass(frozen=True)
class Found:
    """What retrieval found for one question."""

    retrieved: list[Hit]
    """Everything retrieved, best first, kept for the record."""
    sources: list[NumberedSource]
    """The passages above the floor that go into the answer request, numbered."""
    required: bool
    """Answer only from sources: with none, the ticket goes to a person."""

    @property
    def tokens(self) -> int:
        """About how many prompt tokens the sources add."""
        return sum(hit.tokens for source in self.sources for hit in source.hits)

    @property
    def chunks(self) -> int:
        """How many passages the sources carry."""
        return sum(len(source.hits) for source in self.sources)


class Grounding:
    """Retrieval for the thread replies, with the knowledge base's settings."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        knowledge: KnowledgeBase,
        min_score: float = 0.5,
        max_sources: int = 5,
        context_tokens: int = 1800,
        requires_sources: bool | None = None,
    ) -> None:
        self._sessions = sessions
        self._knowledge = knowledge
        self._min_score = min_score
        self._max_sources = max_sources
        self._context_tokens = context_tokens
        self._requires_sources = requires_sources

    async def find(self, ticket: Ticket, text: str) -> Found | None:
        """Sources for `text` in the ticket's workspace; None when it has no knowledge
        base (the bot then answers as it did before there was one)."""
        if not await self._knowledge.covers(ticket.workspace_id):
            return None
        async with self._sessions() as session:
            queries = await stored_search_queries(session, ticket.id)
        hits = await self._knowledge.search(
            [text, *queries], workspace_id=ticket.workspace_id, limit=self._max_sources
        )
        kept = [hit for hit in hits if hit.score >= self._min_score]
        required = True if self._requires_sources is None else self._requires_sources
        return Found(hits, number_sources(kept, self._context_tokens), required)

    async def suggestions(
        self, ticket: Ticket, text: str, found: Found | None = None
    ) -> tuple[list[tuple[int, str]], tuple[SourceLink, ...]] | None:
        """The best pages' first lines and links, for a reply with no model answer;
        recorded. `found`: what the failed answer already retrieved (else searched now)."""
        if found is None:
            found = await self.find(ticket, text)
        if found is None or not found.sources:
            return None
        pages = found.sources[:SUGGESTED_PAGES]
        passages = [(page.number, matching_lines(page.hits[0].text, text)) for page in pages]
        await self.record(ticket.id, Outcome.SUGGESTED, found)
        return passages, tuple(page.link for page in pages)

    async def record(self, ticket_id: int, outcome: str, found: Found) -> None:
        """Keep what was retrieved for this ticket and what came of it."""
        async with self._sessions.begin() as session:
            session.add(
                Retrieval(
                    ticket_id=ticket_id,
                    outcome=outcome,
                    hits=[_hit_record(hit) for hit in found.retrieved],
                    context_tokens=found.tokens if outcome == Outcome.ANSWERED else 0,
                )
            )


def _hit_record(hit: Hit) -> dict[str, object]:
    return {
        "location": hit.location,
        "title": hit.title,
        "heading": hit.heading,
        "chunk_id": hit.chunk_id,
        "score": round(hit.score, 4),
    }


def matching_lines(passage: str, question: str) -> str:
    """The first lines of the paragraph of `passage` that shares most words with
    `question`, as plain text (no Markdown marks), at most `PASSAGE_CHARS` long."""
    wanted = set(query_words(question))
    paragraphs = [p for p in re.split(r"\n\s*\n", passage) if p.strip() and "```" not in p]
    if not paragraphs:
        paragraphs = [passage]
    best = max(paragraphs, key=lambda p: len(wanted & set(query_words(p))))
    flat = " ".join(_MARKS.sub("", best).split())
    if len(flat) <= PASSAGE_CHARS:
        return flat
    return flat[:PASSAGE_CHARS].rsplit(" ", 1)[0] + "…"


_MARKS = re.compile(r"\*\*|__|`|^\s*(?:[-*+]|\d+\.|#+)\s+", re.MULTILINE)


async def latest_retrieval(session: AsyncSession, ticket_id: int) -> dict[str, object] | None:
    """The newest retrieval of a ticket: its outcome and hits (for `tickets --json`)."""
    row = await session.scalar(
        select(Retrieval)
        .where(Retrieval.ticket_id == ticket_id)
        .order_by(Retrieval.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    return {"outcome": row.outcome, "hits": row.hits, "context_tokens": row.context_tokens}
