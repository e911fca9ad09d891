"""`supportbot config check`: one line per problem naming the key; hashes of good prompts."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli_runner import clean_env, run_cli

EXAMPLE = Path(__file__).parents[2] / "examples" / "playbook.toml"
HASH_LINE = re.compile(r"^\s+prompt (\w+)\s+([0-9a-f]{12})$", re.MULTILINE)


async def test_the_example_configuration_checks_out_with_its_prompt_hashes(
    tmp_path: Path,
) -> None:
    outcome = await run_cli("config", "check", str(EXAMPLE), cwd=tmp_path, env=clean_env())
    assert outcome.code == 0, outcome.stderr
    assert f"{EXAMPLE}: ok" in outcome.stdout
    assert "default: 6 categories (orders, returns, payments" in outcome.stdout
    assert "workspace T0WHOLESALE: 6 categories" in outcome.stdout
    hashes = HASH_LINE.findall(outcome.stdout)
    names = {name for name, _ in hashes}
    assert {"triage", "answer"} <= names
    # The wholesale workspace speaks differently: its answer prompt differs, triage doesn't.
    by_name: dict[str, list[str]] = {}
    for name, digest in hashes:
        by_name.setdefault(name, []).append(digest)
    assert by_name["answer"][0] != by_name["answer"][1]
    # Generated deterministically: a second run prints the same hashes.
    again = await run_cli("config", "check", str(EXAMPLE), cwd=tmp_path, env=clean_env())
    assert HASH_LINE.findall(again.stdout) == hashes


async def test_a_bad_configuration_gets_one_line_per_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        """
llm_max_attempts = 9
[leads]
sla_hgh_minutes = 5
[[categoies]]
name = "x"
[[categories]]
name = "Crash"
description = "the game crashes"
[[routes]]
route = "sideways"
""",
        encoding="utf-8",
    )
    outcome = await run_cli("config", "check", str(path), cwd=tmp_path, env=clean_env())
    assert outcome.code == 2
    assert "Traceback" not in outcome.stderr
    problems = [line.strip() for line in outcome.stderr.splitlines() if line.startswith("  ")]
    keys = [line.partition(":")[0] for line in problems]
    assert "SUPPORTBOT_LLM_MAX_ATTEMPTS" in keys
    assert "leads.sla_hgh_minutes" in keys
    assert "categoies" in keys
    assert "categories[1].name" in keys
    assert "routes[1].route" in keys
    assert len(problems) == 5, problems


async def test_check_without_a_file_says_how_to_name_one(tmp_path: Path) -> None:
    outcome = await run_cli("config", "check", cwd=tmp_path, env=clean_env())
    assert outcome.code == 2
    assert "supportbot config check FILE" in outcome.stderr


async def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[product\nname = 1", encoding="utf-8")
    outcome = await run_cli("config", "check", str(path), cwd=tmp_path, env=clean_env())
    assert outcome.code == 2
    assert "is not valid TOML" in outcome.stderr
    assert "Traceback" not in outcome.stderr
