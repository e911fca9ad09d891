"""Dense retrieval: every chunk's vector held in memory as one matrix, scored with numpy.

There is no vector extension on these databases, so vectors are stored as float32
blobs and loaded once per knowledge-base revision (a number bumped on every change),
then a question is one matrix-vector product: about 10 ms for 100,000 chunks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.kb_tables import SHARED, KbChunk, KbState

__all__ = ["VectorIndex", "bump_revision", "current_revision", "from_blob", "to_blob"]


def to_blob(vector: np.ndarray) -> bytes:
    """A vector as stored: little-endian float32 bytes."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    """A stored vector back as float32."""
    return np.frombuffer(blob, dtype="<f4")


async def current_revision(session: AsyncSession) -> int:
    """The knowledge base's revision (0 before anything was added)."""
    value = await session.scalar(select(KbState.revision).where(KbState.id == 1))
    return int(value or 0)


async def bump_revision(session: AsyncSession) -> None:
    """Mark the knowledge base changed, in the caller's transaction."""
    result = await session.execute(
        update(KbState).where(KbState.id == 1).values(revision=KbState.revision + 1)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(KbState(id=1, revision=1))


@dataclass(frozen=True)
class _Matrix:
    revision: int
    ids: np.ndarray
    workspaces: np.ndarray
    """Per row, an index into `codes`."""
    codes: dict[str, int]
    vectors: np.ndarray
    rows: dict[int, int]
    """Chunk id -> row."""


class VectorIndex:
    """Nearest chunks by cosine similarity, for one embedding model."""

    def __init__(self, model_name: str) -> None:
        self._model_name = model_name
        self._matrix: _Matrix | None = None
        self._lock = asyncio.Lock()

    async def nearest(
        self,
        session: AsyncSession,
        vector: np.ndarray,
        workspace_id: str | None,
        limit: int,
    ) -> list[tuple[int, float]]:
        """(chunk id, cosine) pairs of this workspace and the shared chunks, best first."""
        matrix = await self._current(session)
        if matrix.ids.size == 0 or vector.size != matrix.vectors.shape[1]:
            return []
        allowed = [matrix.codes[w] for w in {SHARED, workspace_id or SHARED} if w in matrix.codes]
        scores = matrix.vectors @ vector.astype(np.float32)
        scores = np.where(np.isin(matrix.workspaces, allowed), scores, -np.inf)
        count = min(limit, int(np.isfinite(scores).sum()))
        if count == 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top])]
        return [(int(matrix.ids[i]), float(scores[i])) for i in top]

    async def similarities(
        self, session: AsyncSession, vectors: np.ndarray, chunk_ids: list[int]
    ) -> dict[int, float]:
        """Each chunk's best cosine to any of `vectors` (chunks with no vector left out)."""
        matrix = await self._current(session)
        known = [(cid, matrix.rows[cid]) for cid in chunk_ids if cid in matrix.rows]
        if not known or vectors.shape[1] != matrix.vectors.shape[1]:
            return {}
        picked = matrix.vectors[[row for _, row in known]]
        best = (picked @ vectors.astype(np.float32).T).max(axis=1)
        return {cid: float(score) for (cid, _), score in zip(known, best, strict=True)}

    async def _current(self, session: AsyncSession) -> _Matrix:
        revision = await current_revision(session)
        if self._matrix is not None and self._matrix.revision == revision:
            return self._matrix
        async with self._lock:
            if self._matrix is None or self._matrix.revision != revision:
                self._matrix = await self._load(session, revision)
        return self._matrix

    async def _load(self, session: AsyncSession, revision: int) -> _Matrix:
        rows = (
            await session.execute(
                select(KbChunk.id, KbChunk.workspace_id, KbChunk.embedding).where(
                    KbChunk.embedding_model == self._model_name, KbChunk.embedding.is_not(None)
                )
            )
        ).all()
        codes: dict[str, int] = {}
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        workspaces = np.fromiter(
            (codes.setdefault(row[1], len(codes)) for row in rows), dtype=np.int32, count=len(rows)
        )
        vectors = (
            np.stack([from_blob(row[2]) for row in rows])
            if rows
            else np.zeros((0, 0), dtype=np.float32)
        )
        rows_of = {int(chunk_id): row for row, chunk_id in enumerate(ids)}
        return _Matrix(revision, ids, workspaces, codes, vectors, rows_of)
