"""Who is looking at the dashboard, and what they may see and do."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.events import Actor, Platform

__all__ = ["VIEWER", "Viewer"]


@dataclass(frozen=True)
class Viewer:
    """A lead signed in to the dashboard: one platform identity, the workspaces they lead."""

    platform: str
    user_id: str
    workspaces: tuple[str, ...]
    """Workspace ids (Slack teams / Discord guilds / the terminal's) this lead leads."""
    csrf_token: str
    """Every form's hidden `csrf` field must carry this, or the POST is refused."""
    roles: tuple[str, ...] = ()
    """The roles the lead held when the link was issued (Discord roles, Slack groups),
    so the desk's permission checks see the same lead as in chat."""
    display_name: str = ""

    def sees(self, platform: str, workspace_id: str) -> bool:
        """Whether a ticket (or row) of `platform`/`workspace_id` is this lead's to see."""
        return platform == self.platform and workspace_id in self.workspaces

    def actor(self) -> Actor:
        """The lead as the desk knows them, for actions taken on the dashboard."""
        return Actor(
            platform=Platform(self.platform),
            user_id=self.user_id,
            display_name=self.display_name,
            roles=self.roles,
        )


VIEWER = web.RequestKey("dashboard.viewer", Viewer)
"""The request key under which the session middleware leaves the signed-in `Viewer`."""
