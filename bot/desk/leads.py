"""Who the support leads are: named by user id, or holding a lead role.

The desk's leads work every escalation of their workspace. A playbook team's leads
(its `lead_user_ids`, `lead_role_ids` and Slack user group) work that team's tickets
as leads do, and only those, in the workspace whose playbook names the team.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.config.playbook import Team
from bot.events import Actor, Platform

__all__ = ["Leads"]


@dataclass(frozen=True)
class Leads:
    """The lead user ids and role ids (Discord roles, the Slack lead user group)."""

    user_ids: frozenset[str] = frozenset()
    role_ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, user_ids: Iterable[str], role_ids: Iterable[str]) -> Leads:
        """Leads from any iterables of ids."""
        return cls(frozenset(user_ids), frozenset(role_ids))

    @classmethod
    def of_team(cls, team: Team) -> Leads:
        """A team's leads: its users, its roles and its Slack user group."""
        groups = [team.slack_usergroup_id] if team.slack_usergroup_id else []
        return cls.of(team.lead_user_ids, [*team.lead_role_ids, *groups])

    def includes(self, actor: Actor) -> bool:
        """True when `actor` may work escalations; the terminal user always may."""
        if actor.platform is Platform.CONSOLE:
            return True
        return actor.user_id in self.user_ids or bool(self.role_ids & set(actor.roles))
