"""Who the bot is, which team it serves, who the leads are, and which team a payload
belongs to.

The identity comes from one `auth.test` at start (`authorize`). A payload's team is
the one Bolt authorizes (`slack_bolt.request.internals.extract_team_id`): for Events API
envelopes that is `authorizations[0].team_id`, the team that installed the app, not the
top-level `team_id`, which in a Slack Connect channel is the other org's. Slash commands
carry `team_id`; interactivity carries `team.id`, with `user.team_id` only as a fallback.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import AdapterStartError
from bot.events import Actor, Platform

__all__ = [
    "IdentityUnknown",
    "SlackIds",
    "authorize",
    "enterprise_of",
    "team_of",
    "workspace_of",
]

log = logging.getLogger(__name__)

GROUP_REFRESH_SECONDS = 300.0


class IdentityUnknown(RuntimeError):
    """A request arrived before `auth.test` said who the bot is; bolt answers 500."""


class SlackIds:
    """Who the bot is and whom it should listen to; filled from `auth.test` and settings."""

    def __init__(
        self,
        *,
        bot_user_id: str = "",
        allowed_bot_ids: tuple[str, ...] = (),
        lead_group_id: str | None = None,
        team_group_ids: tuple[str, ...] = (),
        team_id: str | None = None,
    ) -> None:
        self.bot_user_id = bot_user_id
        self.bot_id = ""
        self.team_id = team_id
        """The team the bot serves (auth.test's); None until known, and then no filter."""
        self.enterprise_id: str | None = None
        self.enterprise_install = False
        self.allowed_bot_ids = allowed_bot_ids
        self.lead_group_id = lead_group_id
        self.lead_group_members: frozenset[str] = frozenset()
        self.team_group_ids = tuple(g for g in team_group_ids if g != lead_group_id)
        """The teams' own user groups (the playbook's `slack_usergroup_id`s)."""
        self.team_group_members: dict[str, frozenset[str]] = {}
        self._group_loaded_at: float | None = None

    def actor(self, user_id: str, name: str = "", *, is_bot: bool = False) -> Actor:
        """An Actor with the lead group, and each team's group, the user is in as roles."""
        groups = [(self.lead_group_id, self.lead_group_members), *self.team_group_members.items()]
        roles = tuple(group for group, members in groups if group and user_id in members)
        return Actor(
            platform=Platform.SLACK, user_id=user_id, display_name=name, is_bot=is_bot, roles=roles
        )

    def serves(self, body: dict[str, Any]) -> bool:
        """Whether the payload belongs to the team (or, org-wide, the org) the bot serves.

        Before the served team is known nothing is filtered (pure translation in tests).
        """
        if self.enterprise_install:
            return enterprise_of(body) == self.enterprise_id
        return self.team_id is None or team_of(body) == self.team_id

    def learn(self, auth: dict[str, Any]) -> None:
        """Take the identity an `auth.test` answered."""
        self.bot_user_id = str(auth.get("user_id") or "")
        self.bot_id = str(auth.get("bot_id") or "")
        self.team_id = _str(auth.get("team_id")) or None
        self.enterprise_id = _str(auth.get("enterprise_id")) or None
        self.enterprise_install = auth.get("is_enterprise_install") is True

    async def refresh_lead_group(self, client: AsyncWebClient) -> None:
        """Reload the lead group's and the teams' groups' members when last read over 5
        minutes ago; on a failure keep the members known and go on (a warning is logged)."""
        loaded = self._group_loaded_at
        fresh = loaded is not None and time.monotonic() - loaded < GROUP_REFRESH_SECONDS
        if not (self.lead_group_id or self.team_group_ids) or fresh:
            return
        self._group_loaded_at = time.monotonic()
        if self.lead_group_id:
            members = await _members(client, self.lead_group_id)
            if members is not None:
                self.lead_group_members = members
        for group in self.team_group_ids:
            members = await _members(client, group)
            if members is not None:
                self.team_group_members[group] = members

    def authorize_result(self, token: str | None, scopes: str | None) -> AuthorizeResult:
        """What Bolt's own single-team authorization would build from the same auth.test."""
        return AuthorizeResult(
            enterprise_id=self.enterprise_id,
            team_id=self.team_id,
            bot_user_id=self.bot_user_id,
            bot_id=self.bot_id or None,
            bot_token=token,
            bot_scopes=scopes,
        )


async def _members(client: AsyncWebClient, group: str) -> frozenset[str] | None:
    """A user group's members, or None when Slack could not say (logged)."""
    try:
        found = await client.usergroups_users_list(usergroup=group)
    except SlackApiError as exc:
        log.warning("slack.leads.group_unreadable error=%s", exc.response.get("error"))
        return None
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("slack.leads.group_unreachable error=%s", type(exc).__name__)
        return None
    return frozenset(found.get("users") or ())


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def _first_authorization(body: dict[str, Any]) -> dict[str, Any] | None:
    found = body.get("authorizations")
    if isinstance(found, list) and found and isinstance(found[0], dict):
        return found[0]
    return None


def team_of(body: dict[str, Any]) -> str | None:
    """The team Bolt would authorize for this payload, in Bolt's order of precedence."""
    view = body.get("view")
    if isinstance(view, dict) and isinstance(view.get("app_installed_team_id"), str):
        return view["app_installed_team_id"]
    team = _id_of(body.get("team"))
    if team:
        return team
    first = _first_authorization(body)
    if first is not None:
        return team_of(first)
    if "team_id" in body:
        return body["team_id"] if isinstance(body["team_id"], str) else None
    for nested in ("event", "user", "view"):
        part = body.get(nested)
        if isinstance(part, dict):
            return team_of(part) if nested == "event" else _str(part.get("team_id"))
    return None


def enterprise_of(body: dict[str, Any]) -> str | None:
    """The org (Enterprise Grid) Bolt would authorize for this payload, if any."""
    org = _id_of(body.get("enterprise"))
    if org:
        return org
    first = _first_authorization(body)
    if first is not None:
        return enterprise_of(first)
    if "enterprise_id" in body:
        return _str(body["enterprise_id"])
    team = body.get("team")
    if isinstance(team, dict) and "enterprise_id" in team:
        return _str(team["enterprise_id"])
    event = body.get("event")
    return enterprise_of(event) if isinstance(event, dict) else None


def workspace_of(body: dict[str, Any]) -> str:
    """The `Place.workspace_id` of a payload: its team, or its org for org-wide installs."""
    return team_of(body) or enterprise_of(body) or ""


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


async def authorize(client: AsyncWebClient, api_url: str) -> tuple[dict[str, Any], str | None]:
    """`auth.test` with the bot token: its answer and the token's scopes.

    Raises:
        AdapterStartError: Slack refused the token or could not be reached.
    """
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        raise AdapterStartError(
            f"slack: auth.test failed ({error or 'not ok'}); check SLACK_BOT_TOKEN (xoxb-...)"
        ) from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise AdapterStartError(
            f"slack: cannot reach Slack at {api_url} for auth.test ({type(exc).__name__}); "
            "check SLACK_API_URL and the network"
        ) from None
    data = auth.data if isinstance(auth.data, dict) else {}
    if not data.get("user_id"):
        raise AdapterStartError(
            "slack: auth.test did not say who the bot is; check SLACK_BOT_TOKEN"
        )
    scopes = auth.headers.get("x-oauth-scopes") or auth.headers.get("X-OAuth-Scopes")
    return data, scopes
