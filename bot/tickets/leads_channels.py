"""Where each workspace's leads hear of escalations, reminders and digests.

A channel is set per workspace (`TEAM:CHANNEL`) or bare. A bare channel belongs to
one workspace only, the one the adapter learns it lives in (Slack: the workspace of
the bot token; Discord: the guild the channel is in), and applies to nobody until
the adapter has told us (`bind`). So a ticket from a workspace with no leads
channel of its own is never announced in another's.

A playbook team may have a leads channel of its own: its tickets' cards and notices
go there instead. A team configured for one workspace (`[workspaces.<ID>]`) has its
channel in that workspace. A team of the default playbook is shared by every
workspace, but its channel lives in one: the home workspace, where the bare leads
channel is bound (or the one workspace given a leads channel, when there is no bare
one). Other workspaces' tickets of that team go to their own leads channel.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.config.playbook import Playbooks, Team
from bot.events import Place, Platform

__all__ = ["LeadsChannels"]

log = logging.getLogger(__name__)


class LeadsChannels:
    """Leads channels by platform and workspace, and the playbook teams' own."""

    def __init__(
        self, channels: Mapping[Platform, Mapping[str, str]], playbooks: Playbooks | None = None
    ) -> None:
        """`channels`: per platform, workspace id -> channel id, "" for the bare one;
        `playbooks`: where the teams' channels come from."""
        self._exact = {
            (platform, workspace): channel
            for platform, per_workspace in channels.items()
            for workspace, channel in per_workspace.items()
            if workspace
        }
        self._bare = {
            platform: per_workspace[""]
            for platform, per_workspace in channels.items()
            if per_workspace.get("")
        }
        self._bound: dict[Platform, str] = {}
        self._playbooks = playbooks or Playbooks()

    def bare(self, platform: Platform) -> str | None:
        """The platform's bare leads channel, bound or not (for adapters to resolve)."""
        return self._bare.get(platform)

    def bind(self, platform: Platform, workspace_id: str) -> None:
        """The bare channel of `platform` lives in `workspace_id` (an adapter found out)."""
        if platform in self._bare:
            self._bound[platform] = workspace_id
            log.info("leads.channel.bound platform=%s workspace=%s", platform, workspace_id)

    def place(self, platform: str, workspace_id: str, team: str | None = None) -> Place | None:
        """Where this workspace's leads (or `team`'s, when it has a channel there) are
        told things, or None when there is no channel for them."""
        key = Platform(platform)
        channel = self._team_channel(key, workspace_id, team)
        if channel is None:
            channel = self._exact.get((key, workspace_id))
        # The terminal channel has one workspace; elsewhere the bare id must be bound.
        if channel is None and key in self._bare and self._is_home(key, workspace_id):
            channel = self._bare[key]
        if channel is None:
            return None
        return Place(platform=key, workspace_id=workspace_id, channel_id=channel)

    def _team_channel(self, platform: Platform, workspace_id: str, name: str | None) -> str | None:
        team = self._playbooks.for_workspace(workspace_id).team(name)
        channel = team.channel_for(platform) if team is not None else None
        if team is None or channel is None:
            return None
        if self._own(workspace_id, team) or self._is_home(platform, workspace_id):
            return channel
        log.info(
            "leads.team_channel.elsewhere platform=%s workspace=%s team=%s",
            platform,
            workspace_id,
            team.name,
        )
        return None

    def _own(self, workspace_id: str, team: Team) -> bool:
        """Whether `team` was configured for this workspace, not shared from the default."""
        return (
            workspace_id in self._playbooks.workspaces and team not in self._playbooks.default.teams
        )

    def _is_home(self, platform: Platform, workspace_id: str) -> bool:
        """The workspace the platform's shared channels live in."""
        if platform is Platform.CONSOLE or self._bound.get(platform) == workspace_id:
            return True
        if platform in self._bare:
            return False
        named = [ws for (p, ws) in self._exact if p is platform]
        return named == [workspace_id]
