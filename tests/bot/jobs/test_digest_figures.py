"""The daily digest carries the support lead's figures and the coverage gaps of its
own workspace only."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.jobs.digest import run_digest
from bot.store.db import Database
from tests.bot.harness import Clock, RecordingOutlet, running_app
from tests.bot.reports.seed import ACME_LINES, CLIPPED, EXPORT, seed_desk
from tests.settle import wait_delivered

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_digest_lists_the_figures_and_gaps_of_its_workspace(db: Database) -> None:
    await seed_desk(db, NOW)
    outlet = RecordingOutlet()
    # Offline (no model key); the knowledge base's embedded model groups the questions.
    async with running_app(db, None, outlet, clock=Clock(NOW)) as app:
        assert await run_digest(app.jobs) == 1  # T_OTHER has no leads channel
        await wait_delivered(app)
    (digest,) = [r.text for r in outlet.sent if r.kind == "notify" and "Daily digest" in r.text]
    lines = digest.splitlines()
    for line in ACME_LINES:
        assert line in lines
    gaps = lines[lines.index("Coverage gaps (asked, not in the docs):") + 1 :]
    assert gaps == [f'  3 tickets: "{EXPORT}" (#4, #5, #8)', f'  1 ticket: "{CLIPPED}" (#7)']
    assert "#10" not in digest  # T_OTHER's question
    assert "#6" not in digest  # erased
    assert "#11" not in digest  # 40 days old
