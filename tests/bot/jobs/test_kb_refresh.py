"""The daily knowledge refresh: changed pages re-indexed once a day, when asked for."""

from __future__ import annotations

from pathlib import Path

from bot.jobs.kb_refresh import run_kb_refresh
from bot.store.db import Database
from tests.bot.harness import RecordingOutlet, running_app
from tests.bot.knowledge.conftest import write_docs


async def test_the_daily_refresh_follows_the_docs_once_a_day(db: Database, tmp_path: Path) -> None:
    root = write_docs(tmp_path / "docs", {"plans.md": "# Plans\n\nThe Team plan costs $19.\n"})
    async with running_app(db, None, RecordingOutlet(), start=False) as app:
        await app.knowledge.add(str(root))
        (root / "plans.md").write_text("# Plans\n\nThe Team plan now costs $24 a seat.\n")
        (root / "new.md").write_text("# Seats\n\nSeats are billed monthly.\n")
        assert await run_kb_refresh(app.jobs) == 2  # one updated, one added
        assert await run_kb_refresh(app.jobs) == 0  # today's period is taken
        hits = await app.knowledge.search(["how much is the team plan"])
    assert "$24" in hits[0].text


async def test_no_refresh_when_the_setting_is_off(db: Database, tmp_path: Path) -> None:
    root = write_docs(tmp_path / "docs", {"plans.md": "# Plans\n\nThe Team plan costs $19.\n"})
    async with running_app(db, None, RecordingOutlet(), start=False, kb_refresh_daily=False) as app:
        await app.knowledge.add(str(root))
        (root / "plans.md").write_text("# Plans\n\nThe Team plan now costs $24 a seat.\n")
        assert await run_kb_refresh(app.jobs) == 0
        hits = await app.knowledge.search(["how much is the team plan"])
    assert "$19" in hits[0].text
