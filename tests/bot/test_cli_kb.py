"""`supportbot kb ...` as an operator runs it: real subprocesses on the test database
(SQLite, or PostgreSQL when SUPPORTBOT_TEST_DATABASE_URL is set), the example docs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.knowledge.sources import SUPPORTED_SUFFIXES
from bot.store.db import Database
from tests.cli_runner import Outcome, clean_env, run_cli

EXAMPLES = Path(__file__).parents[2] / "examples" / "kb"
DOCS = EXAMPLES / "docs"
QUESTIONS = EXAMPLES / "questions.jsonl"
BASE_URL = "https://docs.ledgerly.example"
HIT_KEYS = {"source", "title", "heading", "url", "score", "text"}


def _doc_files() -> set[str]:
    """The example pages, counted from the folder: visible files of a supported type."""
    return {
        path.relative_to(DOCS).as_posix()
        for path in DOCS.rglob("*")
        if path.is_file()
        and path.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(DOCS).parts)
    }


async def _kb(db: Database, cwd: Path, *args: str) -> Outcome:
    return await run_cli("kb", *args, cwd=cwd, env=clean_env(DATABASE_URL=db.url))


def _ok(outcome: Outcome) -> str:
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "Traceback" not in outcome.stderr
    return outcome.stdout


def _one_line_error(outcome: Outcome) -> str:
    """The single line of a refused command (exit non-zero, no traceback)."""
    assert outcome.code != 0, outcome.stdout
    assert "Traceback" not in outcome.stdout + outcome.stderr
    (line,) = outcome.stderr.strip().splitlines()
    return line


async def test_adding_the_docs_lists_searches_and_removes_them(
    db: Database, tmp_path: Path
) -> None:
    pages = _doc_files()
    assert "billing/invoices-and-refunds.md" in pages
    added = _ok(await _kb(db, tmp_path, "add", str(DOCS), "--base-url", BASE_URL))
    assert f"{len(pages)} added" in added
    again = _ok(await _kb(db, tmp_path, "add", str(DOCS), "--base-url", BASE_URL))
    assert "0 added, 0 updated, 0 removed" in again
    assert f"{len(pages)} unchanged" in again

    listed = json.loads(_ok(await _kb(db, tmp_path, "list", "--json")))
    assert {row["location"] for row in listed} == pages
    assert len(listed) == len(pages)
    assert all(row["url"].startswith(f"{BASE_URL}/") for row in listed)
    by_location = {row["location"]: row for row in listed}
    refunds = by_location["billing/invoices-and-refunds.md"]
    assert refunds["url"] == f"{BASE_URL}/billing/invoices-and-refunds"
    assert refunds["kind"] == "docs"
    assert refunds["chunks"] >= 1
    assert json.loads(_ok(await _kb(db, tmp_path, "list", "--kind", "ticket", "--json"))) == []

    hits = json.loads(_ok(await _kb(db, tmp_path, "search", "I was charged twice", "--json")))
    assert hits
    assert all(hit.keys() == HIT_KEYS for hit in hits)
    assert [hit["score"] for hit in hits] == sorted((hit["score"] for hit in hits), reverse=True)
    assert hits[0]["source"] == "billing/invoices-and-refunds.md"
    assert hits[0]["url"] == f"{BASE_URL}/billing/invoices-and-refunds"
    two = json.loads(
        _ok(await _kb(db, tmp_path, "search", "I was charged twice", "--limit", "2", "--json"))
    )
    assert 1 <= len(two) <= 2

    removed = _ok(await _kb(db, tmp_path, "remove", str(DOCS)))
    assert f"({len(pages)} document(s))" in removed
    gone = _ok(await _kb(db, tmp_path, "search", "I was charged twice", "--json"))
    assert json.loads(gone) == []


async def test_eval_of_the_example_questions_meets_the_recall_bar(
    db: Database, tmp_path: Path
) -> None:
    _ok(await _kb(db, tmp_path, "add", str(DOCS), "--base-url", BASE_URL))
    report = json.loads(_ok(await _kb(db, tmp_path, "eval", str(QUESTIONS), "--json")))
    assert {"recall_at_1", "recall_at_5", "mrr", "misses"} <= report.keys()
    # The acceptance bar: the right page in the first five for 9 questions in 10.
    assert report["recall_at_5"] >= 0.9, report["misses"]
    assert 0 < report["recall_at_1"] <= report["recall_at_5"]
    assert 0 < report["mrr"] <= 1
    human = _ok(await _kb(db, tmp_path, "eval", str(QUESTIONS)))
    assert "recall@5" in human
    assert f"recall@5  {report['recall_at_5']:.2f}" in human


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("remove", "nope"), "`supportbot kb list`"),
        (("add", "/no/such/folder"), "no such file or folder: /no/such/folder"),
        (("eval", "questions.jsonl"), "line 2"),
    ],
    ids=["remove-unknown", "add-missing", "eval-malformed"],
)
async def test_a_refused_command_says_why_in_one_line(
    db: Database, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    good = json.dumps({"question": "How do refunds work?", "sources": ["billing.md"]})
    (tmp_path / "questions.jsonl").write_text(f"{good}\nnot json at all\n{good}\n")
    line = _one_line_error(await _kb(db, tmp_path, *args))
    assert expected in line
    assert line.startswith("Error: ")


async def test_a_workspaces_docs_are_found_only_in_that_workspace(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "acme-docs"
    folder.mkdir()
    (folder / "shipping.md").write_text(
        "# Shipping\n\nParcels to the Faroe Islands leave our warehouse every Tuesday and "
        "arrive within nine working days.\n",
        encoding="utf-8",
    )
    _ok(await _kb(db, tmp_path, "add", str(folder), "--workspace", "T_ONE"))
    query = "when do parcels to the Faroe Islands arrive"
    found = json.loads(
        _ok(await _kb(db, tmp_path, "search", query, "--workspace", "T_ONE", "--json"))
    )
    assert [hit["source"] for hit in found][:1] == ["shipping.md"]
    other = json.loads(
        _ok(await _kb(db, tmp_path, "search", query, "--workspace", "T_TWO", "--json"))
    )
    assert other == []


async def test_triage_eval_reports_what_the_docs_would_answer(db: Database, tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text(
        json.dumps(
            {
                "text": "I was charged twice for my plan this month",
                "category": "billing",
                "urgency": "medium",
                "needs_human": False,
            }
        )
        + "\n"
        + json.dumps(
            {
                "text": "what's the best recipe for banana bread?",
                "category": "other",
                "urgency": "low",
                "needs_human": False,
            }
        )
        + "\n"
    )
    before = json.loads(
        _ok(
            await run_cli(
                "eval", str(labelled), "--json", cwd=tmp_path, env=clean_env(DATABASE_URL=db.url)
            )
        )
    )
    assert before["knowledge"] is None  # no knowledge base yet
    _ok(await _kb(db, tmp_path, "add", str(DOCS)))
    report = json.loads(
        _ok(
            await run_cli(
                "eval", str(labelled), "--json", cwd=tmp_path, env=clean_env(DATABASE_URL=db.url)
            )
        )
    )
    assert report["knowledge"]["answered_with_sources"] == 1
    assert report["knowledge"]["abstained"] == 1
