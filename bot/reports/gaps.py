"""Coverage gaps: the questions the bot could not answer from the docs, grouped by
similarity, so the team knows which page to write next.

A question is a ticket's first message, for tickets whose answer abstained or that
went to a person because the docs did not cover them. Erased questions are skipped.
Questions are grouped with the knowledge base's own embedding model (offline), or by
shared significant words when there is none. Question text is shown, never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.flow import copy
from bot.flow.grounding import Outcome
from bot.knowledge.embeddings import Embedder, EmbeddingFailed
from bot.knowledge.fulltext import query_words
from bot.reports.outcomes import ticket_scope
from bot.store.kb_tables import Retrieval
from bot.store.models import Message, Ticket

__all__ = ["Gap", "coverage_gaps", "gap_lines", "group_similar"]

log = logging.getLogger(__name__)

SIMILAR_VECTORS = 0.6
"""Cosine similarity at which two questions ask the same thing (WordLlama's scale)."""
SIMILAR_WORDS = 0.5
"""Without vectors: the share of significant words two questions must share (Jaccard)."""
TOP_GAPS = 5
QUESTION_CHARS = 100
SHOWN_TICKETS = 10


@dataclass(frozen=True)
class Gap:
    """Questions that ask about the same missing page."""

    question: str
    """One of them (the earliest), on one line, clipped."""
    tickets: tuple[int, ...]

    @property
    def count(self) -> int:
        """How many tickets asked it."""
        return len(self.tickets)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"count": self.count, "question": self.question, "tickets": list(self.tickets)}

    def line(self) -> str:
        """E.g. `3 tickets: "How do I export invoices?" (#4, #5, #8)`."""
        shown = ", ".join(f"#{t}" for t in self.tickets[:SHOWN_TICKETS])
        more = f" +{self.count - SHOWN_TICKETS} more" if self.count > SHOWN_TICKETS else ""
        noun = "ticket" if self.count == 1 else "tickets"
        return f'{self.count} {noun}: "{self.question}" ({shown}{more})'


def gap_lines(gaps: Sequence[Gap]) -> list[str]:
    """The digest's coverage gaps section."""
    if not gaps:
        return ["Coverage gaps: none (no question went unanswered for lack of docs)"]
    return ["Coverage gaps (asked, not in the docs):", *(f"  {gap.line()}" for gap in gaps)]


async def coverage_gaps(
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime,
    until: datetime,
    platform: str | None = None,
    workspace_id: str | None = None,
    embedder: Embedder | None = None,
    limit: int = TOP_GAPS,
    workspaces: Collection[str] | None = None,
) -> list[Gap]:
    """The largest groups of unanswered questions among the tickets created in
    [since, until) (one workspace if named, or those of `workspaces`), largest first."""
    scope = ticket_scope(
        since, until, platform=platform, workspace_id=workspace_id, workspaces=workspaces
    )
    async with sessions() as session:
        asked = await _unanswered(session, scope)
    if not asked:
        return []
    texts = [" ".join(text.split()) for _, text in asked]
    groups = group_similar(*await _similarity(texts, embedder))
    gaps = [Gap(_clip(texts[g[0]]), tuple(asked[i][0] for i in g)) for g in groups]
    return sorted(gaps, key=lambda gap: (-gap.count, gap.tickets[0]))[:limit]


async def _unanswered(session: AsyncSession, scope: Select[tuple[int]]) -> list[tuple[int, str]]:
    """(ticket id, question) of the tickets in scope the docs did not answer, oldest first."""
    abstained = select(Retrieval.ticket_id).where(Retrieval.outcome == Outcome.ABSTAINED)
    rows = await session.execute(
        select(Ticket.id, Message.text)
        .join(
            Message,
            and_(Message.ticket_id == Ticket.id, Message.message_id == Ticket.root_message_id),
        )
        .where(
            Ticket.id.in_(scope),
            or_(Ticket.id.in_(abstained), Ticket.route_reason == copy.NOT_IN_DOCS),
            Message.text.is_not(None),
        )
        .order_by(Ticket.id)
    )
    return [(ticket_id, text) for ticket_id, text in rows if text.strip()]


async def _similarity(texts: list[str], embedder: Embedder | None) -> tuple[np.ndarray, float]:
    """Pairwise similarity and the threshold at which two questions are alike: cosine
    of the embeddings, or shared words when there is no model (or it failed)."""
    if embedder is not None:
        try:
            vectors = await embedder.embed(texts)
            return np.asarray(vectors @ vectors.T, dtype=np.float32), SIMILAR_VECTORS
        except (EmbeddingFailed, ImportError) as exc:
            log.warning("report.gaps.grouped_by_words reason=%s", type(exc).__name__)
    return _word_overlap(texts), SIMILAR_WORDS


def _word_overlap(texts: list[str]) -> np.ndarray:
    """Jaccard similarity of the questions' significant words."""
    words = [set(query_words(text)) for text in texts]
    matrix = np.eye(len(texts), dtype=np.float32)
    for i, a in enumerate(words):
        for j in range(i + 1, len(words)):
            union = a | words[j]
            matrix[i, j] = matrix[j, i] = len(a & words[j]) / len(union) if union else 0.0
    return matrix


def group_similar(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Greedy grouping, in order: each item joins the first group whose first item it is
    at least `threshold` similar to, else starts a group of its own."""
    groups: list[list[int]] = []
    for item in range(similarity.shape[0]):
        home = next((g for g in groups if similarity[g[0], item] >= threshold), None)
        if home is None:
            groups.append([item])
        else:
            home.append(item)
    return groups


def _clip(text: str) -> str:
    if len(text) <= QUESTION_CHARS:
        return text
    return text[:QUESTION_CHARS].rsplit(" ", 1)[0] + "…"
