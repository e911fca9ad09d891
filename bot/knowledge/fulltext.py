"""Full-text search in the database's own engine, behind one interface.

SQLite: the FTS5 table `kb_chunks_fts` ranked by bm25 (title, heading and text
weighted). PostgreSQL: the generated `search` tsvector, matched with
`websearch_to_tsquery` and ranked by `ts_rank_cd`. Both take a person's question as
it was written: its words are OR-ed (a question rarely repeats a page's every word),
and nothing in it is read as query syntax.

At scale, ranking is the cost: every matching chunk is scored. So a large knowledge
base matches on a question's distinctive words only and ranks by all of them (the
"common terms" query of Lucene-based engines): a word found in more than 20% of the
chunks ("configure", "error") still counts in the rank of a chunk that holds a
distinctive word, but no longer makes every other chunk a candidate. Each engine's own
statistics say which words are common (FTS5 counts; PostgreSQL's `pg_stats`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.knowledge.vectors import current_revision
from bot.store.kb_tables import SHARED

__all__ = [
    "FullText",
    "PostgresFullText",
    "SqliteFullText",
    "Terms",
    "full_text_for",
    "plan_terms",
    "query_words",
]

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


COMMON_SHARE = 0.2
"""A word in more than this share of the chunks is common: it ranks, it does not match."""
MIN_CHUNKS = 2000
"""Below this many chunks every match is ranked: it is quick, and in a small knowledge
base every word of a page's subject is in a large share of it."""


@dataclass(frozen=True)
class Terms:
    """What a search matches on, and what it ranks by."""

    match: list[str]
    every: bool
    """True: a chunk must hold every `match` word; False: any one of them."""
    rank: list[str]


def plan_terms(
    words: list[str], shares: dict[str, float | None] | None, common_share: float = COMMON_SHARE
) -> Terms:
    """Split a question's words by how common they are. `shares` holds each word's share
    of the chunks (None: not known, so taken as distinctive; 0: in none); no shares at
    all means the knowledge base is small and every word matches."""
    if shares is None:
        return Terms(match=words, every=False, rank=words)
    distinctive = [w for w in words if (s := shares.get(w)) is None or 0 < s <= common_share]
    common = [w for w in words if (shares.get(w) or 0) > common_share]
    if distinctive:
        return Terms(match=distinctive, every=False, rank=distinctive + common)
    # Only common words ("how do I change my settings"): a chunk must hold them all.
    return Terms(match=common, every=True, rank=common)


class FullText:
    """Ranks chunks of one workspace (and the shared ones) for a question."""

    _POOL = 10
    """A first, cheaper pass keeps `_POOL` x limit chunks for the exact ranking."""

    def __init__(self, *, min_chunks: int = MIN_CHUNKS, common_share: float = COMMON_SHARE):
        self._min_chunks = min_chunks
        self._common_share = common_share

    async def search(
        self, session: AsyncSession, query: str, workspace_id: str | None, limit: int
    ) -> list[tuple[int, float]]:
        """(chunk id, engine score) pairs, best first; higher scores are better."""
        words = query_words(query)
        if not words:
            return []
        terms = plan_terms(words, await self._shares(session, words), self._common_share)
        if not terms.match:
            return []
        return await self._ranked(session, terms, workspace_id or SHARED, limit)

    async def _shares(
        self, session: AsyncSession, words: list[str]
    ) -> dict[str, float | None] | None:
        """Each word's share of the chunks, or None for a small knowledge base."""
        raise NotImplementedError

    async def _ranked(
        self, session: AsyncSession, terms: Terms, workspace_id: str, limit: int
    ) -> list[tuple[int, float]]:
        raise NotImplementedError


def _quoted(words: list[str], joiner: str) -> str:
    # Each word quoted: FTS5 syntax (NEAR, column filters, "-") in a question is text.
    return joiner.join('"' + word.replace('"', '""') + '"' for word in words)


class SqliteFullText(FullText):
    """FTS5 with bm25: title counts 5x, the heading path 3x, the text once."""

    _CACHE_WORDS = 20_000

    def __init__(self, *, min_chunks: int = MIN_CHUNKS, common_share: float = COMMON_SHARE) -> None:
        super().__init__(min_chunks=min_chunks, common_share=common_share)
        self._revision = -1
        self._chunks = 0
        self._counts: dict[str, int] = {}

    async def _shares(
        self, session: AsyncSession, words: list[str]
    ) -> dict[str, float | None] | None:
        revision = await current_revision(session)
        if revision != self._revision or len(self._counts) > self._CACHE_WORDS:
            self._chunks = int(await session.scalar(text("SELECT count(*) FROM kb_chunks")) or 0)
            self._revision, self._counts = revision, {}
        if self._chunks < self._min_chunks:
            return None
        # Counted by what MATCH finds (FTS5's own tokenizer and stemmer), up to just past
        # the share that makes a word common: past it, the exact count changes nothing.
        cap = int(self._chunks * self._common_share) + 1
        for word in words:
            if word not in self._counts:
                found = await session.scalar(
                    text(
                        "SELECT count(*) FROM (SELECT 1 FROM kb_chunks_fts"
                        " WHERE kb_chunks_fts MATCH :word LIMIT :cap)"
                    ),
                    {"word": _quoted([word], ""), "cap": cap},
                )
                self._counts[word] = int(found or 0)
        return {word: self._counts[word] / self._chunks for word in words}

    async def _ranked(
        self, session: AsyncSession, terms: Terms, workspace_id: str, limit: int
    ) -> list[tuple[int, float]]:
        match = _quoted(terms.match, " AND " if terms.every else " OR ")
        if len(terms.rank) > len(terms.match):  # bm25 scores every phrase of the expression
            match = f"({match}) AND ({_quoted(terms.rank, ' OR ')})"
        params = {"match": match, "shared": SHARED, "workspace": workspace_id, "limit": limit}
        # Ranked inside FTS5 first, then filtered by workspace: a join per match would
        # cost more than the ranking itself.
        pool = self._POOL * limit
        rows = (
            await session.execute(
                text(
                    "WITH ranked AS MATERIALIZED ("
                    " SELECT rowid AS id, bm25(kb_chunks_fts, 5.0, 3.0, 1.0) AS rank"
                    " FROM kb_chunks_fts WHERE kb_chunks_fts MATCH :match"
                    " ORDER BY rank LIMIT :pool) "
                    "SELECT r.id, r.rank, (SELECT count(*) FROM ranked) FROM ranked AS r "
                    "JOIN kb_chunks AS c ON c.id = r.id "
                    "WHERE c.workspace_id IN (:shared, :workspace) ORDER BY r.rank LIMIT :limit"
                ),
                {**params, "pool": pool},
            )
        ).all()
        if len(rows) < limit and (not rows or rows[0][2] == pool):
            # The pool was all other workspaces' chunks: rank this workspace's matches.
            rows = (
                await session.execute(
                    text(
                        "SELECT f.rowid, bm25(kb_chunks_fts, 5.0, 3.0, 1.0) AS rank "
                        "FROM kb_chunks_fts AS f JOIN kb_chunks AS c ON c.id = f.rowid "
                        "WHERE kb_chunks_fts MATCH :match "
                        "AND c.workspace_id IN (:shared, :workspace) ORDER BY rank LIMIT :limit"
                    ),
                    params,
                )
            ).all()
        return [(int(row[0]), -float(row[1])) for row in rows]  # bm25: lower is better


class PostgresFullText(FullText):
    """tsvector with websearch_to_tsquery and ts_rank_cd (weights A title, B heading, C text)."""

    async def _shares(
        self, session: AsyncSession, words: list[str]
    ) -> dict[str, float | None] | None:
        # The planner's own statistics: ANALYZE keeps the most common lexemes of the
        # tsvector column with the share of rows holding each.
        rows = (
            await session.execute(
                text(
                    "WITH lexemes AS (SELECT w.word, l.lexeme FROM unnest(CAST(:words AS text[]))"
                    " AS w(word) LEFT JOIN LATERAL unnest(tsvector_to_array("
                    "to_tsvector('english', w.word))) AS l(lexeme) ON true), "
                    "common AS (SELECT e.lexeme, e.share FROM pg_stats AS p, unnest("
                    "CAST(CAST(p.most_common_elems AS text) AS text[]), p.most_common_elem_freqs)"
                    " AS e(lexeme, share) WHERE p.schemaname = current_schema()"
                    " AND p.tablename = 'kb_chunks' AND p.attname = 'search') "
                    "SELECT x.word, x.lexeme, c.share, (SELECT reltuples FROM pg_class"
                    " WHERE oid = CAST('kb_chunks' AS regclass)) "
                    "FROM lexemes AS x LEFT JOIN common AS c ON c.lexeme = x.lexeme"
                ),
                {"words": words},
            )
        ).all()
        if not rows or (rows[0][3] or 0) < self._min_chunks:
            return None
        shares: dict[str, float | None] = {}
        for word, lexeme, share in (row[:3] for row in rows):
            if lexeme is None:  # a stopword to PostgreSQL: it matches nothing
                shares.setdefault(word, 0.0)
            elif share is None:  # rarer than every lexeme the statistics keep
                shares[word] = None
            elif word not in shares or (shares[word] or 0) < share:
                shares[word] = float(share)
        return shares

    async def _ranked(
        self, session: AsyncSession, terms: Terms, workspace_id: str, limit: int
    ) -> list[tuple[int, float]]:
        # websearch_to_tsquery never fails on user input; " or " makes words alternatives.
        # The knowledge base is read from memory: a random page costs about a sequential
        # one, which lets the planner use the GIN index for a large share of the rows.
        await session.execute(text("SET LOCAL random_page_cost = 1.1"))
        # ts_rank_cd (cover density) costs about 4 us a chunk and ts_rank a quarter of
        # that: ts_rank picks the pool, ts_rank_cd orders it.
        rows = await session.execute(
            text(
                "WITH pool AS MATERIALIZED ("
                " SELECT c.id, c.search FROM kb_chunks AS c,"
                " websearch_to_tsquery('english', :match) AS m,"
                " websearch_to_tsquery('english', :rank) AS r"
                " WHERE c.search @@ m AND c.workspace_id IN (:shared, :workspace)"
                " ORDER BY ts_rank(c.search, r) DESC LIMIT :pool) "
                "SELECT p.id, ts_rank_cd(p.search, r) AS rank "
                "FROM pool AS p, websearch_to_tsquery('english', :rank) AS r "
                "ORDER BY rank DESC, p.id LIMIT :limit"
            ),
            {
                "match": (" " if terms.every else " or ").join(terms.match),
                "rank": " or ".join(terms.rank),
                "shared": SHARED,
                "workspace": workspace_id,
                "limit": limit,
                "pool": self._POOL * limit,
            },
        )
        return [(int(chunk_id), float(rank)) for chunk_id, rank in rows]


def full_text_for(is_postgres: bool) -> FullText:
    """The engine for this database."""
    return PostgresFullText() if is_postgres else SqliteFullText()
