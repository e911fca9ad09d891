"""`supportbot report` as an operator runs it, on a seeded database (SQLite, or
PostgreSQL when SUPPORTBOT_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bot.store.db import Database
from tests.bot.reports.seed import ACME_LINES, CLIPPED, EXPORT, seed_desk
from tests.cli_runner import Outcome, clean_env, run_cli


async def _report(db: Database, cwd: Path, *args: str) -> Outcome:
    return await run_cli("report", *args, cwd=cwd, env=clean_env(DATABASE_URL=db.url))


def _ok(outcome: Outcome) -> str:
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "Traceback" not in outcome.stderr
    return outcome.stdout


async def test_one_workspace_reads_as_the_lead_would_count_it(db: Database, tmp_path: Path) -> None:
    await seed_desk(db, datetime.now(UTC))
    lines = _ok(await _report(db, tmp_path, "--workspace", "T_ACME")).splitlines()
    assert lines[0].startswith("Tickets opened ")
    assert lines[0].endswith("UTC, workspace T_ACME")
    assert lines[1:7] == ACME_LINES
    assert lines[7:] == [
        "Coverage gaps (asked, not in the docs):",
        f'  3 tickets: "{EXPORT}" (#4, #5, #8)',
        f'  1 ticket: "{CLIPPED}" (#7)',
    ]


async def test_json_covers_every_workspace_in_the_window(db: Database, tmp_path: Path) -> None:
    await seed_desk(db, datetime.now(UTC))
    report = json.loads(_ok(await _report(db, tmp_path, "--since", "30d", "--json")))
    assert report["workspace"] is None
    assert (report["tickets"], report["resolved"], report["deflected"]) == (10, 5, 4)
    assert report["deflection_rate"] == 0.8
    assert report["first_response"] == {"tickets": 6, "median_seconds": 105, "p90_seconds": 600}
    assert report["resolution"] == {"tickets": 5, "median_seconds": 3600, "p90_seconds": 14400}
    cost = report["cost_per_resolved_ticket"]
    assert {route: Decimal(c["per_ticket_usd"]) for route, c in cost.items()} == {
        "answer": Decimal("0.0020"),
        "human": Decimal("0.0010"),
        "reasoner": Decimal("0.0100"),
    }
    assert {route: (c["resolved"], Decimal(c["spend_usd"])) for route, c in cost.items()} == {
        "answer": (3, Decimal("0.0060")),
        "human": (1, Decimal("0.0010")),
        "reasoner": (1, Decimal("0.0100")),
    }
    assert report["satisfaction"] == {"share_good": 0.5, "good": 2, "bad": 2, "unrated": 1}
    assert report["triage"] == {"accuracy": 0.75, "fallback_rate": 0.2, "relabelled": 2}
    assert [(g["count"], g["question"], g["tickets"]) for g in report["coverage_gaps"]] == [
        (4, EXPORT, [4, 5, 8, 10]),
        (1, CLIPPED, [7]),
    ]


async def test_a_short_window_and_a_bad_one(db: Database, tmp_path: Path) -> None:
    await seed_desk(db, datetime.now(UTC))
    report = json.loads(_ok(await _report(db, tmp_path, "--since", "90m", "--json")))
    assert (report["tickets"], report["resolved"], report["deflected"]) == (1, 1, 1)  # #10
    assert report["satisfaction"] == {"share_good": 0.0, "good": 0, "bad": 1, "unrated": 0}

    bad = await _report(db, tmp_path, "--since", "forever")
    assert bad.code == 2
    assert "7d" in bad.stderr
    assert "Traceback" not in bad.stderr


async def test_an_empty_database_has_no_figures_yet(db: Database, tmp_path: Path) -> None:
    lines = _ok(await _report(db, tmp_path)).splitlines()
    assert lines[1:] == [
        "Resolved: 0 of 0 tickets; deflection n/a (0 resolved with no person)",
        "Time to first response: n/a",
        "Time to resolution: n/a",
        "Cost per resolved ticket: n/a",
        "Satisfaction: n/a good (0 good, 0 bad); 0 resolved ticket(s) not rated",
        "Fallback rate: n/a; triage accuracy: n/a (0 relabelled by leads)",
        "Coverage gaps: none (no question went unanswered for lack of docs)",
    ]
