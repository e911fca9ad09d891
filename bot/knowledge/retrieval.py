"""Hybrid retrieval: full-text and dense rankings for each query, fused by
reciprocal-rank fusion (RRF), with a floor below which nothing counts as found.

Each query (the ticket's text, plus the search queries triage suggested) gives two
ranked lists; a chunk's fused score is the sum of 1 / (k + rank) over the lists it
appears in, divided by the best score possible, so 1.0 means "first everywhere". A
dense match only enters its list above a similarity floor: a question about the
weather has nearest chunks too, but none near enough to count.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.knowledge.embeddings import Embedder, EmbeddingFailed
from bot.knowledge.fulltext import FullText
from bot.knowledge.vectors import Matrix, VectorIndex
from bot.store.kb_tables import KbChunk, KbDocument
from bot.store.sqlite_inline import offloaded

__all__ = ["Hit", "Retriever", "fuse"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk, with what is needed to quote and cite it."""

    chunk_id: int
    location: str
    title: str
    heading: str
    url: str | None
    text: str
    score: float
    kind: str = "docs"
    tokens: int = 0

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of `kb search --json`."""
        return {
            "source": self.location,
            "title": self.title,
            "heading": self.heading,
            "url": self.url,
            "score": round(self.score, 4),
            "text": self.text,
        }


def fuse(rankings: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion of ranked id lists, scaled so 1.0 is first in every list."""
    if not rankings:
        return {}
    scores: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] += 1.0 / (k + rank)
    best = len(rankings) / (k + 1)
    return {chunk_id: score / best for chunk_id, score in scores.items()}


class Retriever:
    """Finds the chunks that best answer a question, in one workspace and the shared docs."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        full_text: FullText,
        embedder: Embedder | None,
        candidates: int = 40,
        dense_floor: float = 0.2,
        per_document: int = 2,
        rrf_k: int = 60,
    ) -> None:
        self._sessions = sessions
        self._full_text = full_text
        self._embedder = embedder
        self._vectors = VectorIndex(embedder.name) if embedder else None
        self._candidates = candidates
        self._dense_floor = dense_floor
        self._per_document = per_document
        self._rrf_k = rrf_k

    async def search(
        self, queries: Sequence[str], *, workspace_id: str | None, limit: int = 5
    ) -> list[Hit]:
        """The best `limit` chunks for `queries`, best first (at most `per_document` of
        one document); the first query is the question itself and counts double."""
        queries = [q for q in (q.strip() for q in queries) if q]
        if not queries:
            return []
        # Full-text ranking may take tens of milliseconds: off the event loop's thread.
        with offloaded():
            async with self._sessions() as session:
                matrix = await self._vectors.current(session) if self._vectors else None
                rankings, vectors = await self._rankings(session, queries, workspace_id, matrix)
                scores = fuse(rankings, self._rrf_k)
                if vectors is not None and matrix is not None and scores:
                    closeness = matrix.similarities(vectors, list(scores))
                    scores = {cid: s * _evidence(closeness.get(cid)) for cid, s in scores.items()}
                return await self._hits(session, scores, limit)

    async def _rankings(
        self,
        session: AsyncSession,
        queries: list[str],
        workspace_id: str | None,
        matrix: Matrix | None,
    ) -> tuple[list[list[int]], np.ndarray | None]:
        # Dense ranking is CPU work (embedding, a matrix product) and full-text is the
        # database's: they run side by side, so a search costs the slower of the two.
        dense = asyncio.ensure_future(self._dense(queries, workspace_id, matrix))
        try:
            rankings = []
            for query in queries:
                found = await self._full_text.search(session, query, workspace_id, self._candidates)
                rankings.append([chunk_id for chunk_id, _ in found])
        finally:
            dense_rankings, vectors = await dense
        rankings.extend(dense_rankings)
        # The question as written weighs as much as all the suggested queries together.
        if len(queries) > 1:
            extra = len(queries) - 1
            rankings += [rankings[0]] * extra + [rankings[len(queries)]] * extra
        return rankings, vectors

    async def _dense(
        self, queries: list[str], workspace_id: str | None, matrix: Matrix | None
    ) -> tuple[list[list[int]], np.ndarray | None]:
        """Dense rankings per query, and the query vectors (None when there are none:
        the fused score is then rank-based alone)."""
        if self._embedder is None or matrix is None:
            return [[] for _ in queries], None
        try:
            vectors = await self._embedder.embed(queries)
        except EmbeddingFailed as exc:  # full-text alone still finds most pages
            log.warning("kb.embeddings.failed error=%s", exc)
            return [[] for _ in queries], None
        found = await asyncio.to_thread(
            lambda: [matrix.nearest(vector, workspace_id, self._candidates) for vector in vectors]
        )
        floor = self._dense_floor
        return [[cid for cid, cosine in pairs if cosine >= floor] for pairs in found], vectors

    async def _hits(self, session: AsyncSession, scores: dict[int, float], limit: int) -> list[Hit]:
        best = sorted(scores, key=lambda cid: (-scores[cid], cid))[: limit * 4 + 10]
        if not best:
            return []
        rows = await session.execute(
            select(KbChunk, KbDocument)
            .join(KbDocument, KbDocument.id == KbChunk.document_id)
            .where(KbChunk.id.in_(best))
        )
        found = {chunk.id: (chunk, document) for chunk, document in rows}
        hits: list[Hit] = []
        per_document: dict[int, int] = defaultdict(int)
        for chunk_id in best:
            if chunk_id not in found or len(hits) == limit:
                continue
            chunk, document = found[chunk_id]
            if per_document[document.id] >= self._per_document:
                continue
            per_document[document.id] += 1
            hits.append(_hit(chunk, document, scores[chunk_id]))
        return hits


EVIDENCE_LOW, EVIDENCE_HIGH = 0.1, 0.35
"""Similarities between which a passage goes from barely related to clearly about the
question (the embedded model's scale: unrelated text scores about 0.05, a paraphrase 0.4)."""


def _evidence(cosine: float | None) -> float:
    """How much a rank-based score counts, by how close the passage is in meaning: a
    word match in an unrelated page must not look like an answer."""
    if cosine is None:
        return 0.5  # no vector for it (its embedding failed): neither proof nor disproof
    return min(1.0, max(0.0, (cosine - EVIDENCE_LOW) / (EVIDENCE_HIGH - EVIDENCE_LOW)))


def _hit(chunk: KbChunk, document: KbDocument, score: float) -> Hit:
    return Hit(
        chunk_id=chunk.id,
        location=document.location,
        title=document.title,
        heading=chunk.heading,
        url=document.url,
        text=chunk.text,
        score=score,
        kind=document.kind,
        tokens=chunk.tokens,
    )
