"""Loading settings: explicit arguments, then the environment, `.env`, a TOML file.

Precedence, highest first: explicit arguments, environment, `.env`, the TOML file
named by `--config` or `SUPPORTBOT_CONFIG`, then defaults. In TOML a setting is its
short name, at the top or in a table named after its group (`[llm]`). Platform
connection settings live with their adapters (`adapters/*/settings.py`) and load
through `load_section`, from the same sources.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values
from pydantic import AliasChoices, ValidationError

from bot import ConfigError
from bot.config.playbook import PLAYBOOK_KEYS, WORKSPACES_KEY, load_playbooks
from bot.config.sections import Section, Settings

__all__ = ["CONFIG_ENV", "load_section", "load_settings"]

CONFIG_ENV = "SUPPORTBOT_CONFIG"
S = TypeVar("S", bound=Section)


def _sources(config_file: str | Path | None) -> list[dict[str, Any]]:
    """Environment, `.env`, then TOML: each a dict of upper-cased flat names."""
    path = config_file or os.environ.get(CONFIG_ENV)
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"{CONFIG_ENV}: expected a readable TOML file, none at {path}")
    dotenv = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    sources = [dict(os.environ), dotenv]
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{CONFIG_ENV}: {path} is not valid TOML ({exc})") from None
        # The playbook's tables ([product], [[categories]], [workspaces.*]...) are not settings.
        data = {k: v for k, v in data.items() if k not in PLAYBOOK_KEYS | {WORKSPACES_KEY}}
        tables = [v for v in data.values() if isinstance(v, dict)]
        sources.append({k: v for table in [data, *tables] for k, v in table.items()})
    return [{str(k).upper(): v for k, v in source.items()} for source in sources]


def _values(cls: type[Section], sources: list[dict[str, Any]], overrides: dict[str, Any]) -> dict:
    values: dict[str, Any] = {}
    for field, info in cls.model_fields.items():
        alias = info.validation_alias
        assert isinstance(alias, AliasChoices)
        env, short = (str(choice) for choice in alias.choices)
        if short in overrides:
            values[field] = overrides.pop(short)
            continue
        found = next(
            (s[name] for s in sources for name in (env.upper(), short.upper()) if name in s), None
        )
        if found is not None:
            values[field] = found
    return values


def _explain(error: ValidationError, cls: type[Section]) -> str:
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        field = str(item["loc"][0]) if item["loc"] else ""
        name = cls.env_name(field) if field in cls.model_fields else field
        expected = item["msg"].removeprefix("Value error, ")
        lines.append(
            f"{name}: expected {expected}"
            if item["type"] == "value_error"
            else f"{name}: {expected}"
        )
    return "\n  ".join(lines)


def _build(cls: type[S], sources: list[dict[str, Any]], overrides: dict[str, Any]) -> S:
    try:
        return cls.model_validate(_values(cls, sources, overrides))
    except ValidationError as exc:
        raise ConfigError(_explain(exc, cls)) from None


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the core's validated settings.

    Args:
        config_file: a TOML file; defaults to `$SUPPORTBOT_CONFIG` when set.
        **overrides: explicit values by short name (`deepseek_api_key=...`), for tests.

    Raises:
        ConfigError: a setting is wrong; one line per wrong setting, naming it and what
            it expects, never repeating the value.
    """
    sources, left = _sources(config_file), dict(overrides)
    groups, problems = {}, []
    for name, info in Settings.model_fields.items():
        if name == "playbooks":
            continue
        try:
            groups[name] = _build(info.annotation, sources, left)  # type: ignore[arg-type]
        except ConfigError as exc:
            problems.append(str(exc))
    playbooks = left.pop("playbooks", None)
    if playbooks is None:
        try:
            playbooks = load_playbooks(config_file or os.environ.get(CONFIG_ENV))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("invalid settings:\n  " + "\n  ".join(problems))
    return Settings(**groups, playbooks=playbooks)


def load_section(cls: type[S], config_file: str | Path | None = None, **overrides: Any) -> S:
    """Build one group of settings on its own (a platform adapter's), from the same sources.

    Raises:
        ConfigError: as `load_settings` does.
    """
    try:
        return _build(cls, _sources(config_file), dict(overrides))
    except ConfigError as exc:
        raise ConfigError(f"invalid settings:\n  {exc}") from None
