"""The knowledge base: sources added and refreshed, documents listed and removed,
questions searched, and answers saved from resolved tickets.

Reading a source (files, pages) happens before any transaction; syncing it is one
transaction, so a failed read changes nothing and a reader never sees half a sync.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import KnowledgeSettings
from bot.knowledge.documents import Document, DocumentKind, Section
from bot.knowledge.embeddings import Embedder, HttpEmbedder, WordLlamaEmbedder
from bot.knowledge.fulltext import FullText, full_text_for
from bot.knowledge.index import SyncReport, put_document, sync_documents
from bot.knowledge.retrieval import Hit, Retriever
from bot.knowledge.sources import SourceError, read_source
from bot.knowledge.vectors import bump_revision
from bot.store.db import Database
from bot.store.kb_tables import SHARED, KbChunk, KbDocument, KbSource
from bot.store.models import utcnow

__all__ = [
    "SAVED_ANSWERS",
    "KnowledgeBase",
    "SourceError",
    "UnknownSource",
    "embedder_of",
    "forget_saved_answers",
    "knowledge_base",
    "source_location",
]

log = logging.getLogger(__name__)

SAVED_ANSWERS = "saved-answers"
"""The location of each workspace's source of answers saved from tickets."""

Reader = Callable[..., Awaitable[list[Document]]]


class UnknownSource(SourceError):
    """`kb remove` named a source that was never added."""


def source_location(location: str) -> str:
    """How a source is stored: a URL as given, a path made absolute."""
    if location.startswith(("http://", "https://")):
        return location
    return str(Path(location).expanduser().resolve())


COVERS_FOR = timedelta(seconds=10)
"""How long `covers` trusts what it read: every ticket asks it, and documents change
rarely. This instance's own changes count at once; another process's (`supportbot kb
add` beside the running bot) within this long."""


class KnowledgeBase:
    """Everything the bot knows from the team's docs and saved answers."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        full_text: FullText,
        embedder: Embedder | None,
        reader: Reader = read_source,
        clock: Callable[[], datetime] = utcnow,
        dense_floor: float = 0.2,
    ) -> None:
        self._sessions = sessions
        self._embedder = embedder
        self._reader = reader
        self._clock = clock
        self._covers: dict[str, tuple[bool, datetime]] = {}
        """Per workspace: whether it has documents, and when that was read."""
        self._covers_read = asyncio.Lock()
        self.retriever = Retriever(
            sessions=sessions, full_text=full_text, embedder=embedder, dense_floor=dense_floor
        )

    @property
    def embedder(self) -> Embedder | None:
        """The model that makes its vectors (None: full-text search only)."""
        return self._embedder

    async def add(
        self,
        location: str,
        *,
        workspace_id: str | None = None,
        base_url: str | None = None,
        max_pages: int = 200,
    ) -> SyncReport:
        """Add a folder, file, page or sitemap (or re-sync it if added before).

        Raises:
            SourceError: it cannot be read; nothing stored changes.
        """
        stored_at = source_location(location)
        documents = await self._reader(stored_at, base_url=base_url, max_pages=max_pages)
        async with self._sessions.begin() as session:
            source = await self._source(session, stored_at, workspace_id or SHARED)
            if source is None:
                source = KbSource(location=stored_at, workspace_id=workspace_id or SHARED)
                session.add(source)
            source.base_url, source.max_pages = base_url, max_pages
            await session.flush()
            report = await sync_documents(
                session, source, documents, embedder=self._embedder, now=self._clock()
            )
        self._covers.clear()
        return report

    async def refresh(self) -> list[SyncReport]:
        """Re-sync every docs source; one that cannot be read is reported and kept as is."""
        async with self._sessions() as session:
            sources = list(
                await session.scalars(
                    select(KbSource).where(KbSource.kind == DocumentKind.DOCS).order_by(KbSource.id)
                )
            )
        reports = []
        for source in sources:
            try:
                reports.append(
                    await self.add(
                        source.location,
                        workspace_id=source.workspace_id,
                        base_url=source.base_url,
                        max_pages=source.max_pages or 200,
                    )
                )
            except SourceError as exc:
                log.warning("kb.refresh.failed source_id=%s error=%s", source.id, exc)
                reports.append(SyncReport(location=f"{source.location} (not refreshed: {exc})"))
        return reports

    async def remove(self, location: str, *, workspace_id: str | None = None) -> int:
        """Remove a source and its documents; returns how many documents went.

        Raises:
            UnknownSource: no such source was added (for that workspace).
        """
        async with self._sessions.begin() as session:
            source = await self._source(session, source_location(location), workspace_id or SHARED)
            if source is None:
                source = await self._source(session, location, workspace_id or SHARED)
            if source is None:
                raise UnknownSource(f"no source {location!r}; `supportbot kb list` shows them")
            count = await session.scalar(
                select(func.count()).where(KbDocument.source_id == source.id)
            )
            await session.delete(source)
            await bump_revision(session)
        self._covers.clear()
        return int(count or 0)

    async def documents(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every document with its source, workspace and chunk count, by source then path."""
        chunks = select(func.count()).where(KbChunk.document_id == KbDocument.id).scalar_subquery()
        query = (
            select(KbDocument, KbSource.location, chunks)
            .join(KbSource, KbSource.id == KbDocument.source_id)
            .order_by(KbSource.id, KbDocument.location)
        )
        if kind is not None:
            query = query.where(KbDocument.kind == kind)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            {
                "source": source,
                "location": doc.location,
                "title": doc.title,
                "kind": doc.kind,
                "workspace": doc.workspace_id or None,
                "url": doc.url,
                "chunks": int(count),
                "updated_at": doc.updated_at.isoformat(),
            }
            for doc, source, count in rows
        ]

    async def covers(self, workspace_id: str | None) -> bool:
        """True when this workspace (or every workspace) has documents to answer from
        (as read within `COVERS_FOR`)."""
        known = self._known_covers(workspace_id)
        if known is not None:
            return known
        async with self._covers_read:  # a burst's tickets wait for one read, not each do it
            known = self._known_covers(workspace_id)
            if known is not None:
                return known
            now = self._clock()
            async with self._sessions() as session:
                found = bool(
                    await session.scalar(
                        select(
                            exists().where(
                                or_(
                                    KbDocument.workspace_id == SHARED,
                                    KbDocument.workspace_id == (workspace_id or SHARED),
                                )
                            )
                        )
                    )
                )
            self._covers[workspace_id or SHARED] = (found, now)
            return found

    def _known_covers(self, workspace_id: str | None) -> bool | None:
        known = self._covers.get(workspace_id or SHARED)
        if known is not None and timedelta(0) <= self._clock() - known[1] < COVERS_FOR:
            return known[0]
        return None

    async def search(
        self, queries: Sequence[str], *, workspace_id: str | None = None, limit: int = 5
    ) -> list[Hit]:
        """The best chunks for `queries` in this workspace and the shared docs."""
        return await self.retriever.search(queries, workspace_id=workspace_id, limit=limit)

    async def save_answer(
        self,
        *,
        ticket_id: int,
        workspace_id: str,
        requester_id: str,
        question: str,
        answer: str,
    ) -> str:
        """Store a lead-approved Q&A as a document of kind `ticket`; returns its location."""
        document = Document(
            location=f"ticket:{ticket_id}",
            title=question.strip()[:200],
            sections=(Section(headings=(), text=f"{question.strip()}\n\n{answer.strip()}"),),
            kind=DocumentKind.TICKET,
        )
        async with self._sessions.begin() as session:
            source = await self._source(session, SAVED_ANSWERS, workspace_id)
            if source is None:
                source = KbSource(
                    location=SAVED_ANSWERS, workspace_id=workspace_id, kind=DocumentKind.TICKET
                )
                session.add(source)
                await session.flush()
            row = await session.scalar(
                select(KbDocument).where(
                    KbDocument.source_id == source.id, KbDocument.location == document.location
                )
            )
            await put_document(
                session,
                source,
                document,
                row,
                embedder=self._embedder,
                now=self._clock(),
                link=(ticket_id, requester_id),
            )
            await bump_revision(session)
        self._covers.clear()
        return document.location

    async def _source(
        self, session: AsyncSession, location: str, workspace_id: str
    ) -> KbSource | None:
        return await session.scalar(
            select(KbSource).where(
                KbSource.location == location, KbSource.workspace_id == workspace_id
            )
        )


async def forget_saved_answers(session: AsyncSession, user_id: str) -> int:
    """Delete the saved answers drawn from tickets `user_id` asked (erasure)."""
    result = await session.execute(delete(KbDocument).where(KbDocument.requester_id == user_id))
    if result.rowcount:  # type: ignore[attr-defined]
        await bump_revision(session)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def embedder_of(settings: KnowledgeSettings) -> Embedder:
    """The embeddings endpoint the settings name, or the embedded model."""
    if settings.embeddings_url is None:
        return WordLlamaEmbedder()
    key = settings.embeddings_api_key
    return HttpEmbedder(
        url=settings.embeddings_url,
        model=settings.embeddings_model,
        api_key=key.get_secret_value() if key else None,
    )


def knowledge_base(
    settings: KnowledgeSettings, database: Database, *, clock: Callable[[], datetime] = utcnow
) -> KnowledgeBase:
    """The knowledge base for this database, with the settings' embedder and floors."""
    return KnowledgeBase(
        sessions=database.sessions,
        full_text=full_text_for(database.is_postgres),
        embedder=embedder_of(settings),
        clock=clock,
        dense_floor=settings.dense_floor,
    )
