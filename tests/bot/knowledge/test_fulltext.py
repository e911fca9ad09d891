"""Full-text search on the test database's own engine (FTS5 or tsvector): common words
rank but do not match, workspaces stay apart, and a small knowledge base ranks every
match."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text

from bot.knowledge.fulltext import FullText, Terms, full_text_for, plan_terms
from bot.store.db import Database
from bot.store.kb_tables import SHARED, KbChunk, KbDocument, KbSource


@pytest.mark.parametrize(
    ("shares", "expected"),
    [
        (None, Terms(match=["invoice", "configure"], every=False, rank=["invoice", "configure"])),
        (
            {"invoice": 0.05, "configure": 0.6},
            Terms(match=["invoice"], every=False, rank=["invoice", "configure"]),
        ),
        (
            {"invoice": None, "configure": 0.6},
            Terms(match=["invoice"], every=False, rank=["invoice", "configure"]),
        ),
        (
            {"invoice": 0.0, "configure": 0.6},
            Terms(match=["configure"], every=True, rank=["configure"]),
        ),
        ({"invoice": 0.0, "configure": 0.0}, Terms(match=[], every=True, rank=[])),
    ],
)
def test_common_words_rank_and_distinctive_words_match(
    shares: dict[str, float | None] | None, expected: Terms
) -> None:
    assert plan_terms(["invoice", "configure"], shares) == expected


PAGES = {  # chunk id -> (workspace, text)
    1: (SHARED, "Configure the invoice layout and configure the invoice footer."),
    2: (SHARED, "Your invoice is sent on the first day of the month."),
    3: (SHARED, "Configure single sign-on for your team."),
    4: (SHARED, "Configure webhooks to receive events."),
    5: (SHARED, "Configure notifications per channel."),
    6: (SHARED, "Configure roles and permissions for guests."),
    7: (SHARED, "Configure the mobile app's offline mode."),
    8: ("T0OTHER", "Invoice invoice invoice: another team's billing notes."),
}


async def _add_pages(db: Database, pages: dict[int, tuple[str, str]]) -> None:
    async with db.sessions.begin() as session:
        await session.execute(insert(KbSource), [{"id": 1, "location": "/docs"}])
        await session.execute(
            insert(KbDocument),
            [
                {"id": cid, "source_id": 1, "workspace_id": ws, "location": f"{cid}.md",
                 "title": f"Page {cid}", "hash": f"{cid:064x}"}
                for cid, (ws, _) in pages.items()
            ],
        )  # fmt: skip
        await session.execute(
            insert(KbChunk),
            [
                {"id": cid, "document_id": cid, "workspace_id": ws, "ordinal": 0,
                 "title": f"Page {cid}", "heading": "", "text": body, "tokens": 10}
                for cid, (ws, body) in pages.items()
            ],
        )  # fmt: skip
    if db.is_postgres:  # the statistics autovacuum would gather after a load
        async with db.sessions.begin() as session:
            await session.execute(text("ANALYZE kb_chunks"))


async def _search(db: Database, engine: FullText, question: str, limit: int = 10) -> list[int]:
    async with db.sessions() as session:
        return [cid for cid, _ in await engine.search(session, question, None, limit)]


async def test_a_common_word_ranks_a_chunk_but_does_not_make_it_a_candidate(db: Database) -> None:
    await _add_pages(db, PAGES)
    # As if the knowledge base were large, and a word in half of it common.
    engine = type(full_text_for(db.is_postgres))(min_chunks=1, common_share=0.5)

    found = await _search(db, engine, "How do I configure my invoice?")

    # "configure" is in 6 of 8 chunks, "invoice" in 3: only chunks with "invoice" are
    # candidates, and the one holding both words ranks first. Another workspace's chunk
    # never shows.
    assert found == [1, 2]


async def test_a_question_of_common_words_only_needs_them_all(db: Database) -> None:
    await _add_pages(db, {**PAGES, 9: (SHARED, "Configure the mobile widget.")})
    engine = type(full_text_for(db.is_postgres))(min_chunks=1, common_share=0.1)

    found = await _search(db, engine, "configure mobile")

    assert sorted(found) == [7, 9]


async def test_a_small_knowledge_base_ranks_every_match(db: Database) -> None:
    await _add_pages(db, PAGES)

    found = await _search(db, full_text_for(db.is_postgres), "How do I configure my invoice?")

    assert found[:2] == [1, 2]
    assert sorted(found) == [1, 2, 3, 4, 5, 6, 7]


async def test_a_workspace_finds_its_own_chunks_behind_many_of_another(db: Database) -> None:
    many = {cid: ("T0OTHER", "Refund refund refund policy.") for cid in range(1, 40)}
    await _add_pages(db, {**many, 40: ("T0MINE", "A refund takes five days.")})
    engine = full_text_for(db.is_postgres)

    async with db.sessions() as session:
        found = await engine.search(session, "refund", "T0MINE", 2)

    assert [cid for cid, _ in found] == [40]
