"""The knowledge base's tables: sources, documents, chunks (with their vectors), the
drafts of saved answers, and what each answer retrieved.

Full-text search lives beside `kb_chunks` in each database's own engine and is built
by migration 0005 only: an FTS5 table kept in step by triggers on SQLite, a generated
`tsvector` column with a GIN index on PostgreSQL. Neither is a model column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, utcnow

__all__ = [
    "SHARED",
    "KbChunk",
    "KbDocument",
    "KbDraft",
    "KbSource",
    "KbState",
    "Retrieval",
    "is_search_object",
]

SHARED = ""
"""`workspace_id` of a source every workspace may use."""
FTS_TABLE = "kb_chunks_fts"
SEARCH_COLUMN = "search"
TICKET_FTS_TABLES = ("messages_fts", "tickets_fts")
"""Ticket search (migration 0011): FTS5 over messages.text and tickets.summary."""
SEARCHED_TABLES = frozenset({"kb_chunks", "messages", "tickets"})
"""Tables with a generated `search` tsvector on PostgreSQL (and its GIN index)."""


def is_search_object(name: str | None, type_: str, parent: str | None = None) -> bool:
    """True for the full-text objects built by hand in migrations 0005 and 0011 (the FTS5
    tables and their shadow tables, the tsvector columns and their indexes), which no
    model declares."""
    if name is None:
        return False
    if type_ == "table":
        return name.startswith((FTS_TABLE, *TICKET_FTS_TABLES))
    if type_ == "column":
        return parent in SEARCHED_TABLES and name == SEARCH_COLUMN
    return type_ == "index" and name in {f"ix_{table}_search" for table in SEARCHED_TABLES}


class KbSource(Base):
    """A folder, file, page or sitemap added with `kb add` (or the saved answers)."""

    __tablename__ = "kb_sources"
    __table_args__ = (UniqueConstraint("location", "workspace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location: Mapped[str] = mapped_column(String(2000))
    """An absolute folder or file path, a URL, or `tickets` for saved answers."""
    workspace_id: Mapped[str] = mapped_column(String(64), default=SHARED)
    kind: Mapped[str] = mapped_column(String(16), default="docs")
    base_url: Mapped[str | None] = mapped_column(String(2000))
    max_pages: Mapped[int | None]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[datetime | None]


class KbDocument(Base):
    """One page, file or saved answer of a source."""

    __tablename__ = "kb_documents"
    __table_args__ = (
        UniqueConstraint("source_id", "location"),
        Index("ix_kb_documents_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("kb_sources.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(String(64), default=SHARED)
    kind: Mapped[str] = mapped_column(String(16), default="docs")
    location: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    hash: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    requester_id: Mapped[str | None] = mapped_column(String(64))
    """For a saved answer: who asked, so erasing them removes it."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbChunk(Base):
    """A retrievable piece of a document, with its embedding."""

    __tablename__ = "kb_chunks"
    __table_args__ = (
        Index("ix_kb_chunks_document_id", "document_id"),
        Index("ix_kb_chunks_workspace_id", "workspace_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("kb_documents.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(String(64), default=SHARED)
    ordinal: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    tokens: Mapped[int] = mapped_column(default=0)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    """float32 values, L2-normalised, from `embedding_model`."""
    embedding_model: Mapped[str | None] = mapped_column(String(128))


class KbState(Base):
    """One row: a revision bumped on every change, so each process knows when to
    reload its in-memory vectors."""

    __tablename__ = "kb_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)


class KbDraft(Base):
    """The Q&A drafted when a ticket was resolved, waiting for a lead to save it."""

    __tablename__ = "kb_drafts"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Retrieval(Base):
    """What one answer (or suggestion) found in the knowledge base: no message text."""

    __tablename__ = "retrievals"
    __table_args__ = (Index("ix_retrievals_ticket_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(16))  # answered | abstained | suggested
    hits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """[{"location", "title", "heading", "chunk_id", "score"}], best first."""
    context_tokens: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
