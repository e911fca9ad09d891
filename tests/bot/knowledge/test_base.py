"""Adding, re-syncing, listing, removing and searching sources, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.knowledge.base import COVERS_FOR, KnowledgeBase, UnknownSource, forget_saved_answers
from bot.knowledge.embeddings import WordLlamaEmbedder
from bot.knowledge.fulltext import full_text_for
from bot.knowledge.sources import SourceError
from bot.store.db import Database
from bot.store.kb_tables import KbChunk, KbDocument
from tests.bot.knowledge.conftest import write_docs

PAGES = {
    "billing.md": "---\ntitle: Billing\n---\n# Billing\n\n## Refunds\n\nAnnual plans can be "
    "refunded within 30 days of purchase. Monthly plans are not refunded.\n\n## Invoices\n\n"
    "Download invoices as PDF under Settings, then Billing, then Invoices.\n",
    "guides/setup.md": "# Setting up\n\nInstall the desktop client and sign in with your "
    "workspace address. The mobile app syncs within a minute.\n",
    "account.md": "# Account\n\n## Password reset\n\nUse the Forgot password link on the "
    "sign-in page; the reset email expires after one hour.\n",
}


async def _count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_folder_becomes_documents_with_relative_locations_and_links(
    knowledge: KnowledgeBase, tmp_path: Path
) -> None:
    root = write_docs(tmp_path / "docs", PAGES)
    report = await knowledge.add(str(root), base_url="https://docs.example.com")
    assert sorted(report.added) == ["account.md", "billing.md", "guides/setup.md"]
    rows = {row["location"]: row for row in await knowledge.documents()}
    assert rows["guides/setup.md"]["url"] == "https://docs.example.com/guides/setup"
    assert rows["billing.md"]["title"] == "Billing"
    assert all(row["chunks"] >= 1 and row["kind"] == "docs" for row in rows.values())


async def test_search_finds_the_page_and_reports_its_heading(
    knowledge: KnowledgeBase, tmp_path: Path
) -> None:
    await knowledge.add(str(write_docs(tmp_path / "docs", PAGES)))
    hits = await knowledge.search(["can I get my money back on a yearly subscription?"])
    assert hits[0].location == "billing.md"
    assert hits[0].heading.startswith("Billing")  # small sections merge under their top heading
    assert "refunded within 30 days" in hits[0].text
    assert hits[0].as_dict().keys() == {"source", "title", "heading", "url", "score", "text"}
    assert hits == sorted(hits, key=lambda h: -h.score)


async def test_readding_updates_only_what_changed_and_drops_what_disappeared(
    knowledge: KnowledgeBase, tmp_path: Path, db: Database
) -> None:
    root = write_docs(tmp_path / "docs", PAGES)
    await knowledge.add(str(root))
    async with db.sessions() as session:
        setup_chunk = await session.scalar(
            select(KbChunk.id).join(KbDocument).where(KbDocument.location == "guides/setup.md")
        )
    (root / "account.md").unlink()
    (root / "billing.md").write_text("# Billing\n\nRefunds are now handled by resellers.\n")
    report = await knowledge.refresh()
    assert (report[0].updated, report[0].removed, report[0].unchanged) == (
        ["billing.md"],
        ["account.md"],
        1,
    )
    async with db.sessions() as session:
        kept = await session.scalar(
            select(KbChunk.id).join(KbDocument).where(KbDocument.location == "guides/setup.md")
        )
    assert kept == setup_chunk  # an unchanged page is not re-indexed
    assert [h.location for h in await knowledge.search(["password reset email"])] != ["account.md"]
    hits = await knowledge.search(["resellers refunds"])
    assert hits[0].location == "billing.md"
    assert "resellers" in hits[0].text


async def test_remove_drops_the_source_and_its_search_entries(
    knowledge: KnowledgeBase, tmp_path: Path, db: Database
) -> None:
    root = write_docs(tmp_path / "docs", PAGES)
    await knowledge.add(str(root))
    assert await knowledge.remove(str(root)) == 3
    assert await _count(db, KbChunk) == 0
    assert await knowledge.search(["refund invoices password"]) == []
    with pytest.raises(UnknownSource):
        await knowledge.remove(str(root))


async def test_a_source_for_one_workspace_is_never_retrieved_in_another(
    knowledge: KnowledgeBase, tmp_path: Path
) -> None:
    await knowledge.add(str(write_docs(tmp_path / "acme", PAGES)), workspace_id="T_ACME")
    shared = write_docs(
        tmp_path / "shared",
        {"status.md": "# Status\n\nOutages are posted on the status page within five minutes.\n"},
    )
    await knowledge.add(str(shared))
    acme = await knowledge.search(["refund annual plan outage"], workspace_id="T_ACME", limit=10)
    other = await knowledge.search(["refund annual plan outage"], workspace_id="T_OTHER", limit=10)
    assert {h.location for h in acme} >= {"billing.md", "status.md"}
    assert {h.location for h in other} == {"status.md"}
    assert await knowledge.covers("T_OTHER")  # the shared docs cover everyone
    assert {h.location for h in await knowledge.search(["refund"], workspace_id=None)} <= {
        "status.md"
    }


async def test_an_unreadable_source_changes_nothing(
    knowledge: KnowledgeBase, tmp_path: Path, db: Database
) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        await knowledge.add(str(tmp_path / "missing"))
    assert await _count(db, KbDocument) == 0
    assert not await knowledge.covers("T_ACME")


async def test_query_syntax_in_a_question_is_just_text(
    knowledge: KnowledgeBase, tmp_path: Path
) -> None:
    await knowledge.add(str(write_docs(tmp_path / "docs", PAGES)))
    for odd in ['"refund', "refund AND OR NOT", "title:refund*", "-refund NEAR(x y)"]:
        hits = await knowledge.search([odd])  # never raises: the words are searched as words
        assert hits[0].location == "billing.md", odd
    for empty in ["''", "???", "   "]:
        assert await knowledge.search([empty]) == []


async def test_saved_answers_are_searchable_and_forgotten_with_their_requester(
    knowledge: KnowledgeBase, db: Database
) -> None:
    location = await knowledge.save_answer(
        ticket_id=None,  # type: ignore[arg-type]  # a purged ticket's answer still erases
        workspace_id="T_ACME",
        requester_id="U_ALICE",
        question="How do I move my workspace to the EU region?",
        answer="Open Settings, then Data residency, and pick Frankfurt.",
    )
    hits = await knowledge.search(["move data to europe region"], workspace_id="T_ACME")
    assert hits[0].location == location
    assert hits[0].kind == "ticket"
    assert await knowledge.documents("ticket")
    async with db.sessions.begin() as session:
        assert await forget_saved_answers(session, "U_ALICE") == 1
    assert await knowledge.search(["move data to europe region"], workspace_id="T_ACME") == []


async def test_covers_sees_its_own_changes_at_once_and_another_processs_within_a_while(
    db: Database, embedder: WordLlamaEmbedder, tmp_path: Path
) -> None:
    now = [datetime(2026, 12, 3, 12, 0, tzinfo=UTC)]

    def base() -> KnowledgeBase:
        return KnowledgeBase(
            sessions=db.sessions,
            full_text=full_text_for(db.is_postgres),
            embedder=embedder,
            clock=lambda: now[0],
        )

    bot, cli = base(), base()  # the running bot, and `supportbot kb` beside it
    assert not await bot.covers("T_ACME")
    await cli.add(str(write_docs(tmp_path / "acme", PAGES)), workspace_id="T_ACME")
    assert await cli.covers("T_ACME")  # its own change, at once
    assert not await bot.covers("T_ACME")  # read a moment ago: trusted a while
    now[0] += COVERS_FOR
    assert await bot.covers("T_ACME")
    await bot.remove(str(tmp_path / "acme"), workspace_id="T_ACME")
    assert not await bot.covers("T_ACME")
