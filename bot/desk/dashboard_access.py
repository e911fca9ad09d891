"""Who may open the dashboard, and which workspaces it shows them.

A lead of a workspace is one of the desk's leads (they lead every workspace) or a lead
of one of the teams in that workspace's playbook. Pure functions: the desk asks for the
actor in front of it (roles and user groups known), the CLI for a bare user id (by id
only: roles cannot be checked offline, so role-based leads ask in chat).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.config.playbook import Playbook, Playbooks
from bot.desk.leads import Leads
from bot.events import Actor, Platform

__all__ = [
    "CONSOLE_USER",
    "CONSOLE_WORKSPACE",
    "leads_workspace",
    "workspaces_led",
    "workspaces_led_by_id",
]

CONSOLE_WORKSPACE = "local"
"""The terminal channel's workspace id (`adapters.console.WORKSPACE`; a test keeps the
two equal, since the core does not import adapters)."""
CONSOLE_USER = "you"
"""The terminal's user, a lead of the terminal's tickets."""


def leads_workspace(leads: Leads, playbook: Playbook, actor: Actor) -> bool:
    """True when `actor` leads the workspace whose playbook is `playbook`: a desk lead,
    or a lead of one of its teams (by user id, role or Slack user group)."""
    if leads.includes(actor):
        return True
    return any(Leads.of_team(team).includes(actor) for team in playbook.teams)


def workspaces_led(
    leads: Leads, playbooks: Playbooks, actor: Actor, candidates: Iterable[str]
) -> tuple[str, ...]:
    """Those of `candidates` (workspace ids) that `actor` leads, sorted."""
    return tuple(
        sorted(
            workspace
            for workspace in set(candidates)
            if leads_workspace(leads, playbooks.for_workspace(workspace), actor)
        )
    )


def workspaces_led_by_id(
    leads: Leads,
    playbooks: Playbooks,
    *,
    platform: Platform,
    user_id: str,
    workspace: str | None,
    seen: Iterable[str],
) -> tuple[str, ...]:
    """The workspaces a user id leads, for a login link made on the command line.

    Args:
        workspace: the one workspace asked for, or None for every one found.
        seen: workspace ids of this platform's tickets (where a desk lead leads).

    Returns:
        The workspaces, sorted; empty when the user leads none of them. On the terminal
        channel only its user (`you`) leads, and only the terminal's workspace.
    """
    if platform is Platform.CONSOLE:
        led = user_id == CONSOLE_USER and workspace in (None, CONSOLE_WORKSPACE)
        return (CONSOLE_WORKSPACE,) if led else ()
    actor = Actor(platform=platform, user_id=user_id)
    if workspace is not None:
        return workspaces_led(leads, playbooks, actor, [workspace])
    # A workspace with no tickets yet counts where its own playbook names this user.
    named = [
        workspace_id
        for workspace_id, playbook in playbooks.workspaces.items()
        if any(user_id in team.lead_user_ids for team in playbook.teams)
    ]
    return workspaces_led(leads, playbooks, actor, [*seen, *named])
