"""`supportbot eval` as an operator runs it: figures per category, a workspace's own
taxonomy with `--workspace`, and labels outside it named by line. Offline (no API
key), so the rules decide every verdict."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import clean_env, run_cli

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "eval-sample.jsonl"
DEFAULT_NAMES = ["billing", "bug", "feature_request", "account", "other"]
CONFIG = """
[workspaces.G1]
[[workspaces.G1.categories]]
name = "crash"
description = "the game closes, freezes or will not start"
keywords = ["crash", "crashes", "freezes"]
formerly = ["bug"]

[[workspaces.G1.categories]]
name = "other"
description = "anything else"
"""


def labelled(tmp_path: Path, *cases: tuple[str, str, str]) -> Path:
    path = tmp_path / "cases.jsonl"
    lines = [
        json.dumps({"text": text, "category": category, "urgency": urgency, "needs_human": True})
        for text, category, urgency in cases
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_eval_prints_one_line_per_category(tmp_path: Path) -> None:
    outcome = await run_cli("eval", str(SAMPLE), cwd=tmp_path, env=clean_env())
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    (header,) = [i for i, line in enumerate(lines) if line.startswith("category ")]
    rows = lines[header + 1 : header + 1 + len(DEFAULT_NAMES)]
    assert [row.split()[0] for row in rows] == DEFAULT_NAMES
    assert all(row.endswith("%") for row in rows)


async def test_eval_json_has_the_per_category_figures(tmp_path: Path) -> None:
    outcome = await run_cli("eval", str(SAMPLE), "--json", cwd=tmp_path, env=clean_env())
    assert outcome.code == 0, outcome.stderr
    report = json.loads(outcome.stdout)
    figures = report["per_category"]
    assert list(figures) == DEFAULT_NAMES
    assert sum(f["cases"] for f in figures.values()) == report["cases"]
    assert sum(f["correct"] for f in figures.values()) == round(
        report["accuracy"]["category"] * report["cases"]
    )


async def test_eval_with_a_workspaces_taxonomy(tmp_path: Path) -> None:
    config = tmp_path / "supportbot.toml"
    config.write_text(CONFIG, encoding="utf-8")
    cases = labelled(
        tmp_path,
        ("The game crashes when the map loads", "crash", "medium"),
        ("It freezes after the patch", "bug", "medium"),  # a former name: read as crash
        ("Hello there", "other", "low"),
    )
    outcome = await run_cli(
        "--config", str(config), "eval", str(cases), "--json", "--workspace", "G1",
        cwd=tmp_path, env=clean_env(),
    )  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    figures = json.loads(outcome.stdout)["per_category"]
    assert list(figures) == ["crash", "other"]
    assert (figures["crash"]["cases"], figures["other"]["cases"]) == (2, 1)


async def test_a_label_outside_the_workspaces_taxonomy_is_named(tmp_path: Path) -> None:
    config = tmp_path / "supportbot.toml"
    config.write_text(CONFIG, encoding="utf-8")
    cases = labelled(tmp_path, ("crash", "crash", "low"), ("refund", "billing", "low"))
    outcome = await run_cli(
        "--config", str(config), "eval", str(cases), "--workspace", "G1",
        cwd=tmp_path, env=clean_env(),
    )  # fmt: skip
    assert outcome.code == 1
    assert "line 2: category 'billing' is not one of crash, other" in outcome.stderr
    assert "Traceback" not in outcome.stderr


async def test_an_unknown_workspace_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "supportbot.toml"
    config.write_text(CONFIG, encoding="utf-8")
    outcome = await run_cli(
        "--config", str(config), "eval", str(SAMPLE), "--workspace", "G2",
        cwd=tmp_path, env=clean_env(),
    )  # fmt: skip
    assert outcome.code == 2
    assert "--workspace G2: no [workspaces.G2] in the configuration (configured: G1)" in (
        outcome.stderr
    )
