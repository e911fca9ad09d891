"""The playbook from the config file: defaults, per-workspace overrides, problems by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import ConfigError
from bot.config import load_settings
from bot.config.playbook import Listening, Playbooks, load_playbooks
from bot.config.taxonomy import DEFAULT_TAXONOMY, Taxonomy

EXAMPLE = Path(__file__).parents[2] / "examples" / "playbook.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "supportbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_todays_five_categories() -> None:
    playbooks = load_playbooks(None)
    assert playbooks.default.taxonomy.names == (
        "billing",
        "bug",
        "feature_request",
        "account",
        "other",
    )
    assert playbooks.for_workspace("T-anything") is playbooks.default


def test_the_example_playbook_loads_with_its_workspace_override() -> None:
    playbooks = load_playbooks(EXAMPLE)
    default = playbooks.default
    assert default.taxonomy.names[:3] == ("orders", "returns", "payments")
    assert default.taxonomy.category("billing").name == "payments"  # formerly
    assert default.team("payments").channel_for("slack") == "C0PAYMENTS"
    wholesale = playbooks.for_workspace("T0WHOLESALE")
    # A table merges key by key: the override's tone, the default's description.
    assert wholesale.product.tone == "formal and precise"
    assert wholesale.product.description == default.product.description
    assert wholesale.listening.allow_channels == ("C0TRADE",)
    assert wholesale.taxonomy == default.taxonomy  # not overridden: inherited
    assert playbooks.for_workspace("T0RETAIL") == default


def test_an_array_in_a_workspace_replaces_the_default_one(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[[categories]]
name = "crash"
description = "the game crashes"
[[workspaces.G2.categories]]
name = "purchases"
description = "in-game purchases"
""",
    )
    playbooks = load_playbooks(path)
    assert playbooks.default.taxonomy.names == ("crash",)
    assert playbooks.for_workspace("G2").taxonomy.names == ("purchases",)
    assert playbooks.for_workspace("G2").taxonomy.fallback_category == "purchases"


def test_every_problem_is_one_line_naming_its_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[[categories]]
name = "Crash Reports"
description = "x"
[[categories]]
name = "other"
[[urgencies]]
name = "critical"
definition = "now"
[listen]
help_channel = ["C1"]
[[workspaces.T2.routes]]
team = "nobody"
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_playbooks(path)
    lines = str(caught.value).splitlines()[1:]
    keys = [line.strip().partition(":")[0] for line in lines]
    assert "categories[1].name" in keys
    assert "categories[2].description" in keys
    assert "urgencies" in keys
    assert "listen.help_channel" in keys
    assert all("Traceback" not in line for line in lines)


def test_routes_must_name_categories_and_teams_that_exist(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[[teams]]
name = "billing"
[[routes]]
category = ["refunds"]
route = "human"
[[workspaces.T2.routes]]
team = "nobody"
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_playbooks(path)
    text = str(caught.value)
    assert "routes[1].category: 'refunds' is not one of the categories" in text
    assert "workspaces.T2" in text
    assert "'nobody' is not one of the teams" in text


def test_playbook_tables_are_not_read_as_settings(tmp_path: Path) -> None:
    # [product] has a `name`, [listen] lists: none of it may leak into the settings.
    path = _write(tmp_path, f"sla_high_minutes = 30\n{EXAMPLE.read_text(encoding='utf-8')}")
    settings = load_settings(path)
    assert settings.leads.sla_high_minutes == 30
    assert settings.playbooks.default.product.name == "Hearth & Loom"


def test_a_bad_playbook_stops_load_settings_with_its_key(tmp_path: Path) -> None:
    path = _write(tmp_path, '[[teams]]\nname = "Billing Team"\n')
    with pytest.raises(ConfigError, match=r"teams\[1\]\.name"):
        load_settings(path)


def test_settings_given_playbooks_keep_them() -> None:
    playbooks = Playbooks()
    assert load_settings(playbooks=playbooks).playbooks is playbooks


def test_listening_lists() -> None:
    open_desk = Listening()
    assert open_desk.allows("C1")
    assert not open_desk.opens_without_mention("C1")
    listed = Listening(allow_channels=("C1",), deny_channels=("C9",), help_channels=("C2",))
    assert listed.allows("C1")
    assert listed.allows("C2")
    assert not listed.allows("C3")
    assert not listed.allows("C9")
    assert listed.opens_without_mention("C2")
    assert not listed.opens_without_mention("C1")


def test_taxonomy_names_and_renames() -> None:
    taxonomy = Taxonomy.model_validate(
        {
            "categories": [
                {"name": "payments", "description": "money", "formerly": ["billing"]},
                {"name": "crash", "description": "it crashes"},
            ]
        }
    )
    assert taxonomy.canonical("Billing") == "payments"
    assert taxonomy.canonical("feature-request") is None
    assert taxonomy.shown("billing") == "payments"
    assert taxonomy.shown("account") == "account"  # removed since: shown as stored
    assert taxonomy.fallback_category == "crash"
    assert [u.name for u in taxonomy.urgencies] == ["high", "medium", "low"]
    assert DEFAULT_TAXONOMY.fallback_category == "other"
    with pytest.raises(ValueError, match="used twice"):
        Taxonomy.model_validate(
            {
                "categories": [
                    {"name": "payments", "description": "money", "formerly": ["crash"]},
                    {"name": "crash", "description": "it crashes"},
                ]
            }
        )
