"""`supportbot config check`: everything wrong with a configuration file, one line each.

A typo in a TOML key would otherwise be silently ignored (a setting keeps its default,
a category list is not read), so unknown keys are problems here, alongside bad values
of settings and of the playbook. Each line names the key as written in the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import AliasChoices

from bot import ConfigError
from bot.config.base import Section
from bot.config.loader import load_section, load_settings
from bot.config.playbook import PLAYBOOK_KEYS, WORKSPACES_KEY, Playbooks, playbook_problems
from bot.config.sections import Settings

__all__ = ["ConfigReport", "check_config"]


@dataclass(frozen=True)
class ConfigReport:
    """What `check_config` found: problems (one line each), or the playbooks it builds."""

    path: Path
    problems: list[str]
    playbooks: Playbooks | None


def _names(sections: Iterable[type[Section]]) -> set[str]:
    names: set[str] = set()
    for cls in sections:
        for info in cls.model_fields.values():
            alias = info.validation_alias
            assert isinstance(alias, AliasChoices)
            names.update(str(choice).lower() for choice in alias.choices)
    return names


def _unknown_keys(data: dict[str, Any], groups: dict[str, type[Section]]) -> list[str]:
    settings = _names(groups.values())
    problems = []
    for key, value in data.items():
        if key in PLAYBOOK_KEYS or key == WORKSPACES_KEY:
            continue
        if key in groups and isinstance(value, dict):
            own = _names([groups[key]])
            problems += [
                f"{key}.{inner}: is not a {key} setting"
                for inner in value
                if inner.lower() not in own
            ]
        elif key.lower() not in settings:
            problems.append(f"{key}: is not a known setting or playbook key")
    return problems


def _settings_problems(path: Path, extensions: dict[str, type[Section]]) -> list[str]:
    problems = []
    for load in (
        lambda: load_settings(path, playbooks=Playbooks()),
        *(lambda cls=cls: load_section(cls, path) for cls in extensions.values()),
    ):
        try:
            load()
        except ConfigError as exc:
            problems += [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
    return problems


def check_config(
    path: str | Path, extensions: dict[str, type[Section]] | None = None
) -> ConfigReport:
    """Validate a TOML configuration file: settings, platform settings and the playbook.

    Args:
        path: the TOML file.
        extensions: the platform adapters' settings groups by table name
            (`{"slack": SlackSettings}`), so their keys count as known.

    Returns:
        The problems, one line per problem naming its key (none when the file is
        good), and the playbooks when there were none.
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return ConfigReport(file, [f"{file}: cannot be read ({exc.__class__.__name__})"], None)
    except tomllib.TOMLDecodeError as exc:
        return ConfigReport(file, [f"{file}: is not valid TOML ({exc})"], None)
    groups: dict[str, type[Section]] = {
        name: info.annotation  # type: ignore[misc]
        for name, info in Settings.model_fields.items()
        if name != "playbooks"
    }
    groups.update(extensions or {})
    problems = _unknown_keys(data, groups)
    problems += _settings_problems(file, extensions or {})
    playbooks, playbook_lines = playbook_problems(data)
    return ConfigReport(file, problems + playbook_lines, playbooks)
