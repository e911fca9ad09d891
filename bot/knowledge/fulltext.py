"""Full-text search in the database's own engine, behind one interface.

SQLite: the FTS5 table `kb_chunks_fts` ranked by bm25 (title, heading and text
weighted). PostgreSQL: the generated `search` tsvector, matched with
`websearch_to_tsquery` and ranked by `ts_rank_cd`. Both take a person's question as
it was written: its words are OR-ed (a question rarely repeats a page's every word),
and nothing in it is read as query syntax.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.kb_tables import SHARED

__all__ = ["FullText", "PostgresFullText", "SqliteFullText", "full_text_for", "query_words"]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words that match nearly every page; a question is mostly made of them.
_STOPWORDS = frozenset(
    """a about after all also am an and any are as at be because been before being but by
    can cannot could did do does doing dont for from get got had has have having he her here
    hi hello hey him his how i id if im in into is it its ive just let me my myself no nor not
    now of off on once only or other our out over own please same she should so some still
    such than thank thanks that the their them then there these they this those through to
    too under until up us very was we were what when where which while who whom why will with
    would you your yours yet anyone someone help""".split()  # noqa: SIM905 (a list is unreadable)
)
_MAX_WORDS = 32


def query_words(query: str) -> list[str]:
    """The searchable words of a question: lower-cased, stopwords dropped, in order, once."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if word not in _STOPWORDS and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
    return list(seen)[:_MAX_WORDS]


class FullText:
    """Ranks chunks of one workspace (and the shared ones) for a question."""

    async def search(
        self, session: AsyncSession, query: str, workspace_id: str | None, limit: int
    ) -> list[tuple[int, float]]:
        """(chunk id, engine score) pairs, best first; higher scores are better."""
        raise NotImplementedError


class SqliteFullText(FullText):
    """FTS5 with bm25: title counts 5x, the heading path 3x, the text once."""

    async def search(
        self, session: AsyncSession, query: str, workspace_id: str | None, limit: int
    ) -> list[tuple[int, float]]:
        words = query_words(query)
        if not words:
            return []
        # Each word quoted: FTS5 syntax (NEAR, column filters, "-") in a question is text.
        match = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
        rows = await session.execute(
            text(
                "SELECT f.rowid, bm25(kb_chunks_fts, 5.0, 3.0, 1.0) AS rank "
                "FROM kb_chunks_fts AS f JOIN kb_chunks AS c ON c.id = f.rowid "
                "WHERE kb_chunks_fts MATCH :match AND c.workspace_id IN (:shared, :workspace) "
                "ORDER BY rank LIMIT :limit"
            ),
            {"match": match, "shared": SHARED, "workspace": workspace_id or SHARED, "limit": limit},
        )
        return [(int(chunk_id), -float(rank)) for chunk_id, rank in rows]  # bm25: lower is better


class PostgresFullText(FullText):
    """tsvector with websearch_to_tsquery and ts_rank_cd (weights A title, B heading, C text)."""

    async def search(
        self, session: AsyncSession, query: str, workspace_id: str | None, limit: int
    ) -> list[tuple[int, float]]:
        words = query_words(query)
        if not words:
            return []
        # websearch_to_tsquery never fails on user input; " or " makes the words alternatives.
        rows = await session.execute(
            text(
                "SELECT c.id, ts_rank_cd(c.search, q) AS rank "
                "FROM kb_chunks AS c, websearch_to_tsquery('english', :query) AS q "
                "WHERE c.search @@ q AND c.workspace_id IN (:shared, :workspace) "
                "ORDER BY rank DESC, c.id LIMIT :limit"
            ),
            {
                "query": " or ".join(words),
                "shared": SHARED,
                "workspace": workspace_id or SHARED,
                "limit": limit,
            },
        )
        return [(int(chunk_id), float(rank)) for chunk_id, rank in rows]


def full_text_for(is_postgres: bool) -> FullText:
    """The engine for this database."""
    return PostgresFullText() if is_postgres else SqliteFullText()
