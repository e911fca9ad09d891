"""A knowledge base on the test database (SQLite, or PostgreSQL when configured),
with the embedded model loaded once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.embeddings import WordLlamaEmbedder
from bot.knowledge.fulltext import full_text_for
from bot.store.db import Database

EXAMPLE_DOCS = Path(__file__).parents[3] / "examples" / "kb" / "docs"


@pytest.fixture(scope="session")
def embedder() -> WordLlamaEmbedder:
    """The embedded WordLlama model (loaded from its wheel, never downloaded)."""
    return WordLlamaEmbedder()


@pytest.fixture
def knowledge(db: Database, embedder: WordLlamaEmbedder) -> KnowledgeBase:
    """An empty knowledge base."""
    return KnowledgeBase(
        sessions=db.sessions, full_text=full_text_for(db.is_postgres), embedder=embedder
    )


def write_docs(root: Path, pages: dict[str, str]) -> Path:
    """Write Markdown pages under `root` (path -> text); return `root`."""
    for name, body in pages.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return root
