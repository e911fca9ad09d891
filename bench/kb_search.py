"""Knowledge-base search latency at scale: `KnowledgeBase.search` over a synthetic
corpus (default 100,000 chunks), against a naive stand-in on the same data.

The corpus is support-docs-like text (topic and product words, stopwords, a Zipf tail
of filler words; seeded) in ~20-chunk documents across four sources and three
workspaces, bulk-inserted (the FTS5 triggers / the PostgreSQL generated column index
it) and embedded with the embedded WordLlama model. The naive stand-in is what a first
version would do per query: read every vector and score it row by row, and find the
words with `LIKE '%word%'`. Absolute times drift on a shared machine; the ratio holds.

    .venv/bin/python bench/kb_search.py [--chunks 100000] [--queries 200]
        [--database postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, or_, select, text
from sqlalchemy.engine import make_url

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.embeddings import WordLlamaEmbedder
from bot.knowledge.fulltext import full_text_for, query_words
from bot.knowledge.retrieval import fuse
from bot.knowledge.vectors import VectorIndex, bump_revision, from_blob, to_blob
from bot.store.db import Database
from bot.store.kb_tables import SHARED, KbChunk, KbDocument, KbSource
from bot.store.migrate import upgrade

TARGET_MS = 100.0
BATCH = 2000
Row = dict[str, Any]
SOURCES = [  # (location, workspace, share of the documents)
    ("/srv/docs/product", SHARED, 0.4),
    ("https://help.example.com/sitemap.xml", SHARED, 0.2),
    ("/srv/acme/runbooks", "T01ACME", 0.2),
    ("https://wiki.globex.example.com/support", "T02GLOBEX", 0.2),
]
TOPICS = [
    line.split()
    for line in """sso saml okta azure identity provider login redirect certificate metadata
    invoice billing plan upgrade downgrade refund card payment receipt vat subscription
    webhook endpoint payload signature retry delivery secret event timeout https
    api token key rate limit request response pagination sdk version deprecation
    export csv download report schedule filter columns spreadsheet archive backup
    notification email digest alert mute channel mention push unsubscribe bounce
    role member guest permission access invite owner seat transfer group
    integration jira github salesforce zapier connect sync mapping field oauth
    password reset factor mfa session device lockout audit log encryption
    ios android app offline install crash battery camera store tablet
    import upload attachment file size format pdf image storage quota
    dashboard chart widget metric query latency slow cache refresh graph""".splitlines()
]
COMMON = """account settings workspace click select page option button menu enable disable
    configure error message support team customer user data update save change new open
    screen tab list view link admin console browser issue problem steps check""".split()  # noqa: SIM905
STOP = "the to and of a in is for that you it with on can your this be if or are as".split()  # noqa: SIM905
VERBS = ["set up", "configure", "reset", "fix", "enable", "turn off", "change", "connect"]
HEADINGS = ["Overview", "Before you start", "Steps", "Troubleshooting", "Limits", "FAQ"]
SHAPES = [
    "How do I {v} {a} {b}?", "Why is my {a} {b} not working?", "{a} {b} error when I try to {v} it",
    "Can I {v} the {a} for our {b}?", "{a} keeps failing after we {v} {b}, any idea?",
]  # fmt: skip


def corpus(rng: random.Random, chunks: int) -> tuple[list[Row], list[Row]]:
    """(document rows, chunk rows without vectors), 5 to 35 chunks a document."""
    syllables = ["ka", "lo", "mi", "ren", "tu", "sa", "vor", "ne", "pla", "dri", "xo", "bel"]
    filler = ["".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(3000)]
    tail = [200 / (rank * 8.6) for rank in range(1, len(filler) + 1)]  # Zipf, ~30% of words
    docs: list[Row] = []
    rows: list[Row] = []
    while len(rows) < chunks:
        source = rng.choices(range(len(SOURCES)), weights=[s[2] for s in SOURCES])[0]
        topic, other = rng.sample(TOPICS, 2)
        title = f"How to {rng.choice(VERBS)} {' '.join(rng.sample(topic, 2))}".capitalize()
        doc_id, workspace = len(docs) + 1, SOURCES[source][1]
        docs.append(
            {"id": doc_id, "source_id": source + 1, "workspace_id": workspace,
             "location": f"doc-{doc_id}.md", "title": title, "hash": f"{doc_id:064x}"}
        )  # fmt: skip
        pool = topic + other + COMMON + STOP + filler
        weights = [8] * len(topic) + [2] * len(other) + [1] * len(COMMON) + [12] * len(STOP)
        cum = list(accumulate(weights + tail))
        for ordinal in range(min(rng.randint(5, 35), chunks - len(rows))):
            words = rng.choices(pool, cum_weights=cum, k=rng.randint(150, 400))
            cuts = range(0, len(words), 12)
            body = ". ".join(" ".join(words[i : i + 12]).capitalize() for i in cuts) + "."
            rows.append(
                {"id": len(rows) + 1, "document_id": doc_id, "workspace_id": workspace,
                 "ordinal": ordinal, "title": title, "heading": rng.choice(HEADINGS),
                 "text": body, "tokens": len(body) // 4}
            )  # fmt: skip
    return docs, rows


def questions(rng: random.Random, count: int) -> list[tuple[str, str | None]]:
    """Questions, each with the workspace asking (None: the shared docs only)."""
    asked = []
    for _ in range(count):
        a, b = rng.sample(rng.choice(TOPICS), 2)
        shape = rng.choice(SHAPES).format(v=rng.choice(VERBS), a=a, b=b)
        asked.append((shape[0].upper() + shape[1:], rng.choice([None, "T01ACME", "T02GLOBEX"])))
    return asked


async def build(db: Database, embedder: WordLlamaEmbedder, chunks: int) -> dict[str, float]:
    """Fill the knowledge base; returns the seconds each step took."""
    began = time.perf_counter()
    docs, rows = corpus(random.Random(7), chunks)
    took = {"generate": time.perf_counter() - began, "embed": 0.0, "insert": 0.0}
    began = time.perf_counter()
    async with db.sessions.begin() as session:
        await session.execute(
            insert(KbSource),
            [{"id": i + 1, "location": s[0], "workspace_id": s[1]} for i, s in enumerate(SOURCES)],
        )
        for start in range(0, len(docs), BATCH):
            await session.execute(insert(KbDocument), docs[start : start + BATCH])
    took["insert"] += time.perf_counter() - began
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        began = time.perf_counter()
        texts = [f"{r['title']}\n{r['heading']}\n{r['text']}" for r in batch]
        vectors = await embedder.embed(texts)
        took["embed"] += time.perf_counter() - began
        for row, vector in zip(batch, vectors, strict=True):
            row.update(embedding=to_blob(vector), embedding_model=embedder.name)
        began = time.perf_counter()
        async with db.sessions.begin() as session:
            await session.execute(insert(KbChunk), batch)
        took["insert"] += time.perf_counter() - began
    began = time.perf_counter()
    async with db.sessions.begin() as session:
        await bump_revision(session)
    if db.is_postgres:  # what autovacuum does soon after a bulk load
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    took["insert"] += time.perf_counter() - began
    return took


async def naive_search(
    db: Database, embedder: WordLlamaEmbedder, asked: tuple[str, str | None], seen: list[float]
) -> list[int]:
    """A first version: every vector read and scored row by row, words found by LIKE."""
    question, workspace = asked
    allowed = {SHARED, workspace or SHARED}
    vector = (await embedder.embed([question]))[0]
    words = query_words(question)
    mine = KbChunk.workspace_id.in_(allowed)
    like = or_(*(KbChunk.text.ilike(f"%{word}%") for word in words))
    async with db.sessions() as session:
        every = await session.execute(select(KbChunk.id, KbChunk.embedding).where(mine))
        scored = [(float(from_blob(blob) @ vector), cid) for cid, blob in every]
        dense = [cid for score, cid in sorted(scored, reverse=True)[:40] if score >= 0.2]
        matches = (await session.execute(select(KbChunk.id, KbChunk.text).where(mine, like))).all()
        seen.append(len(matches) / len(scored))
        counted = sorted((-sum(t.lower().count(w) for w in words), cid) for cid, t in matches)
        scores = fuse([[cid for _, cid in counted[:40]], dense])
        best = sorted(scores, key=lambda cid: -scores[cid])[:5]
        await session.execute(select(KbChunk).where(KbChunk.id.in_(best)))
    return best


async def every_match_ranked(
    db: Database, asked: list[tuple[str, str | None]]
) -> tuple[list[float], float]:
    """Full-text with every word matching (no common-word split: every chunk holding any
    word is a candidate), timed, and how much of its top 10 the split search shares."""
    split = full_text_for(db.is_postgres)
    whole = type(split)(min_chunks=sys.maxsize)  # never "large": every word matches
    times, shared = [], []
    async with db.sessions() as session:
        for question, workspace in asked:
            mine = {cid for cid, _ in await split.search(session, question, workspace, 10)}
            began = time.perf_counter()
            exact = await whole.search(session, question, workspace, 40)
            times.append((time.perf_counter() - began) * 1000)
            top = {cid for cid, _ in exact[:10]}
            shared.append(len(top & mine) / len(top) if top else 1.0)
    return times, statistics.mean(shared)


async def timed(calls: list[Callable[[], Awaitable[object]]]) -> list[float]:
    """Milliseconds each call took."""
    times = []
    for call in calls:
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    return times


def pct(times: list[float], q: int) -> float:
    return float(np.percentile(times, q))


def stopwatch(owner: object, name: str, label: str, into: dict[str, list[float]]) -> None:
    """Time every call of `owner.name` (an async method) into `into[label]`."""
    method = getattr(owner, name)

    async def timed_method(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await method(*args, **kwargs)
        finally:
            into[label].append((time.perf_counter() - began) * 1000)

    setattr(owner, name, timed_method)


async def pg_admin(url: str, statement: str) -> None:
    """CREATE/DROP DATABASE on the server's maintenance database."""
    import asyncpg

    target = make_url(url).set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(target.render_as_string(hide_password=False))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def run(args: argparse.Namespace, url: str) -> float:
    db = Database(url)
    await upgrade(db)
    embedder = WordLlamaEmbedder()
    took = await build(db, embedder, args.chunks)
    kb = KnowledgeBase(
        sessions=db.sessions, full_text=full_text_for(db.is_postgres), embedder=embedder
    )
    asked = questions(random.Random(11), args.queries)
    index, probe = VectorIndex(embedder.name), (await embedder.embed(["password reset"]))[0]
    async with db.sessions() as session:  # a fresh index: the matrix load alone
        load = await timed([lambda: index.nearest(session, probe, None, 40)])
    first = await timed([lambda: kb.search(["How do I reset my password?"], workspace_id=None)])
    stages: dict[str, list[float]] = defaultdict(list)
    retriever = kb.retriever  # stage timings reach into the retriever's parts
    for owner, name, label in [
        (retriever._vectors, "current", "  matrix (revision)"),
        (retriever._full_text, "search", "  full-text query"),
        (retriever, "_dense", "  dense, beside it"),
        (retriever, "_hits", "  load hits (ORM)"),
    ]:
        stopwatch(owner, name, label, stages)
    fast = await timed([partial(kb.search, [q], workspace_id=ws) for q, ws in asked])
    every, agreement = await every_match_ranked(db, asked)
    seen: list[float] = []
    naive = [partial(naive_search, db, embedder, item, seen) for item in asked[: args.naive]]
    slow = await timed(naive)
    await db.dispose()
    kind = "PostgreSQL" if db.is_postgres else "SQLite"
    print(f"\n{kind}, {args.chunks:,} chunks, {len(fast)} queries (naive stand-in: {len(slow)})")
    print(f"  corpus generated      {took['generate']:8.1f} s")
    print(f"  embedded              {took['embed']:8.1f} s  ({args.chunks / took['embed']:,.0f}/s)")
    print(f"  inserted + indexed    {took['insert']:8.1f} s")
    print(f"  build total           {sum(took.values()):8.1f} s")
    print(f"  matrix load           {load[0]:8.0f} ms (fresh VectorIndex, first query)")
    print(f"  first search          {first[0]:8.0f} ms (warm-up: loads the search's matrix)")
    print(f"  query words matched   {statistics.median(seen):8.0%} of chunks (median, by LIKE)")
    print(f"  {'':21} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    rows = [("KnowledgeBase.search", fast), *stages.items(), ("naive stand-in", slow)]
    rows.insert(len(rows) - 1, ("full-text, no split", every))
    for name, t in rows:
        print(f"  {name:21} {pct(t, 50):8.1f} {pct(t, 95):8.1f} {max(t):8.1f}")
    print(f"  full-text top 10 shared with the unsplit query: {agreement:.0%} (mean)")
    ratio = (pct(slow, 50) / pct(fast, 50), pct(slow, 95) / pct(fast, 95))
    print(f"  speed-up vs naive     {ratio[0]:7.0f}x {ratio[1]:7.0f}x")
    p95 = pct(fast, 95)
    verdict = "PASS" if p95 <= TARGET_MS else "FAIL"
    print(f"kb search p95 = {p95:.1f} ms at {args.chunks} chunks (target <= 100 ms): {verdict}")
    return p95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--naive", type=int, default=10, help="queries for the naive stand-in")
    parser.add_argument("--database", help="a PostgreSQL URL (default: a temp SQLite file)")
    parser.add_argument("--check", action="store_true", help="exit 1 when p95 > 100 ms")
    args = parser.parse_args()
    if args.database:
        name = f"supportbot_bench_{uuid.uuid4().hex[:12]}"
        url = make_url(args.database).set(database=name).render_as_string(hide_password=False)
        asyncio.run(pg_admin(args.database, f'CREATE DATABASE "{name}"'))
        try:
            p95 = asyncio.run(run(args, url))
        finally:
            asyncio.run(pg_admin(args.database, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        with tempfile.TemporaryDirectory() as folder:
            p95 = asyncio.run(run(args, f"sqlite+aiosqlite:///{Path(folder) / 'kb.db'}"))
    return 1 if args.check and p95 > TARGET_MS else 0


if __name__ == "__main__":
    sys.exit(main())
