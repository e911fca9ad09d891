"""The desk's playbook: taxonomy, product, teams, routing rules and where the bot listens.

Read from the same TOML file as the settings (`SUPPORTBOT_CONFIG`), from these
top-level keys; any of them may be overridden for one Slack workspace or Discord
guild under `[workspaces.<ID>]`: a table (`product`, `listen`) is merged key by key,
an array (`categories`, `urgencies`, `teams`, `routes`) replaces the default's.

    [product]                 name, description, tone, languages, rules
    [[categories]]            name, description, keywords, examples, needs_human, formerly
    [[urgencies]]             name (high|medium|low), definition, label, cues
    [[teams]]                 name, channel / slack_channel / discord_channel, leads, SLA, assign
    [[routes]]                category, urgency, text, evidence, needs_human -> route, team
    [listen]                  allow_channels, deny_channels, help_channels, forum_channels
    [workspaces.T0123]        any of the above, for that workspace only
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot import ConfigError
from bot.config.product import DEFAULT_PRODUCT, Product
from bot.config.routing import RoutingRule
from bot.config.taxonomy import DEFAULT_TAXONOMY, Taxonomy, check_name

__all__ = [
    "DEFAULT_PLAYBOOK",
    "PLAYBOOK_KEYS",
    "Listening",
    "Playbook",
    "Playbooks",
    "Team",
    "load_playbooks",
    "playbook_problems",
]

PLAYBOOK_KEYS = frozenset(
    {"product", "categories", "urgencies", "fallback_category", "teams", "routes", "listen"}
)
"""Top-level TOML keys that belong to the playbook, not to the settings."""
WORKSPACES_KEY = "workspaces"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Team(_Frozen):
    """A group of leads with their own channel, people and SLA."""

    name: str
    description: str = Field(default="", max_length=200)
    channel: str | None = None
    """The team's leads channel on any platform (the terminal's, or a single-platform desk)."""
    slack_channel: str | None = None
    discord_channel: str | None = None
    lead_user_ids: tuple[str, ...] = ()
    """The team's leads; assignment suggestions pick among them."""
    lead_role_ids: tuple[str, ...] = ()
    """Discord roles whose members lead this team."""
    slack_usergroup_id: str | None = None
    """The Slack user group pinged on this team's escalations."""
    sla_high_minutes: int | None = Field(default=None, ge=1)
    sla_medium_minutes: int | None = Field(default=None, ge=1)
    sla_low_business_days: int | None = Field(default=None, ge=1)
    assign: Literal["none", "round_robin", "least_loaded"] = "none"
    """How the card suggests an assignee among `lead_user_ids`."""

    _name = field_validator("name")(lambda value: check_name(value))

    def channel_for(self, platform: str) -> str | None:
        """The team's leads channel on `platform` ("slack", "discord", "console")."""
        specific = {"slack": self.slack_channel, "discord": self.discord_channel}.get(platform)
        return specific or self.channel


class Listening(_Frozen):
    """Where the bot opens tickets. Channel ids; empty lists mean "no restriction"."""

    allow_channels: tuple[str, ...] = ()
    """Only these channels (empty: every channel the bot is in)."""
    deny_channels: tuple[str, ...] = ()
    """Never these channels, even when mentioned there."""
    help_channels: tuple[str, ...] = ()
    """Every top-level message here opens a ticket, no mention needed."""
    forum_channels: tuple[str, ...] = ()
    """Discord forum channels: each new post is a ticket."""

    def allows(self, channel_id: str) -> bool:
        """Whether the bot may open tickets in `channel_id` at all."""
        if channel_id in self.deny_channels:
            return False
        if not self.allow_channels:
            return True
        return (
            channel_id in self.allow_channels
            or channel_id in self.help_channels + self.forum_channels
        )

    def opens_without_mention(self, channel_id: str) -> bool:
        """Whether a new top-level message (or forum post) in `channel_id` is a ticket."""
        return self.allows(channel_id) and (
            channel_id in self.help_channels or channel_id in self.forum_channels
        )

    def ask_in(self) -> tuple[str, ...]:
        """Where to send someone who mentions the bot in a channel it takes no tickets
        in: the help and forum channels it listens in, in the order configured."""
        listed = dict.fromkeys(self.help_channels + self.forum_channels)
        return tuple(channel for channel in listed if self.allows(channel))


class Playbook(_Frozen):
    """Everything one workspace's desk is configured with."""

    taxonomy: Taxonomy = DEFAULT_TAXONOMY
    product: Product = DEFAULT_PRODUCT
    teams: tuple[Team, ...] = ()
    routes: tuple[RoutingRule, ...] = ()
    listening: Listening = Listening()

    @model_validator(mode="after")
    def _references(self) -> Playbook:
        names = [team.name for team in self.teams]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"team {twice[0]!r} is defined twice")
        for number, rule in enumerate(self.routes, start=1):
            for category in rule.category:
                if self.taxonomy.category(category) is None:
                    raise ValueError(
                        f"routes[{number}].category: {category!r} is not one of the categories"
                    )
            if rule.team is not None and rule.team not in names:
                raise ValueError(f"routes[{number}].team: {rule.team!r} is not one of the teams")
        return self

    def team(self, name: str | None) -> Team | None:
        """The team called `name`, or None (a team since removed reads as no team)."""
        return next((team for team in self.teams if team.name == name), None)


DEFAULT_PLAYBOOK = Playbook()


class Playbooks(_Frozen):
    """The default playbook and each workspace's own, looked up by workspace id."""

    default: Playbook = DEFAULT_PLAYBOOK
    workspaces: dict[str, Playbook] = Field(default_factory=dict)
    """Slack team or Discord guild id -> its playbook (the default with its overrides)."""

    def for_workspace(self, workspace_id: str | None) -> Playbook:
        """The playbook of a Slack team or Discord guild (the default one when it has none)."""
        if workspace_id is None:
            return self.default
        return self.workspaces.get(workspace_id, self.default)

    def all(self) -> dict[str, Playbook]:
        """Every playbook by workspace id, "" for the default."""
        return {"": self.default, **self.workspaces}


def _playbook_data(table: Mapping[str, Any]) -> dict[str, Any]:
    """TOML keys -> the `Playbook` model's shape."""
    data: dict[str, Any] = {}
    taxonomy = {
        field: table[key]
        for key, field in (
            ("categories", "categories"),
            ("urgencies", "urgencies"),
            ("fallback_category", "fallback"),
        )
        if key in table
    }
    if taxonomy:
        data["taxonomy"] = taxonomy
    for key, field in (
        ("product", "product"),
        ("teams", "teams"),
        ("routes", "routes"),
        ("listen", "listening"),
    ):
        if key in table:
            data[field] = table[key]
    return data


def _merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


_TOML_NAMES = {"taxonomy": "", "listening": "listen", "fallback": "fallback_category"}


def _where(prefix: str, loc: tuple[Any, ...]) -> str:
    """A pydantic error location as the TOML key a person wrote: `categories[2].name`."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item + 1}]"]
            continue
        name = _TOML_NAMES.get(str(item), str(item))
        if name and not name.startswith(("function-", "tuple[", "literal[")):
            parts.append(name)
    key = ".".join(part for part in parts if part)
    return f"{prefix}{key}" if key else prefix.rstrip(".") or "playbook"


def _explain(error: ValidationError, prefix: str) -> list[str]:
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a known key"
        lines.append(f"{_where(prefix, item['loc'])}: {message}")
    return lines


def playbook_problems(data: Mapping[str, Any]) -> tuple[Playbooks | None, list[str]]:
    """Build the playbooks from a parsed TOML document, or say what is wrong.

    Returns:
        The playbooks (None when there are problems) and one line per problem, each
        naming the TOML key (`categories[2].name: ...`, `workspaces.T1.routes[1].team: ...`).
    """
    base = _playbook_data(data)
    problems: list[str] = []
    default: Playbook | None = None
    try:
        default = Playbook.model_validate(base)
    except ValidationError as exc:
        problems += _explain(exc, "")
    workspaces: dict[str, Playbook] = {}
    per_workspace = data.get(WORKSPACES_KEY, {})
    if not isinstance(per_workspace, dict):
        return None, [*problems, f"{WORKSPACES_KEY}: expected tables named by workspace id"]
    for workspace_id, table in per_workspace.items():
        prefix = f"{WORKSPACES_KEY}.{workspace_id}."
        if not isinstance(table, dict):
            problems.append(f"{prefix.rstrip('.')}: expected a table")
            continue
        unknown = sorted(set(table) - PLAYBOOK_KEYS)
        problems += [f"{prefix}{key}: is not a known key" for key in unknown]
        try:
            merged = _merged(base, _playbook_data(table))
            workspaces[str(workspace_id)] = Playbook.model_validate(merged)
        except ValidationError as exc:
            inherited = {line.partition(": ")[0] for line in problems}
            problems += [
                line
                for line in _explain(exc, prefix)
                if line.removeprefix(prefix).partition(": ")[0] not in inherited
            ]
    if problems or default is None:
        return None, problems
    return Playbooks(default=default, workspaces=workspaces), []


def load_playbooks(path: str | Path | None) -> Playbooks:
    """The playbooks in the TOML file at `path` (the defaults when `path` is None).

    Raises:
        ConfigError: the file cannot be read, or one line per problem naming its key.
    """
    if path is None:
        return Playbooks()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc})") from None
    playbooks, problems = playbook_problems(data)
    if playbooks is None:
        raise ConfigError("invalid playbook in " + f"{path}:\n  " + "\n  ".join(problems))
    return playbooks
