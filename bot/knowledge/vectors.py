"""Dense retrieval: every chunk's vector held in memory as one matrix, scored with numpy.

There is no vector extension on these databases, so vectors are stored as float32
blobs and loaded once per knowledge-base revision (a number bumped on every change),
then a question is one matrix-vector product: about 10 ms for 100,000 chunks.
"""

from __future__ import annotations

import asyncio

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.kb_tables import SHARED, KbChunk, KbState

__all__ = ["Matrix", "VectorIndex", "bump_revision", "current_revision", "from_blob", "to_blob"]


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


class Matrix:
    """Every chunk's vector of one revision, as one float32 matrix; pure numpy, so its
    methods may run in a worker thread while the event loop waits on the database."""

    def __init__(self, revision: int, ids: np.ndarray, workspaces: list[str], vectors: np.ndarray):
        self.revision = revision
        self._ids = ids
        self._codes: dict[str, int] = {}
        self._workspaces = np.fromiter(
            (self._codes.setdefault(w, len(self._codes)) for w in workspaces),
            dtype=np.int32,
            count=len(workspaces),
        )
        self._vectors = vectors
        self._rows = {int(chunk_id): row for row, chunk_id in enumerate(ids)}
        self._masks: dict[str, np.ndarray] = {}

    def nearest(
        self, vector: np.ndarray, workspace_id: str | None, limit: int
    ) -> list[tuple[int, float]]:
        """(chunk id, cosine) pairs of this workspace and the shared chunks, best first."""
        if self._ids.size == 0 or vector.size != self._vectors.shape[1]:
            return []
        allowed = self._mask(workspace_id or SHARED)
        scores = self._vectors @ vector.astype(np.float32)
        if allowed is not None:
            scores[~allowed] = -np.inf
        count = min(limit, scores.size if allowed is None else int(allowed.sum()))
        if count <= 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top])]
        return [(int(self._ids[i]), float(scores[i])) for i in top]

    def similarities(self, vectors: np.ndarray, chunk_ids: list[int]) -> dict[int, float]:
        """Each chunk's best cosine to any of `vectors` (chunks with no vector left out)."""
        known = [(cid, self._rows[cid]) for cid in chunk_ids if cid in self._rows]
        if not known or vectors.shape[1] != self._vectors.shape[1]:
            return {}
        picked = self._vectors[[row for _, row in known]]
        best = (picked @ vectors.astype(np.float32).T).max(axis=1)
        return {cid: float(score) for (cid, _), score in zip(known, best, strict=True)}

    def _mask(self, workspace_id: str) -> np.ndarray | None:
        """Rows a workspace may see (None: all of them); kept, as a question costs one
        matrix product and this would cost another pass over every row."""
        if len(self._codes.keys() - {SHARED, workspace_id}) == 0:
            return None
        if workspace_id not in self._masks:
            allowed = [self._codes[w] for w in {SHARED, workspace_id} if w in self._codes]
            self._masks[workspace_id] = np.isin(self._workspaces, allowed)
        return self._masks[workspace_id]


class VectorIndex:
    """Nearest chunks by cosine similarity, for one embedding model."""

    def __init__(self, model_name: str) -> None:
        self._model_name = model_name
        self._matrix: Matrix | None = None
        self._lock = asyncio.Lock()

    async def current(self, session: AsyncSession) -> Matrix:
        """The matrix of the knowledge base's current revision (loaded when it changed)."""
        revision = await current_revision(session)
        if self._matrix is not None and self._matrix.revision == revision:
            return self._matrix
        async with self._lock:
            if self._matrix is None or self._matrix.revision != revision:
                self._matrix = await self._load(session, revision)
        return self._matrix

    async def nearest(
        self,
        session: AsyncSession,
        vector: np.ndarray,
        workspace_id: str | None,
        limit: int,
    ) -> list[tuple[int, float]]:
        """(chunk id, cosine) pairs of this workspace and the shared chunks, best first."""
        return (await self.current(session)).nearest(vector, workspace_id, limit)

    async def similarities(
        self, session: AsyncSession, vectors: np.ndarray, chunk_ids: list[int]
    ) -> dict[int, float]:
        """Each chunk's best cosine to any of `vectors` (chunks with no vector left out)."""
        return (await self.current(session)).similarities(vectors, chunk_ids)

    async def _load(self, session: AsyncSession, revision: int) -> Matrix:
        rows = (
            await session.execute(
                select(KbChunk.id, KbChunk.workspace_id, KbChunk.embedding).where(
                    KbChunk.embedding_model == self._model_name, KbChunk.embedding.is_not(None)
                )
            )
        ).all()
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        vectors = (
            np.stack([from_blob(row[2]) for row in rows])
            if rows
            else np.zeros((0, 0), dtype=np.float32)
        )
        return Matrix(revision, ids, [row[1] for row in rows], vectors)
