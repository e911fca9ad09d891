"""Coverage gaps: unanswered questions grouped by what they ask, per workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.knowledge.embeddings import Embedder, HttpEmbedder, WordLlamaEmbedder
from bot.reports.gaps import Gap, coverage_gaps
from bot.store.db import Database
from tests.bot.reports.seed import CLIPPED, EXPORT, seed_desk
from tests.net import free_port

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAY = {"since": NOW - timedelta(days=1), "until": NOW}


def _groups(gaps: list[Gap]) -> list[tuple[int, str, tuple[int, ...]]]:
    return [(gap.count, gap.question, gap.tickets) for gap in gaps]


@pytest.mark.parametrize("embedder", [WordLlamaEmbedder(), None], ids=["vectors", "words"])
async def test_similar_questions_group_and_an_erased_one_is_left_out(
    db: Database, embedder: Embedder | None
) -> None:
    await seed_desk(db, NOW)
    gaps = await coverage_gaps(
        db.sessions, platform="slack", workspace_id="T_ACME", embedder=embedder, **DAY
    )
    # #6 abstained too, but its question was erased: it is nowhere.
    assert _groups(gaps) == [(3, EXPORT, (4, 5, 8)), (1, CLIPPED, (7,))]


async def test_another_workspace_sees_only_its_own_questions(db: Database) -> None:
    await seed_desk(db, NOW)
    gaps = await coverage_gaps(
        db.sessions, platform="slack", workspace_id="T_OTHER", embedder=None, **DAY
    )
    assert _groups(gaps) == [(1, "How do I export invoices to CSV?", (10,))]
    elsewhere = await coverage_gaps(
        db.sessions, platform="discord", workspace_id="T_ACME", embedder=None, **DAY
    )
    assert elsewhere == []


async def test_an_unreachable_embeddings_endpoint_falls_back_to_shared_words(
    db: Database,
) -> None:
    await seed_desk(db, NOW)
    down = HttpEmbedder(url=f"http://127.0.0.1:{free_port()}/v1", model="m")
    try:
        gaps = await coverage_gaps(db.sessions, embedder=down, limit=1, **DAY)
    finally:
        await down.close()
    assert _groups(gaps) == [(4, EXPORT, (4, 5, 8, 10))]  # every workspace, the top group
