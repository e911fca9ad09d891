"""Where each workspace's leads hear of escalations, reminders and digests.

A channel is set per workspace (`TEAM:CHANNEL`) or bare. A bare channel belongs to
one workspace only, the one the adapter learns it lives in (Slack: the workspace of
the bot token; Discord: the guild the channel is in), and applies to nobody until
the adapter has told us (`bind`). So a ticket from a workspace with no leads
channel of its own is never announced in another's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.events import Place, Platform

__all__ = ["LeadsChannels"]

log = logging.getLogger(__name__)


class LeadsChannels:
    """Leads channels by platform and workspace."""

    def __init__(self, channels: Mapping[Platform, Mapping[str, str]]) -> None:
        """`channels`: per platform, workspace id -> channel id, "" for the bare one."""
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

    def bare(self, platform: Platform) -> str | None:
        """The platform's bare leads channel, bound or not (for adapters to resolve)."""
        return self._bare.get(platform)

    def bind(self, platform: Platform, workspace_id: str) -> None:
        """The bare channel of `platform` lives in `workspace_id` (an adapter found out)."""
        if platform in self._bare:
            self._bound[platform] = workspace_id
            log.info("leads.channel.bound platform=%s workspace=%s", platform, workspace_id)

    def place(self, platform: str, workspace_id: str) -> Place | None:
        """Where this workspace's leads are told things, or None when it has no channel."""
        key = Platform(platform)
        channel = self._exact.get((key, workspace_id))
        # The terminal channel has one workspace; elsewhere the bare id must be bound.
        bound = key is Platform.CONSOLE or self._bound.get(key) == workspace_id
        if channel is None and key in self._bare and bound:
            channel = self._bare[key]
        if channel is None:
            return None
        return Place(platform=key, workspace_id=workspace_id, channel_id=channel)
