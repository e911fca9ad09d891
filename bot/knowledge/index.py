"""Writing the knowledge base: one source's documents synced in (changed documents
re-chunked and re-embedded, unchanged ones left alone, vanished ones dropped)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.knowledge.chunking import chunk_document
from bot.knowledge.documents import Chunk, Document
from bot.knowledge.embeddings import Embedder, EmbeddingFailed
from bot.knowledge.vectors import bump_revision, to_blob
from bot.store.kb_tables import KbChunk, KbDocument, KbSource

__all__ = ["SyncReport", "estimate_tokens", "put_document", "sync_documents"]


@dataclass
class SyncReport:
    """What one sync of a source changed."""

    location: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks: int = 0
    without_vectors: int = 0
    """Chunks stored for full-text search only (the embeddings endpoint failed)."""

    def line(self) -> str:
        """One line for the operator."""
        text = (
            f"{self.location}: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {self.unchanged} unchanged ({self.chunks} chunks)"
        )
        if self.without_vectors:
            text += f"; {self.without_vectors} chunks without vectors (full-text only)"
        return text


def estimate_tokens(text: str) -> int:
    """About how many model tokens `text` costs (4 characters a token, as for English)."""
    return math.ceil(len(text) / 4)


def _embedding_text(document: Document, chunk: Chunk) -> str:
    return "\n".join(part for part in (document.title, chunk.heading, chunk.text) if part)


async def sync_documents(
    session: AsyncSession,
    source: KbSource,
    documents: Sequence[Document],
    *,
    embedder: Embedder | None,
    now: datetime,
) -> SyncReport:
    """Make `source`'s stored documents exactly `documents`, in the caller's transaction."""
    report = SyncReport(location=source.location)
    stored = {
        doc.location: doc
        for doc in (
            await session.scalars(select(KbDocument).where(KbDocument.source_id == source.id))
        )
    }
    for document in documents:
        row = stored.pop(document.location, None)
        outcome = await put_document(
            session, source, document, row, embedder=embedder, now=now, report=report
        )
        if outcome == "unchanged":
            report.unchanged += 1
        else:
            (report.added if outcome == "added" else report.updated).append(document.location)
    for location, row in stored.items():
        await session.delete(row)
        report.removed.append(location)
    source.refreshed_at = now
    if report.added or report.updated or report.removed:
        await session.flush()
        await bump_revision(session)
    return report


async def put_document(
    session: AsyncSession,
    source: KbSource,
    document: Document,
    row: KbDocument | None,
    *,
    embedder: Embedder | None,
    now: datetime,
    link: tuple[int, str] | None = None,
    report: SyncReport | None = None,
) -> str:
    """Store one document of `source` (`row`: its stored version, if any); returns
    "added", "updated" or "unchanged". The caller bumps the revision."""
    report = report if report is not None else SyncReport(location=source.location)
    same = row is not None and row.hash == document.hash and row.url == document.url
    if same and not await _lacks_vectors(session, row, embedder):  # type: ignore[arg-type]
        return "unchanged"
    outcome = "updated" if row is not None else "added"
    if row is None:
        row = KbDocument(source_id=source.id, location=document.location)
        session.add(row)
    else:
        await session.execute(delete(KbChunk).where(KbChunk.document_id == row.id))
    row.workspace_id, row.kind, row.title = source.workspace_id, document.kind, document.title
    row.url, row.hash, row.updated_at = document.url, document.hash, now
    row.ticket_id, row.requester_id = link if link else (None, None)
    await session.flush()
    await _add_chunks(session, row, document, embedder, report)
    return outcome


async def _lacks_vectors(session: AsyncSession, row: KbDocument, embedder: Embedder | None) -> bool:
    """True when some chunk has no vector from `embedder` (the endpoint was down when it
    was stored, or the embeddings model changed since): it is re-embedded."""
    if embedder is None:
        return False
    missing = await session.scalar(
        select(KbChunk.id)
        .where(
            KbChunk.document_id == row.id,
            or_(KbChunk.embedding_model.is_(None), KbChunk.embedding_model != embedder.name),
        )
        .limit(1)
    )
    return missing is not None


async def _add_chunks(
    session: AsyncSession,
    row: KbDocument,
    document: Document,
    embedder: Embedder | None,
    report: SyncReport,
) -> None:
    chunks = chunk_document(document)
    vectors = None
    if embedder is not None and chunks:
        try:
            vectors = await embedder.embed([_embedding_text(document, c) for c in chunks])
        except EmbeddingFailed:
            report.without_vectors += len(chunks)
    for index, chunk in enumerate(chunks):
        session.add(
            KbChunk(
                document_id=row.id,
                workspace_id=row.workspace_id,
                ordinal=chunk.ordinal,
                title=document.title,
                heading=chunk.heading,
                text=chunk.text,
                tokens=estimate_tokens(chunk.text),
                embedding=to_blob(vectors[index]) if vectors is not None else None,
                embedding_model=embedder.name if vectors is not None and embedder else None,
            )
        )
    report.chunks += len(chunks)
